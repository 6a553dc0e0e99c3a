/**
 * The quality checks of one data file, example by example, reduced to a `FileOutcome`:
 * pass counts per check, problems grouped by rule, per-example scores folded into tier
 * counts, the file's worst examples, and what other files need for the dataset-wide
 * checks (split rows for leakage, referenced file names for orphans). An outcome is plain
 * data, so files can be checked on worker threads and merged in order by the report.
 */
import {posix} from 'node:path'
import {hashToString} from '../bytes.js'
import {getPath, keyOf} from '../example-key.js'
import {ExampleChecker, type CheckName, type Issue} from './example-checks.js'
import {DigestSet} from './digest-set.js'
import {isEmpty} from './values.js'
import type {FileRules} from './rules.js'

export type DatasetCheck = CheckName | 'uniqueness' | 'referential'
export type Tier = 'gold' | 'silver' | 'bronze' | 'rejected'

export const TIERS: Array<[Tier, number]> = [['gold', 90], ['silver', 75], ['bronze', 60], ['rejected', 0]]

export function tierOf(score: number): Tier {
  for (const [t, min] of TIERS) if (score >= min) return t
  return 'rejected'
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

export interface FileOutcome {
  path: string
  pattern: string
  profile: string | null
  split: string | null
  examples: number
  pass: {completeness: number; consistency: number; validity: number; uniqueness: number; referential: number}
  /** examples that reference files (the referential check's denominator) */
  referentialChecked: number
  problems: Problem[]
  scoreSum: number
  tiers: Record<Tier, number>
  worst: WorstExample[]
  /** per example of a split file (train, test, ...): what leakage between splits compares */
  splitRows: SplitRow[]
  /** folder → the file names this file's examples reference in it */
  referenced: Array<[string, string[]]>
  /** `path\0key` (or line) of every example failing a check, when asked for */
  failing: string[]
}

export interface SplitRow {
  line: number
  key: string | null
  content: string
  groups: string[]
  /** already failed uniqueness inside its file (so leakage does not count it twice) */
  duplicate: boolean
}

export const INSTANCES = 3
export const WORST = 10
/** examples kept as candidates for the worst list (by their score before representativeness) */
const CANDIDATES = 200

// Duplicate content only needs a short, fast fingerprint; the store's SHA-256 is not involved.
const fingerprint = (b: Buffer): string => hashToString('sha1', b)

/** Adds `value` to `set`; false when it was there already. */
function addNew<T>(set: Set<T>, value: T): boolean {
  const size = set.size
  return set.add(value).size !== size
}

interface Candidate {
  line: number
  key: string | null
  partial: number
  parts: {completeness: number; correctness: number; clarity: number}
  classId: number
  issues: Issue[]
}

export class FileCheck {
  private readonly checker: ExampleChecker
  private readonly split: string | null
  private examples = 0
  private readonly pass = {completeness: 0, consistency: 0, validity: 0, uniqueness: 0, referential: 0}
  private referentialChecked = 0
  private readonly problems = new Map<string, Problem>()
  private readonly seenKeys = new Set<string>()
  private readonly seenContent = new DigestSet()
  private readonly partials: number[] = []
  /** 1 where the example carries a human-validated label (for export filters) */
  private readonly validated: number[] = []
  /** each example's class as an index into `classNames` (-1: none) */
  private readonly classIds: number[] = []
  private readonly classNames = new Map<string, number>()
  private readonly classCounts: number[] = []
  private candidates: Candidate[] = []
  private cutoff = Infinity
  private readonly splitRows: SplitRow[] = []
  private readonly referenced = new Map<string, Set<string>>()
  private readonly failing: string[] = []

  constructor(private readonly path: string, private readonly rules: FileRules, textual: boolean, private readonly allPaths: Set<string>, private readonly collectFailing = false, split?: string | null) {
    this.checker = new ExampleChecker(rules, textual)
    this.split = split !== undefined ? split : (rules.split ?? splitFromName(path))
  }

  /** Checks one example; `bytes` is its record without the line terminator. */
  add(example: Record<string, unknown>, line: number, bytes: Buffer): void {
    this.examples++
    const rules = this.rules
    const key = rules.key ? keyOf(example, rules.key) : null
    const ref = {path: this.path, line, key}
    const verdict = this.checker.check(example)
    const issues = verdict.issues

    // uniqueness inside the file
    const content = fingerprint(bytes)
    let unique = true
    // add() and a size check: one hash-table probe, not two (these sets outgrow the CPU caches)
    if (key !== null && !addNew(this.seenKeys, key)) {
      unique = false
      this.note({check: 'uniqueness', rule: `duplicate key in ${this.path}`, detail: key}, ref)
    }
    if (!this.seenContent.add(content)) {
      unique = false
      this.note({check: 'uniqueness', rule: `duplicate content in ${this.path}`}, ref)
    }
    if (unique) this.pass.uniqueness++
    if (this.split) {
      const groups = rules.groups.map((g) => getPath(example, g)).filter((g) => !isEmpty(g)).map((g) => JSON.stringify(g))
      this.splitRows.push({line, key, content, groups, duplicate: !unique})
    }

    // referential integrity
    let referencesOk = true
    if (rules.references.length > 0) {
      this.referentialChecked++
      for (const r of rules.references) {
        const value = getPath(example, r.field)
        if (isEmpty(value)) continue
        const target = resolveReference(this.path, r.dir, String(value))
        if (r.dir !== '/') addTo(this.referenced, posix.dirname(target), posix.basename(target))
        if (!this.allPaths.has(target)) {
          referencesOk = false
          this.note({check: 'referential', rule: `${r.field} names a file that is not in the dataset`, detail: target}, ref)
        }
      }
      if (referencesOk) this.pass.referential++
    }

    let failed = 0
    for (const i of issues) {
      this.note(i, ref)
      failed |= i.check === 'completeness' ? 1 : i.check === 'consistency' ? 2 : 4
    }
    if (!(failed & 1)) this.pass.completeness++
    if (!(failed & 2)) this.pass.consistency++
    if (!(failed & 4)) this.pass.validity++
    if (this.collectFailing && (issues.length > 0 || !unique || !referencesOk)) this.failing.push(`${this.path}\0${key ?? line}`)

    const partial = 30 * verdict.completeness + 40 * verdict.correctness + 15 * verdict.clarity
    let classId = -1
    if (verdict.labelClass !== null) {
      classId = this.classNames.get(verdict.labelClass) ?? -1
      if (classId < 0) {
        classId = this.classNames.size
        this.classNames.set(verdict.labelClass, classId)
        this.classCounts.push(0)
      }
      this.classCounts[classId]++
    }
    this.partials.push(partial)
    this.validated.push(verdict.correctness > 0 ? 1 : 0)
    this.classIds.push(classId)
    if (partial <= this.cutoff) this.consider({line, key, partial, parts: {completeness: verdict.completeness, correctness: verdict.correctness, clarity: verdict.clarity}, classId, issues})
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
      this.candidates.sort((a, b) => a.partial - b.partial || a.line - b.line)
      this.candidates.length = CANDIDATES
      this.cutoff = this.candidates[CANDIDATES - 1].partial
    }
  }

  /** Representativeness: a class with at least an even share of its file gets full points. */
  private representativeness(classId: number): number {
    if (this.rules.labels.length === 0) return 1
    if (classId < 0 || this.examples === 0) return 0
    const even = this.examples / this.classCounts.length
    return Math.min(1, this.classCounts[classId] / even)
  }

  /** Why an example scores low, beyond the checks it fails. */
  private scoreReasons(c: Candidate): string[] {
    const r = this.rules
    const out: string[] = []
    if (c.parts.correctness === 0 && r.validated) out.push(`no human-validated label (${r.validated.field})`)
    if (c.parts.clarity < 0.6) out.push(r.confidence ? 'low confidence or agreement' : 'label missing or ambiguous')
    if (this.representativeness(c.classId) < 0.5 && r.labels.length > 0) out.push(c.classId < 0 ? `no ${r.labels[0]}` : `rare class ${r.labels[0]} = ${[...this.classNames.keys()][c.classId]}`)
    return out
  }

  /** Each example's final score (0-100) and whether its label is human-validated, in order. */
  exampleScores(): {score: Float64Array; validated: Uint8Array} {
    const score = new Float64Array(this.partials.length)
    for (let i = 0; i < score.length; i++) score[i] = this.partials[i] + 15 * this.representativeness(this.classIds[i])
    return {score, validated: Uint8Array.from(this.validated)}
  }

  outcome(): FileOutcome {
    const tiers: Record<Tier, number> = {gold: 0, silver: 0, bronze: 0, rejected: 0}
    const bonus = this.classCounts.map((_, id) => 15 * this.representativeness(id))
    const unlabelled = 15 * this.representativeness(-1)
    let scoreSum = 0
    for (let i = 0; i < this.partials.length; i++) {
      const score = this.partials[i] + (this.classIds[i] < 0 ? unlabelled : bonus[this.classIds[i]])
      scoreSum += score
      tiers[tierOf(score)]++
    }
    const worst = this.candidates
      .map((c) => ({c, score: Math.round(c.partial + (c.classId < 0 ? unlabelled : bonus[c.classId]))}))
      .sort((a, b) => a.score - b.score || a.c.line - b.c.line)
      .map(({c, score}) => ({path: this.path, line: c.line, key: c.key, score, tier: tierOf(score), issues: [...c.issues.map((i) => `${i.rule}${i.detail ? ` (${i.detail})` : ''}`), ...this.scoreReasons(c)]}))
      // an example is an offender when it is below gold or has something to fix
      .filter((w) => w.tier !== 'gold' || w.issues.length > 0)
      .slice(0, WORST)
    return {
      path: this.path,
      pattern: this.rules.pattern,
      profile: this.rules.profile,
      split: this.split,
      examples: this.examples,
      pass: this.pass,
      referentialChecked: this.referentialChecked,
      problems: [...this.problems.values()],
      scoreSum,
      tiers,
      worst,
      splitRows: this.splitRows,
      referenced: [...this.referenced].map(([folder, names]) => [folder, [...names]]),
      failing: this.failing,
    }
  }
}

export function addTo(map: Map<string, Set<string>>, key: string, value: string): void {
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
