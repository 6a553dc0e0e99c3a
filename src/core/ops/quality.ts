/**
 * `dsv quality check` and `compare`: runs the rules file of a version (the working tree
 * by default) over that version's examples, streaming each table from the packs.
 */
import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import ignore from 'ignore'
import {listLeaves, readTable} from '../table-read.js'
import {readLeafAt} from '../table-write.js'
import {decodeLeaf} from '../table-nodes.js'
import {isBlankRecord, stripTerminator, type TableFormat} from '../table-format.js'
import {parseRecord} from '../example-key.js'
import {decodeChunks} from '../blob.js'
import {flattenTree, type FileMap} from '../tree-ops.js'
import {readCommit} from './history.js'
import {snapshot} from './snapshot.js'
import {QualityRun, type QualityReport} from '../quality/report.js'
import {defaultRules, parseRules, RULES_FILES, type FileRules, type Rules} from '../quality/rules.js'
import {CorruptObjectError} from '../../errors/index.js'
import type {QualitySummary, Table, TreeEntry} from '../model.js'
import type {ObjectStore} from '../object-store.js'
import type {ProgressFn, Repository} from '../repository.js'
import type {Oid} from '../bytes.js'
import type {DiffSide} from './dataset-diff.js'

export interface QualityOptions {
  paths?: string[]
  onProgress?: ProgressFn
  /** keep the keys of failing examples (for compare) */
  collectFailing?: boolean
  /** overall score needed to pass, instead of the rules file's threshold */
  minScore?: number
}

export interface QualityResult extends QualityReport {
  /** what was checked: the revision as given, or "working tree" */
  target: string
  commit: Oid | null
}

/** The files of a side, and a reader for the bytes of any of them. */
export async function sideFiles(repo: Repository, side: DiffSide, onProgress?: ProgressFn): Promise<{label: string; commit: Oid | null; files: FileMap}> {
  if ('worktree' in side) {
    const snap = await repo.locked(() => snapshot(repo, onProgress))
    return {label: 'working tree', commit: null, files: snap.files}
  }
  const {commit} = await repo.resolve(side.rev)
  return {label: side.rev, commit, files: await flattenTree(repo.store, (await readCommit(repo, commit)).tree)}
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
export async function loadRules(repo: Repository, files: FileMap, worktree: boolean): Promise<Rules> {
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
  const {label, commit, files} = await sideFiles(repo, side, opts.onProgress)
  const rules = await loadRules(repo, files, 'worktree' in side)
  if (opts.minScore !== undefined) rules.thresholds.overall = opts.minScore
  return {target: label, commit, ...(await checkFiles(repo, files, rules, opts))}
}

/** The summary a commit records: scores and tiers, not the problems. */
export function summarise(r: QualityReport): QualitySummary {
  const scores: Record<string, number> = {}
  for (const [k, c] of Object.entries(r.checks)) if (c) scores[k] = c.score
  return {overall: r.overall.score, passed: r.passed, examples: r.examples, checks: scores, tiers: r.scores.tiers, silverOrBetter: r.scores.silverOrBetter}
}

/** Runs `rules` over the tables of `files`. */
export async function checkFiles(repo: Repository, files: FileMap, rules: Rules, opts: QualityOptions = {}): Promise<QualityReport> {
  const run = new QualityRun(rules, new Set(files.keys()), opts.collectFailing)
  const selected = [...files.values()].filter((e) => e.type === 'table' && rulesFor(rules, e.name) && inPaths(e.name, opts.paths))
  const total = selected.reduce((s, e) => s + e.size, 0)
  let done = 0
  for (const entry of selected) {
    const table = await readTable(repo.store, entry.oid)
    const fileRules = rulesFor(rules, entry.name)!
    run.addFile(entry.name, fileRules, table.format !== 'jsonl', await exampleStream(repo.store, table, (bytes) => {
      done += bytes
      opts.onProgress?.({phase: 'checking examples', loaded: done, total, unit: 'bytes'})
    }))
  }
  return run.finish()
}

function inPaths(path: string, paths?: string[]): boolean {
  if (!paths?.length) return true
  return paths.some((p) => {
    const clean = p.replace(/^\.\/+/, '').replace(/\/+$/, '')
    return path === clean || path.startsWith(`${clean}/`) || ignore().add(clean).ignores(path)
  })
}

/** Every example of a table in order, parsed, with its line; leaves read from the packs. */
async function exampleStream(store: ObjectStore, table: Table, onBytes: (n: number) => void): Promise<Iterable<{example: Record<string, unknown>; line: number; bytes: Buffer}>> {
  const leaves = await listLeaves(store, table)
  const located = await store.locateMany(leaves.map((l) => l.oid))
  const headerLines = table.header ? 1 : 0
  const format = table.format as TableFormat
  return (function* () {
    for (const leaf of leaves) {
      const loc = located.get(leaf.oid)
      if (!loc) throw new CorruptObjectError(leaf.oid, 'missing from the store')
      const base = loc.base ? located.get(loc.base.toString('hex')) : undefined
      if (loc.base && !base) throw new CorruptObjectError(leaf.oid, 'its delta base is missing')
      const records = decodeLeaf(readLeafAt(store.reader, {oid: leaf.oid, loc, base}))
      for (let i = 0; i < records.length; i++) {
        if (isBlankRecord(records[i])) continue
        const example = parseRecord(records[i], format, table.header)
        if (example) yield {example, line: leaf.start + i + 1 + headerLines, bytes: stripTerminator(records[i])}
      }
      onBytes(leaf.bytes)
    }
  })()
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
