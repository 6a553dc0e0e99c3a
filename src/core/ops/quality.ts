/**
 * `dsv quality check` and `compare`: runs the rules file of a version (the working tree
 * by default) over that version's examples, streaming each table from the packs.
 */
import {createHash} from 'node:crypto'
import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import ignore from 'ignore'
import {locateTableLeaves, readTable} from '../table-read.js'
import type {TableFormat} from '../table-format.js'
import {WorkerPool, workerCount, worthWorkers} from '../worker-pool.js'
import {checkTable, type TableCheckJob} from '../quality/table-check.js'
import type {FileOutcome} from '../quality/file-check.js'
import {decodeChunks} from '../blob.js'
import type {FileMap} from '../tree-ops.js'
import {QualityRun, type QualityReport} from '../quality/report.js'
import {defaultRules, parseRules, RULES_FILES, type FileRules, type Rules} from '../quality/rules.js'
import {CorruptObjectError, DsvError} from '../../errors/index.js'
import type {QualitySummary, TreeEntry} from '../model.js'
import type {ObjectStore} from '../object-store.js'
import type {ProgressFn, Repository} from '../repository.js'
import type {Oid} from '../bytes.js'
import {matchesAny, openSide, pathMatcher, type DiffSide} from './dataset-diff.js'

export interface QualityOptions {
  paths?: string[]
  onProgress?: ProgressFn
  /** keep the keys of failing examples (for compare) */
  collectFailing?: boolean
  /** overall score needed to pass, instead of the rules file's threshold */
  minScore?: number
  /** a rules file from outside the version (a path), instead of the version's own */
  rulesFile?: string
}

export interface QualityResult extends QualityReport {
  /** what was checked: the revision as given, or "working tree" */
  target: string
  commit: Oid | null
}


export async function readBlob(store: ObjectStore, entry: TreeEntry): Promise<Buffer> {
  const obj = await store.get(entry.oid)
  if (obj.kind === 'blob') return obj.content
  if (obj.kind !== 'chunks') throw new CorruptObjectError(entry.oid, `expected a file, found a ${obj.kind}`)
  const parts: Buffer[] = []
  for (const c of decodeChunks(obj.content)) parts.push((await store.get(c.oid, 'blob')).content)
  return Buffer.concat(parts)
}

/** The rules file of a version; the defaults when it has none. */
export async function loadRules(repo: Repository, files: FileMap, worktree: boolean, rulesFile?: string): Promise<Rules> {
  const read = async (path: string): Promise<Buffer | null> => {
    if (worktree) {
      try {
        return readFileSync(join(repo.root, path))
      } catch {
        return null
      }
    }
    const e = files.get(path)
    return e && e.type !== 'dir' ? e.type === 'table' ? null : readBlob(repo.store, e) : null
  }
  if (rulesFile !== undefined) {
    let text: string
    try {
      text = readFileSync(rulesFile, 'utf8')
    } catch (error) {
      throw new DsvError('E_RULES', `cannot read the rules file ${rulesFile}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, {file: rulesFile})
    }
    return parseRules(rulesFile, text, read)
  }
  for (const name of RULES_FILES) {
    const bytes = await read(name)
    if (bytes) return parseRules(name, bytes.toString('utf8'), read)
  }
  return defaultRules()
}

/** The rules entry that governs a path: the first whose pattern matches. */
export function rulesFor(rules: Rules, path: string): FileRules | null {
  for (const f of rules.files) if (ignore().add(f.pattern).ignores(path)) return f
  return null
}

export async function qualityCheck(repo: Repository, side: DiffSide, opts: QualityOptions = {}): Promise<QualityResult> {
  // the whole tree, even with paths: references into other folders must resolve
  const {end, files} = await openSide(repo, side, opts.onProgress)
  const {label, commit} = end
  for (const p of opts.paths ?? []) {
    if (!matchesAny(files, p)) throw new DsvError('E_PATH_NOT_FOUND', `path '${p}' is not in ${label}`, {path: p}, 'paths are relative to the dataset root; see `dsv show REV` for the files of a version')
  }
  const rules = await loadRules(repo, files, 'worktree' in side, opts.rulesFile)
  if (opts.minScore !== undefined) rules.thresholds.overall = opts.minScore
  return {target: label, commit, ...(await checkFiles(repo, files, rules, opts))}
}

/** The summary a commit records: scores and tiers, not the problems. */
export function summarise(r: QualityReport): QualitySummary {
  const scores: Record<string, number> = {}
  for (const [k, c] of Object.entries(r.checks)) if (c) scores[k] = c.score
  return {overall: r.overall.score, passed: r.passed, examples: r.examples, checks: scores, tiers: r.scores.tiers, silverOrBetter: r.scores.silverOrBetter}
}

/** Below this many bytes of tables, worker threads cost more than they save. */
const WORKER_THRESHOLD = 16 << 20
/** A quality worker holds one file's key and content sets (about 60 bytes per example). */
const QUALITY_HEAP = {maxOldGenerationSizeMb: 192, maxYoungGenerationSizeMb: 16}

/**
 * Runs `rules` over the tables of `files`: one job per table, on worker threads when
 * there is enough data; the outcomes are merged in path order, so the report does not
 * depend on which worker finished first.
 */
export async function checkFiles(repo: Repository, files: FileMap, rules: Rules, opts: QualityOptions = {}): Promise<QualityReport> {
  const allPaths = [...files.keys()]
  const run = new QualityRun(rules, new Set(allPaths), opts.collectFailing)
  const collectFailing = opts.collectFailing ?? false
  const selected: Array<{index: number; entry: TreeEntry; rules: FileRules}> = []
  const matchers = (opts.paths ?? []).map(pathMatcher)
  for (const entry of files.values()) {
    if (entry.type !== 'table' || (matchers.length > 0 && !matchers.some((m) => m(entry.name)))) continue
    const fileRules = rulesFor(rules, entry.name)
    if (fileRules) selected.push({index: selected.length, entry, rules: fileRules})
  }
  const total = selected.reduce((s, f) => s + f.entry.size, 0)
  let done = 0
  const tick = (bytes: number) => opts.onProgress?.({phase: 'checking examples', loaded: (done += bytes), total, unit: 'bytes'})

  // a table checked before under the same rules needs no second look
  const pathsDigest = selected.some((f) => f.rules.references.length > 0) ? createHash('sha256').update([...allPaths].sort().join('\n')).digest('hex') : ''
  const cacheKeys = selected.map((f) => outcomeCacheKey(f.entry, f.rules, pathsDigest, collectFailing))
  const useCache = !process.env.DSV_NO_CACHE
  const outcomes: Array<FileOutcome | undefined> = (useCache ? await repo.store.db.getCached(CACHE_NAMESPACE, cacheKeys) : []).map((v) => (v ? (JSON.parse(v.toString('utf8')) as FileOutcome) : undefined))
  const todo = selected.filter((f) => {
    if (outcomes[f.index]) tick(f.entry.size)
    return !outcomes[f.index]
  })
  const plan = async (f: (typeof selected)[number]): Promise<TableCheckJob & {index: number}> => {
    const table = await readTable(repo.store, f.entry.oid)
    const leaves = await locateTableLeaves(repo.store, table)
    return {index: f.index, path: f.entry.name, rules: f.rules, format: table.format as TableFormat, header: table.header, leaves, size: f.entry.size}
  }
  const todoBytes = todo.reduce((s, f) => s + f.entry.size, 0)
  if (!worthWorkers(todoBytes, WORKER_THRESHOLD, todo.length)) {
    for (const f of todo) outcomes[f.index] = checkTable(await plan(f), repo.store.reader, run.allPaths, collectFailing, tick)
  } else {
    // workers start now and take each table as soon as its leaves are located
    const pool = new WorkerPool<TableCheckJob & {index: number}, {index: number; outcome: FileOutcome}, null>(
      new URL('../quality-worker.js', import.meta.url),
      {packDir: repo.store.packDir, allPaths, collectFailing},
      workerCount(todo.length),
      (r) => {
        outcomes[r.index] = r.outcome
        tick(selected[r.index].entry.size)
      },
      {resourceLimits: QUALITY_HEAP},
    )
    await pool.submitEach([...todo].sort((a, b) => b.entry.size - a.entry.size), plan)
    await pool.finish()
  }
  const fresh: Array<[string, Buffer]> = []
  for (const f of todo) {
    const bytes = Buffer.from(JSON.stringify(outcomes[f.index]))
    if (bytes.length <= MAX_CACHED_OUTCOME) fresh.push([cacheKeys[f.index], bytes])
  }
  if (useCache) await repo.store.db.putCached(CACHE_NAMESPACE, fresh)
  for (const o of outcomes) run.addOutcome(o!)
  return run.finish()
}

/** Bump when the checks change what they report for the same data and rules. */
const CACHE_NAMESPACE = 'quality-v2'
/** Outcomes larger than this (a big split file's rows) are recomputed rather than cached. */
const MAX_CACHED_OUTCOME = 4 << 20

/**
 * What a table's outcome depends on: its content (the table id covers records, format and
 * header), its path (messages, split), its rules, and, when it references other files,
 * the list of files in the version.
 */
function outcomeCacheKey(entry: TreeEntry, fileRules: FileRules, pathsDigest: string, collectFailing: boolean): string {
  const paths = fileRules.references.length > 0 ? pathsDigest : ''
  return createHash('sha256').update(`${entry.oid}\0${entry.name}\0${collectFailing}\0${paths}\0${JSON.stringify(fileRules)}`).digest('hex')
}

export interface QualityComparison {
  from: {target: string; commit: Oid | null; overall: number; passed: boolean; examples: number}
  to: {target: string; commit: Oid | null; overall: number; passed: boolean; examples: number}
  /** each check's score before and after (0..100) */
  checks: Array<{check: string; before: number | null; after: number | null}>
  tiers: Array<{tier: string; before: number; after: number}>
  /** examples that fail a check in `to` but not in `from` (path and key, or line when keyless) */
  newlyFailing: {count: number; examples: Array<{path: string; key: string}>}
  fixed: {count: number; examples: Array<{path: string; key: string}>}
}

const LISTED = 50

/** What got better or worse between two versions: scores, tiers and failing examples. */
export async function qualityCompare(repo: Repository, a: DiffSide, b: DiffSide, opts: QualityOptions = {}): Promise<QualityComparison> {
  const before = await qualityCheck(repo, a, {...opts, collectFailing: true})
  const after = await qualityCheck(repo, b, {...opts, collectFailing: true})
  const names = [...new Set([...Object.keys(before.checks), ...Object.keys(after.checks)])]
  const failedBefore = new Set(before.failing)
  const failedAfter = new Set(after.failing)
  const listOf = (keys: string[]) => {
    const split = (k: string) => ({path: k.slice(0, k.indexOf('\0')), key: k.slice(k.indexOf('\0') + 1)})
    return {count: keys.length, examples: keys.slice(0, LISTED).map(split)}
  }
  const end = (r: QualityResult) => ({target: r.target, commit: r.commit, overall: r.overall.score, passed: r.passed, examples: r.examples})
  return {
    from: end(before),
    to: end(after),
    checks: [...names.map((check) => ({check, before: before.checks[check as keyof typeof before.checks]?.score ?? null, after: after.checks[check as keyof typeof after.checks]?.score ?? null})),
      {check: 'overall', before: before.overall.score, after: after.overall.score}],
    tiers: (['gold', 'silver', 'bronze', 'rejected'] as const).map((tier) => ({tier, before: before.scores.tiers[tier], after: after.scores.tiers[tier]})),
    newlyFailing: listOf([...failedAfter].filter((k) => !failedBefore.has(k))),
    fixed: listOf([...failedBefore].filter((k) => !failedAfter.has(k))),
  }
}
