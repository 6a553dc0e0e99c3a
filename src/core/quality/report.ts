/**
 * The quality report of a dataset: merges the outcomes of its files (checked here or on
 * worker threads, see file-check.ts) in file order, then runs the checks that span files:
 * leakage of keys, content or groups between split files, and files in a referenced
 * folder that no example references.
 */
import {posix} from 'node:path'
import {addTo, FileCheck, INSTANCES, WORST, type DatasetCheck, type FileOutcome, type Problem, type SplitRow, type Tier, type WorstExample} from './file-check.js'
import type {FileRules, Rules} from './rules.js'

export {splitFromName, tierOf, TIERS, type DatasetCheck, type ExampleRef, type Problem, type Tier, type WorstExample} from './file-check.js'

export interface CheckResult {
  /** share of examples that pass, 0..100 (one decimal) */
  score: number
  passed: number
  failed: number
  threshold: number | null
  ok: boolean
}

export interface QualityReport {
  rules: string | null
  examples: number
  files: Array<{path: string; pattern: string; profile: string | null; examples: number; split: string | null}>
  checks: Partial<Record<DatasetCheck, CheckResult>>
  overall: CheckResult
  passed: boolean
  scores: {mean: number; tiers: Record<Tier, number>; silverOrBetter: number}
  problems: Problem[]
  worst: WorstExample[]
  /** files under a referenced folder that no example references */
  orphans: {count: number; paths: string[]}
  /** keys of examples failing any check (for `quality compare`), when asked for */
  failing?: string[]
}

/** The checks that failed their threshold, as `validity 91.1% < 95%`. */
export function failedChecks(r: QualityReport): string[] {
  const out: string[] = []
  for (const [name, c] of Object.entries(r.checks)) if (c && !c.ok) out.push(`${name} ${c.score.toFixed(1)}% < ${c.threshold}%`)
  if (!r.overall.ok) out.push(`overall ${r.overall.score.toFixed(1)}% < ${r.overall.threshold}%`)
  return out
}

export class QualityRun {
  private readonly outcomes: FileOutcome[] = []

  constructor(private readonly rules: Rules, readonly allPaths: Set<string>, private readonly collectFailing = false) {}

  /** Checks one file here, in this thread; `records` yields each parsed example with its line. */
  addFile(path: string, fileRules: FileRules, textual: boolean, records: Iterable<{example: Record<string, unknown>; line: number; bytes: Buffer}>): void {
    const check = new FileCheck(path, fileRules, textual, this.allPaths, this.collectFailing)
    for (const r of records) check.add(r.example, r.line, r.bytes)
    this.addOutcome(check.outcome())
  }

  /** Adds a file checked elsewhere (a worker). Outcomes are merged in the order added. */
  addOutcome(outcome: FileOutcome): void {
    this.outcomes.push(outcome)
  }

  finish(): QualityReport {
    const problems = new Map<string, Problem>()
    const note = (p: Problem) => {
      const id = `${p.check}\0${p.rule}`
      const q = problems.get(id)
      if (!q) problems.set(id, {...p, instances: p.instances.slice(0, INSTANCES)})
      else {
        q.count += p.count
        q.instances.push(...p.instances.slice(0, INSTANCES - q.instances.length))
      }
    }
    const pass = {completeness: 0, consistency: 0, validity: 0, uniqueness: 0, referential: 0}
    let examples = 0
    let referentialChecked = 0
    let scoreSum = 0
    const tiers: Record<Tier, number> = {gold: 0, silver: 0, bronze: 0, rejected: 0}
    const failing: string[] = []
    const referenced = new Map<string, Set<string>>()
    let worst: WorstExample[] = []
    for (const o of this.outcomes) {
      examples += o.examples
      for (const k of Object.keys(pass) as Array<keyof typeof pass>) pass[k] += o.pass[k]
      referentialChecked += o.referentialChecked
      scoreSum += o.scoreSum
      for (const t of Object.keys(tiers) as Tier[]) tiers[t] += o.tiers[t]
      for (const p of o.problems) note(p)
      for (const f of o.failing) failing.push(f)
      for (const [folder, names] of o.referenced) for (const n of names) addTo(referenced, folder, n)
      worst = [...worst, ...o.worst].sort((a, b) => a.score - b.score).slice(0, WORST)
    }

    // leakage between splits: a key, a content or a group found in two splits
    const splitKeys = new Map<string, Set<string>>()
    const splitContent = new Map<string, Set<string>>()
    const splitGroups = new Map<string, Set<string>>()
    for (const o of this.outcomes) {
      for (const r of o.splitRows) {
        if (r.key !== null) addTo(splitKeys, r.key, o.split!)
        addTo(splitContent, r.content, o.split!)
        for (const g of r.groups) addTo(splitGroups, g, o.split!)
      }
    }
    const inTwo = (m: Map<string, Set<string>>, k: string) => (m.get(k)?.size ?? 0) > 1
    const leakOf = (r: SplitRow) => (r.key !== null && inTwo(splitKeys, r.key) ? 'same key' : inTwo(splitContent, r.content) ? 'same content' : r.groups.some((g) => inTwo(splitGroups, g)) ? 'same group' : null)
    for (const o of this.outcomes) {
      for (const r of o.splitRows) {
        const why = leakOf(r)
        if (!why) continue
        if (!r.duplicate) pass.uniqueness--
        note({check: 'uniqueness', rule: `leakage between splits: ${why} in two splits`, count: 1, instances: [{path: o.path, line: r.line, key: r.key, detail: o.split!}]})
        if (this.collectFailing) failing.push(`${o.path}\0${r.key ?? r.line}`)
      }
    }

    const t = this.rules.thresholds
    const result = (passed: number, total: number, threshold: number | null | undefined): CheckResult => {
      const score = total === 0 ? 100 : Math.round((1000 * passed) / total) / 10
      return {score, passed, failed: total - passed, threshold: threshold ?? null, ok: threshold == null || score >= threshold}
    }
    const checks: QualityReport['checks'] = {
      completeness: result(pass.completeness, examples, t.completeness),
      consistency: result(pass.consistency, examples, t.consistency),
      validity: result(pass.validity, examples, t.validity),
      uniqueness: result(pass.uniqueness, examples, t.uniqueness),
    }
    if (referentialChecked > 0) checks.referential = result(pass.referential, referentialChecked, t.referential)
    const parts = Object.values(checks)
    const overallScore = parts.length === 0 ? 100 : Math.round((10 * parts.reduce((s, c) => s + c.score, 0)) / parts.length) / 10
    // overall.passed / failed count checks, not examples
    const checksOk = parts.filter((c) => c.ok).length
    const overall: CheckResult = {score: overallScore, passed: checksOk, failed: parts.length - checksOk, threshold: t.overall, ok: overallScore >= t.overall}

    const orphanPaths: string[] = []
    let orphans = 0
    for (const [folder, names] of referenced) {
      for (const p of this.allPaths) {
        if (posix.dirname(p) === folder && !names.has(posix.basename(p))) {
          orphans++
          if (orphanPaths.length < 20) orphanPaths.push(p)
        }
      }
    }
    if (orphans > 0) problems.set('referential\0orphans', {check: 'referential', rule: 'files in a referenced folder that no example references', count: orphans, instances: orphanPaths.slice(0, INSTANCES).map((p) => ({path: p, line: 0, key: null}))})

    const order: DatasetCheck[] = ['completeness', 'consistency', 'validity', 'uniqueness', 'referential']
    const n = examples
    return {
      rules: this.rules.source,
      examples,
      files: this.outcomes.map((o) => ({path: o.path, pattern: o.pattern, profile: o.profile, examples: o.examples, split: o.split})),
      checks,
      overall,
      passed: parts.every((c) => c.ok) && overall.ok,
      scores: {mean: n === 0 ? 0 : Math.round((10 * scoreSum) / n) / 10, tiers, silverOrBetter: n === 0 ? 0 : Math.round((1000 * (tiers.gold + tiers.silver)) / n) / 10},
      problems: [...problems.values()].sort((a, b) => order.indexOf(a.check) - order.indexOf(b.check) || b.count - a.count),
      worst,
      orphans: {count: orphans, paths: orphanPaths},
      ...(this.collectFailing ? {failing} : {}),
    }
  }
}
