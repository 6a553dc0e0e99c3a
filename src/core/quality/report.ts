/**
 * Builds a quality report from a stream of examples, file by file: the dataset checks
 * (each the share of examples that pass), per-example scores and tiers, the problems
 * grouped by rule with a few instances each, and the worst examples. Memory stays
 * bounded by the number of distinct keys, not by the data.
 */
import {createHash} from 'node:crypto'
import {posix} from 'node:path'
import {getPath, keyOf} from '../example-key.js'
import {ExampleChecker, isEmpty, type CheckName, type Issue} from './example-checks.js'
import type {FileRules, Rules} from './rules.js'

export type DatasetCheck = CheckName | 'uniqueness' | 'referential'
export type Tier = 'gold' | 'silver' | 'bronze' | 'rejected'

export interface CheckResult {
  /** share of examples that pass, 0..100 (one decimal) */
  score: number
  passed: number
  failed: number
  threshold: number | null
  ok: boolean
}

export interface ExampleRef {
  path: string
  line: number
  key: string | null
}

export interface Problem {
  check: DatasetCheck
  rule: string
  count: number
  instances: Array<ExampleRef & {detail?: string}>
}

export interface WorstExample extends ExampleRef {
  score: number
  tier: Tier
  issues: string[]
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

export const TIERS: Array<[Tier, number]> = [['gold', 90], ['silver', 75], ['bronze', 60], ['rejected', 0]]

export function tierOf(score: number): Tier {
  for (const [t, min] of TIERS) if (score >= min) return t
  return 'rejected'
}

const INSTANCES = 3
const WORST = 10
/** examples kept as candidates for the worst list (by their score before representativeness) */
const CANDIDATES = 200

interface FileState {
  path: string
  rules: FileRules
  split: string | null
  examples: number
  classCounts: Map<string, number>
}

interface Candidate extends ExampleRef {
  partial: number
  parts: {completeness: number; correctness: number; clarity: number}
  labelClass: string | null
  file: FileState
  issues: string[]
}

export class QualityRun {
  private examples = 0
  private readonly pass = {completeness: 0, consistency: 0, validity: 0, uniqueness: 0, referential: 0}
  private referentialChecked = 0
  private uniquenessFailed = 0
  private readonly problems = new Map<string, Problem>()
  private readonly files: FileState[] = []
  private candidates: Candidate[] = []
  private readonly partials: number[] = []
  private readonly classes: Array<string | null> = []
  private readonly fileOf: FileState[] = []
  private readonly failingKeys: string[] = []
  /** for leakage between splits: key, content and group → the splits holding it */
  private readonly splitKeys = new Map<string, Set<string>>()
  private readonly splitContent = new Map<string, Set<string>>()
  private readonly splitGroups = new Map<string, Set<string>>()
  private readonly splitExamples: Array<{ref: ExampleRef; split: string; key: string | null; content: string; groups: string[]}> = []
  private readonly referenced = new Map<string, Set<string>>() // folder → names referenced

  constructor(private readonly rules: Rules, private readonly allPaths: Set<string>, private readonly collectFailing = false) {}

  /** Checks one file's examples; `records` yields each parsed example with its line. */
  addFile(path: string, fileRules: FileRules, textual: boolean, records: Iterable<{example: Record<string, unknown>; line: number; bytes: Buffer}>): void {
    const checker = new ExampleChecker(fileRules, textual)
    const state: FileState = {path, rules: fileRules, split: fileRules.split ?? splitFromName(path), examples: 0, classCounts: new Map()}
    this.files.push(state)
    const seenKeys = new Set<string>()
    const seenContent = new Set<string>()
    for (const {example, line, bytes} of records) {
      state.examples++
      this.examples++
      const key = fileRules.key ? keyOf(example, fileRules.key) : null
      const ref: ExampleRef = {path, line, key}
      const verdict = checker.check(example)
      const issues: Issue[] = [...verdict.issues]

      // uniqueness inside the file
      const content = createHash('sha256').update(bytes).digest('base64')
      let unique = true
      if (key !== null) {
        if (seenKeys.has(key)) {
          unique = false
          this.note({check: 'uniqueness', rule: `duplicate key in ${path}`, detail: key}, ref)
        } else seenKeys.add(key)
      }
      if (seenContent.has(content)) {
        unique = false
        this.note({check: 'uniqueness', rule: `duplicate content in ${path}`}, ref)
      } else seenContent.add(content)
      if (!unique) this.uniquenessFailed++
      const groups = fileRules.groups.map((g) => getPath(example, g)).filter((g) => !isEmpty(g)).map((g) => `${JSON.stringify(g)}`)
      if (state.split) {
        this.splitExamples.push({ref, split: state.split, key, content, groups})
        if (key !== null) addTo(this.splitKeys, key, state.split)
        addTo(this.splitContent, content, state.split)
        for (const g of groups) addTo(this.splitGroups, g, state.split)
      }

      // referential integrity
      if (fileRules.references.length > 0) {
        this.referentialChecked++
        let ok = true
        for (const r of fileRules.references) {
          const value = getPath(example, r.field)
          if (isEmpty(value)) continue
          const target = resolveReference(path, r.dir, String(value))
          if (r.dir !== '/') addTo(this.referenced, posix.dirname(target), posix.basename(target))
          if (!this.allPaths.has(target)) {
            ok = false
            this.note({check: 'referential', rule: `${r.field} names a file that is not in the dataset`, detail: target}, ref)
          }
        }
        if (ok) this.pass.referential++
      }

      for (const i of issues) this.note(i, ref)
      const failed = new Set(issues.map((i) => i.check))
      if (!failed.has('completeness')) this.pass.completeness++
      if (!failed.has('consistency')) this.pass.consistency++
      if (!failed.has('validity')) this.pass.validity++

      const partial = 30 * verdict.completeness + 40 * verdict.correctness + 15 * verdict.clarity
      this.partials.push(partial)
      this.classes.push(verdict.labelClass)
      this.fileOf.push(state)
      if (verdict.labelClass !== null) state.classCounts.set(verdict.labelClass, (state.classCounts.get(verdict.labelClass) ?? 0) + 1)
      if (this.collectFailing && (issues.length > 0 || !unique)) this.failingKeys.push(`${path}\0${key ?? line}`)
      this.consider({...ref, partial, parts: {completeness: verdict.completeness, correctness: verdict.correctness, clarity: verdict.clarity}, labelClass: verdict.labelClass, file: state, issues: issues.map((i) => `${i.rule}${i.detail ? ` (${i.detail})` : ''}`)})
    }
  }

  private note(issue: Issue | {check: DatasetCheck; rule: string; detail?: string}, ref: ExampleRef): void {
    const id = `${issue.check}\0${issue.rule}`
    let p = this.problems.get(id)
    if (!p) this.problems.set(id, (p = {check: issue.check, rule: issue.rule, count: 0, instances: []}))
    p.count++
    if (p.instances.length < INSTANCES) p.instances.push({...ref, ...(issue.detail ? {detail: issue.detail} : {})})
  }

  private consider(c: Candidate): void {
    this.candidates.push(c)
    if (this.candidates.length >= CANDIDATES * 2) {
      this.candidates.sort((a, b) => a.partial - b.partial)
      this.candidates.length = CANDIDATES
    }
  }

  /** Representativeness: a class with at least an even share of its file gets full points. */
  private representativeness(file: FileState, labelClass: string | null): number {
    if (file.rules.labels.length === 0) return 1
    if (labelClass === null || file.examples === 0) return 0
    const even = file.examples / file.classCounts.size
    return Math.min(1, (file.classCounts.get(labelClass) ?? 0) / even)
  }

  /** Why an example scores low, beyond the checks it fails. */
  private scoreReasons(c: Candidate): string[] {
    const r = c.file.rules
    const out: string[] = []
    if (c.parts.correctness === 0 && r.validated) out.push(`no human-validated label (${r.validated.field})`)
    if (c.parts.clarity < 0.6) out.push(r.confidence ? 'low confidence or agreement' : 'label missing or ambiguous')
    const repr = this.representativeness(c.file, c.labelClass)
    if (repr < 0.5 && r.labels.length > 0) out.push(c.labelClass === null ? `no ${r.labels[0]}` : `rare class ${r.labels[0]} = ${c.labelClass}`)
    return out
  }

  finish(): QualityReport {
    // leakage between splits: a key, a content or a group found in two splits
    let leaked = 0
    for (const e of this.splitExamples) {
      const inTwo = (m: Map<string, Set<string>>, k: string) => (m.get(k)?.size ?? 0) > 1
      const why = e.key !== null && inTwo(this.splitKeys, e.key) ? 'same key' : inTwo(this.splitContent, e.content) ? 'same content' : e.groups.find((g) => inTwo(this.splitGroups, g)) ? 'same group' : null
      if (!why) continue
      leaked++
      this.note({check: 'uniqueness', rule: `leakage between splits: ${why} in two splits`, detail: e.split}, e.ref)
      if (this.collectFailing) this.failingKeys.push(`${e.ref.path}\0${e.ref.key ?? e.ref.line}`)
    }
    this.pass.uniqueness = this.examples - this.uniquenessFailed - leaked

    const t = this.rules.thresholds
    const result = (passed: number, total: number, threshold: number | null | undefined): CheckResult => {
      const score = total === 0 ? 100 : Math.round((1000 * passed) / total) / 10
      return {score, passed, failed: total - passed, threshold: threshold ?? null, ok: threshold == null || score >= threshold}
    }
    const checks: QualityReport['checks'] = {
      completeness: result(this.pass.completeness, this.examples, t.completeness),
      consistency: result(this.pass.consistency, this.examples, t.consistency),
      validity: result(this.pass.validity, this.examples, t.validity),
      uniqueness: result(this.pass.uniqueness, this.examples, t.uniqueness),
    }
    if (this.referentialChecked > 0) checks.referential = result(this.pass.referential, this.referentialChecked, t.referential)
    const parts = Object.values(checks)
    const overallScore = parts.length === 0 ? 100 : Math.round((10 * parts.reduce((s, c) => s + c.score, 0)) / parts.length) / 10
    const overall: CheckResult = {score: overallScore, passed: 0, failed: 0, threshold: t.overall, ok: overallScore >= t.overall}
    overall.passed = parts.filter((c) => c.ok).length
    overall.failed = parts.length - overall.passed

    const tiers: Record<Tier, number> = {gold: 0, silver: 0, bronze: 0, rejected: 0}
    let sum = 0
    for (let i = 0; i < this.partials.length; i++) {
      const score = this.partials[i] + 15 * this.representativeness(this.fileOf[i], this.classes[i])
      sum += score
      tiers[tierOf(score)]++
    }
    const worst = this.candidates
      .map((c) => ({c, score: Math.round(c.partial + 15 * this.representativeness(c.file, c.labelClass))}))
      .sort((a, b) => a.score - b.score || a.c.path.localeCompare(b.c.path) || a.c.line - b.c.line)
      .slice(0, WORST)
      .map(({c, score}) => ({path: c.path, line: c.line, key: c.key, score, tier: tierOf(score), issues: [...c.issues, ...this.scoreReasons(c)]}))

    const orphanPaths: string[] = []
    let orphans = 0
    for (const [folder, names] of this.referenced) {
      for (const p of this.allPaths) {
        if (posix.dirname(p) === folder && !names.has(posix.basename(p))) {
          orphans++
          if (orphanPaths.length < 20) orphanPaths.push(p)
        }
      }
    }
    if (orphans > 0) this.problems.set('referential\0orphans', {check: 'referential', rule: 'files in a referenced folder that no example references', count: orphans, instances: orphanPaths.slice(0, INSTANCES).map((p) => ({path: p, line: 0, key: null}))})

    const order: DatasetCheck[] = ['completeness', 'consistency', 'validity', 'uniqueness', 'referential']
    const problems = [...this.problems.values()].sort((a, b) => order.indexOf(a.check) - order.indexOf(b.check) || b.count - a.count)
    const n = this.partials.length
    return {
      rules: this.rules.source,
      examples: this.examples,
      files: this.files.map((f) => ({path: f.path, pattern: f.rules.pattern, profile: f.rules.profile, examples: f.examples, split: f.split})),
      checks,
      overall,
      passed: parts.every((c) => c.ok) && overall.ok,
      scores: {mean: n === 0 ? 0 : Math.round((10 * sum) / n) / 10, tiers, silverOrBetter: n === 0 ? 0 : Math.round((1000 * (tiers.gold + tiers.silver)) / n) / 10},
      problems,
      worst,
      orphans: {count: orphans, paths: orphanPaths},
      ...(this.collectFailing ? {failing: this.failingKeys} : {}),
    }
  }
}

function addTo(map: Map<string, Set<string>>, key: string, value: string): void {
  const s = map.get(key)
  if (s) s.add(value)
  else map.set(key, new Set([value]))
}

/** train / validation / test from a file name (train.jsonl, golden_test.tsv, dev.tsv). */
export function splitFromName(path: string): string | null {
  const m = /(?:^|[\/_.-])(train|training|dev|val|valid|validation|test|eval)(?=[_.-]|$)/i.exec(posix.basename(path).replace(/\.[^.]+$/, ''))
  if (!m) return null
  const s = m[1].toLowerCase()
  return s.startsWith('train') ? 'train' : s === 'test' || s === 'eval' ? 'test' : 'validation'
}

function resolveReference(tablePath: string, dir: string, value: string): string {
  const clean = value.replace(/^\.\//, '')
  if (dir === '/') return posix.normalize(clean.replace(/^\/+/, ''))
  return posix.normalize(posix.join(posix.dirname(tablePath), dir, clean))
}
