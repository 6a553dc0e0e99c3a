/**
 * `dsv diff`: what changed in the data between two versions (a revision or the working
 * tree), file by file and example by example, with the fields that changed.
 *
 * The cost follows the change: table diffs read only leaves that differ (table-diff.ts),
 * and only the records that differ are parsed. Examples whose key left one file and
 * arrived in another are reported as moved (leakage between splits shows up in review).
 */
import ignore from 'ignore'
import {diffManyTables, type ExampleChange, type RecordRef, type TableDiff} from '../table-diff.js'
import {readTable} from '../table-read.js'
import {chooseKeyOfVersions, getPath, recordParser} from '../example-key.js'
import {fieldChanges, type FieldChange} from '../field-diff.js'
import {flattenTree, type FileMap} from '../tree-ops.js'
import {modeChange, modeOnlyChange, sameFile} from '../file-mode.js'
import {readCommit} from './history.js'
import {snapshot} from './snapshot.js'
import {DsvError, InvalidDataError} from '../../errors/index.js'
import type {TableFormat} from '../table-format.js'
import type {Table} from '../model.js'
import type {ProgressFn, Repository} from '../repository.js'
import type {Oid} from '../bytes.js'

/**
 * One side of a diff: a revision, or the working directory as it is now. `unbornIsEmpty`:
 * HEAD with no commits yet is an empty version (`dsv diff` in a new repository).
 */
export type DiffSide = {rev: string; unbornIsEmpty?: boolean} | {worktree: true}

export interface DatasetDiffOptions {
  /** only these paths (files, folders, or gitignore-style patterns) */
  paths?: string[]
  /** example changes kept per file, with their fields (counts stay exact); default all */
  limit?: number
  /** keep no example changes at all: counts only (`--stat`, `--name-status`) */
  countsOnly?: boolean
  onProgress?: ProgressFn
}

export interface ExampleLocation {
  path: string
  /** 1-based line where the example starts (CSV: record number + header) */
  line: number
}

export interface ExampleDiff {
  change: 'added' | 'removed' | 'modified' | 'moved'
  /** the example's key; null in a keyless file */
  key: string | null
  old?: ExampleLocation
  new?: ExampleLocation
  /** modified and moved: the fields that changed (empty: only formatting changed) */
  fields?: FieldChange[]
  /** added: the new example; removed: the old one */
  value?: unknown
}

export interface ExampleCounts {
  added: number
  removed: number
  modified: number
  /** examples that arrived in this file from another one (by key) */
  moved: number
  /** examples that left this file for another one */
  movedOut: number
}

export interface FileDiff {
  path: string
  status: 'added' | 'removed' | 'modified' | 'renamed'
  kind: 'table' | 'blob'
  /** renamed: the old path (content identical) */
  from?: string
  /** the path was a data table in one version and a plain file in the other */
  typeChanged?: {from: 'table' | 'file'; to: 'table' | 'file'}
  /** the file became executable or stopped being so */
  executable?: {from: boolean; to: boolean}
  /** only the executable bit changed: the content is the same (no examples to compare) */
  modeOnly?: true
  oldSize: number | null
  newSize: number | null
  /** tables: the fields that identify an example (null: keyless) */
  key?: string[] | null
  examples?: ExampleCounts
  changes?: ExampleDiff[]
  /** example changes not listed because of the limit */
  omitted?: number
}

export interface LabelValueCount {
  value: string
  /** examples with this value among the changed ones, in the old version */
  before: number
  /** the same, in the new version */
  after: number
}

export interface LabelSummary {
  field: string
  values: LabelValueCount[]
  /** modified or moved examples whose value of this field changed */
  changed: number
  /** before/after count only the examples this diff lists as changed: unchanged ones
   *  keep their value, so after − before is the net change over the whole dataset */
  scope: 'changed-examples'
}

export interface DiffEnd {
  /** what the user typed, or "working tree" */
  label: string
  commit: Oid | null
}

export interface DatasetDiff {
  from: DiffEnd
  to: DiffEnd
  files: FileDiff[]
  totals: {
    files: {added: number; removed: number; modified: number; renamed: number}
    examples: {added: number; removed: number; modified: number; moved: number}
  }
  labels: LabelSummary[]
}

export async function datasetDiff(repo: Repository, fromSide: DiffSide, toSide: DiffSide, opts: DatasetDiffOptions = {}): Promise<DatasetDiff> {
  const [a, b] = [await openSide(repo, fromSide, opts.onProgress, opts.paths), await openSide(repo, toSide, opts.onProgress, opts.paths)]
  const before = filterPaths(a.files, opts.paths)
  const after = filterPaths(b.files, opts.paths)
  if (opts.paths?.length) {
    for (const p of opts.paths) {
      if (!matchesAny(a.files, p) && !matchesAny(b.files, p))
        throw new DsvError('E_PATH_NOT_FOUND', `path '${p}' is in neither ${a.end.label} nor ${b.end.label}`, {path: p}, 'paths are relative to the dataset root; see `dsv show REV` for the files of a version')
    }
  }
  const files = pairFiles(before, after)
  const tables = await tablesOf(repo, files, before, after)
  opts.onProgress?.({phase: 'comparing examples', loaded: 0, total: tables.length, unit: 'files'})
  const limit = opts.countsOnly ? 0 : opts.limit ?? Infinity
  // Each table's changes are parsed as soon as its diff arrives, while workers scan the
  // other tables; the final pass (after moves are known) takes the values from here.
  // A modified example is never part of a move, so its field changes are final too.
  const parsed = new Map<ExampleChange, ParsedChange>()
  // one parser per table: a CSV/TSV header is split once, not once per record
  const parsers = new Map<Table, (rec: Buffer) => Record<string, unknown> | null>()
  const parse = (table: Table | null, ref: RecordRef): Record<string, unknown> | null => {
    if (!table) return null
    let parser = parsers.get(table)
    if (!parser) parsers.set(table, (parser = recordParser(table.format as TableFormat, table.header, true)))
    return parser(ref.bytes)
  }
  const labelsOf = tables.map((t) => labelFieldsFor(repo, t.file.path))
  const onTable = (t: number, d: TableDiff) => {
    const labelled = labelsOf[t].length > 0
    let shown = 0
    for (const c of d.changes) {
      const show = shown++ < limit
      if (!show && !labelled) break
      const p: ParsedChange = {}
      if (c.old) p.old = parse(tables[t].before, c.old)
      if (c.new) p.new = parse(tables[t].after, c.new)
      if (c.change === 'modified' && show) {
        p.fields = fieldChanges(p.old ?? null, p.new ?? null)
        // the values are kept only for a label summary: thousands of parsed examples
        // kept alive to the end made every young-generation collection copy them
        if (!labelled) p.old = p.new = undefined
      }
      parsed.set(c, p)
    }
  }
  // counts and moves need keys only; listed changes and label summaries need the records
  const recordBytes = limit > 0 || labelsOf.some((l) => l.length > 0)
  const diffs = await diffManyTables(repo.store, tables, {details: true, recordBytes, onTable})
  // tables past this index lie outside the paths asked for: only where examples moved from or to
  const firstOutside = tables.length
  if (opts.paths?.length) {
    const loose = new Set<string>()
    diffs.forEach((d, t) => {
      const key = tables[t].key
      if (key && d.changes.some((c) => c.change !== 'modified' && c.key !== null)) loose.add(key.join(','))
    })
    const outside = loose.size > 0 ? await tablesOutside(repo, [fromSide, toSide], [a, b], opts.paths, loose, opts.onProgress) : []
    const outsideDiffs = outside.length > 0 ? await diffManyTables(repo.store, outside, {details: true, recordBytes}) : []
    // their label fields are never read: only the side of a move inside the paths counts
    outside.forEach((t, i) => {
      tables.push(t)
      diffs.push(outsideDiffs[i])
    })
  }

  // Pair removals in one file with additions of the same key in another: moves.
  const removedByKey = new Map<string, Array<{t: number; c: ExampleChange}>>()
  diffs.forEach((d, t) => {
    if (!tables[t].key) return
    for (const c of d.changes) if (c.change === 'removed' && c.key !== null) push(removedByKey, `${tables[t].key!.join(',')}\0${c.key}`, {t, c})
  })
  const moves = new Map<ExampleChange, {t: number; c: ExampleChange}>() // added change → removed change
  const movedAway = new Set<ExampleChange>()
  diffs.forEach((d, t) => {
    if (!tables[t].key) return
    for (const c of d.changes) {
      if (c.change !== 'added' || c.key === null) continue
      const list = removedByKey.get(`${tables[t].key!.join(',')}\0${c.key}`)
      const i = list?.findIndex((r) => r.t !== t) ?? -1
      if (i < 0) continue
      const [src] = list!.splice(i, 1)
      moves.set(c, src)
      movedAway.add(src.c)
    }
  })

  const labelFields = new Map<string, LabelTally>()
  const movedOut = new Map<number, number>()
  for (const src of moves.values()) movedOut.set(src.t, (movedOut.get(src.t) ?? 0) + 1)
  tables.forEach(({file, before: ta, after: tb}, t) => {
    if (t >= firstOutside) {
      // an example that moved out of the paths counts before, under its old file's label fields
      for (const c of diffs[t].changes) {
        const src = moves.get(c)
        if (!src || src.t >= firstOutside || labelsOf[src.t].length === 0) continue
        const oldValue = parsed.get(src.c)?.old ?? parse(tables[src.t].before, src.c.old!)
        for (const field of labelsOf[src.t]) tally(labelFields, field, 'moved', oldValue, null, true, false)
      }
      return
    }
    const counts: ExampleCounts = {added: 0, removed: 0, modified: 0, moved: 0, movedOut: movedOut.get(t) ?? 0}
    const listed: ExampleDiff[] = []
    const labels = labelsOf[t]
    const at = (path: string, ref: RecordRef): ExampleLocation => ({path, line: ref.line})
    for (const c of diffs[t].changes) {
      if (movedAway.has(c)) continue
      const src = moves.get(c)
      const change: ExampleDiff['change'] = src ? 'moved' : c.change
      counts[change]++
      const show = listed.length < limit
      // a moved example counts before under its old file's label fields, after under its new
      // file's; with paths, only the side inside them counts
      const oldLabels = src ? (src.t >= firstOutside ? [] : labelsOf[src.t]) : labels
      if (!show && labels.length === 0 && oldLabels.length === 0) continue
      const oldTable = src ? tables[src.t].before : ta
      const oldRef = src ? src.c.old : c.old
      const oldPath = src ? tables[src.t].file.path : file.path
      const known = parsed.get(c)
      const fromOld = src ? parsed.get(src.c) : known
      const fields = change === 'modified' ? known?.fields : undefined
      const needValues = labels.length > 0 || oldLabels.length > 0 || !fields
      const oldValue = !needValues || !oldRef ? null : fromOld?.old !== undefined ? fromOld.old : parse(oldTable, oldRef)
      const newValue = !needValues || !c.new ? null : known?.new !== undefined ? known.new : parse(tb, c.new)
      for (const field of new Set([...oldLabels, ...labels])) tally(labelFields, field, change, oldValue, newValue, oldLabels.includes(field), labels.includes(field))
      if (!show) continue
      const entry: ExampleDiff = {change, key: c.key}
      if (oldRef) entry.old = at(oldPath, oldRef)
      if (c.new) entry.new = at(file.path, c.new)
      if (change === 'added') entry.value = newValue
      else if (change === 'removed') entry.value = oldValue
      else entry.fields = fields ?? fieldChanges(oldValue, newValue)
      listed.push(entry)
    }
    file.examples = counts
    if (!opts.countsOnly) {
      file.changes = listed
      file.omitted = counts.added + counts.removed + counts.modified + counts.moved - listed.length
    }
  })

  const totals: DatasetDiff['totals'] = {files: {added: 0, removed: 0, modified: 0, renamed: 0}, examples: {added: 0, removed: 0, modified: 0, moved: 0}}
  for (const f of files) {
    totals.files[f.status]++
    if (!f.examples) continue
    totals.examples.added += f.examples.added
    totals.examples.removed += f.examples.removed
    totals.examples.modified += f.examples.modified
    totals.examples.moved += f.examples.moved
  }
  return {from: a.end, to: b.end, files, totals, labels: [...labelFields.values()].map(finishTally)}
}

type TablePair = {file: FileDiff; before: Table | null; after: Table | null; key: string[] | null}

/** The tables among changed files (marked as tables, with the key each is compared by). */
async function tablesOf(repo: Repository, files: FileDiff[], before: FileMap, after: FileMap): Promise<TablePair[]> {
  const out: TablePair[] = []
  for (const f of files) {
    if (f.status === 'renamed' || f.modeOnly) continue
    const ea = before.get(f.path)
    const eb = after.get(f.path)
    if (ea?.type !== 'table' && eb?.type !== 'table') continue
    const ta = ea?.type === 'table' ? await readTable(repo.store, ea.oid) : null
    const tb = eb?.type === 'table' ? await readTable(repo.store, eb.oid) : null
    f.kind = 'table'
    f.key = chooseKeyOfVersions(f.path, tb?.fields, ta?.fields, repo.config.keys ?? {})
    out.push({file: f, before: ta, after: tb, key: f.key})
  }
  return out
}

/**
 * With paths given: the changed tables outside them keyed like a table inside that gained
 * or lost examples, where those examples may have moved from or to (an example moved from
 * train to test is a move in `dsv diff -- test.jsonl` too, not an addition).
 */
async function tablesOutside(repo: Repository, sides: [DiffSide, DiffSide], opened: Array<{files: FileMap}>, paths: string[], keys: Set<string>, onProgress?: ProgressFn): Promise<TablePair[]> {
  const inside = anyOf(paths)!
  // a working tree was snapshotted for the paths only; a file outside them that cannot be
  // read as a table must not fail a diff of the paths: then moves across the edge go unseen
  let all: FileMap[]
  try {
    all = await Promise.all(sides.map(async (side, i) => ('worktree' in side ? (await openSide(repo, side, onProgress)).files : opened[i].files)))
  } catch (error) {
    if (error instanceof InvalidDataError) return []
    throw error
  }
  const [before, after] = all.map((files) => new Map([...files].filter(([path]) => !inside(path))))
  return (await tablesOf(repo, pairFiles(before, after), before, after)).filter((t) => t.key && keys.has(t.key.join(',')))
}

/** The files of a side: a commit's tree, or the working tree snapshotted (only `paths` when given). */
export async function openSide(repo: Repository, side: DiffSide, onProgress?: ProgressFn, paths?: string[]): Promise<{end: DiffEnd; files: FileMap}> {
  if ('worktree' in side) {
    const snap = await repo.locked(() => snapshot(repo, onProgress, anyOf(paths)))
    return {end: {label: 'working tree', commit: null}, files: snap.files}
  }
  if (side.unbornIsEmpty && side.rev === 'HEAD' && repo.headCommit() === null) return {end: {label: 'HEAD (no commits yet)', commit: null}, files: new Map()}
  const {commit} = await repo.resolve(side.rev)
  const tree = (await readCommit(repo, commit)).tree
  return {end: {label: side.rev, commit}, files: await flattenTree(repo.store, tree)}
}

/** Whether a path matches any of `paths`; undefined (everything) when there are none. */
export function anyOf(paths?: string[]): ((path: string) => boolean) | undefined {
  if (!paths?.length) return undefined
  const matchers = paths.map(pathMatcher)
  return (path) => matchers.some((m) => m(path))
}

/** A path argument (a file, a folder, or a gitignore-style glob) as a test on paths. */
export function pathMatcher(p: string): (path: string) => boolean {
  const clean = p.replace(/^\.\/+/, '').replace(/\/+$/, '')
  if (clean === '' || clean === '.') return () => true
  const glob = /[*?[]/.test(clean) ? ignore().add(clean) : null
  return (path) => path === clean || path.startsWith(`${clean}/`) || (glob?.ignores(path) ?? false)
}

export function matchesAny(files: FileMap, p: string): boolean {
  const m = pathMatcher(p)
  for (const path of files.keys()) if (m(path)) return true
  return false
}

function filterPaths(files: FileMap, paths?: string[]): FileMap {
  if (!paths?.length) return files
  const matchers = paths.map(pathMatcher)
  return new Map([...files].filter(([path]) => matchers.some((m) => m(path))))
}

/** File-level changes, with renames: a removed and an added path of identical content. */
function pairFiles(before: FileMap, after: FileMap): FileDiff[] {
  const out: FileDiff[] = []
  const removed = new Map<Oid, string[]>()
  for (const [path, e] of before) if (!after.has(path)) push(removed, e.oid, path)
  const renamedFrom = new Set<string>()
  for (const [path, e] of after) {
    const a = before.get(path)
    if (a) {
      if (sameFile(a, e)) continue
      const file: FileDiff = {path, status: 'modified', kind: 'blob', oldSize: a.size, newSize: e.size}
      if ((a.type === 'table') !== (e.type === 'table')) file.typeChanged = {from: a.type === 'table' ? 'table' : 'file', to: e.type === 'table' ? 'table' : 'file'}
      const mode = modeChange(a, e)
      if (mode) file.executable = mode
      if (modeOnlyChange(a, e)) (file.modeOnly = true), (file.kind = e.type === 'table' ? 'table' : 'blob')
      out.push(file)
      continue
    }
    const from = removed.get(e.oid)?.shift()
    if (from !== undefined) {
      renamedFrom.add(from)
      const mode = modeChange(before.get(from), e)
      out.push({path, status: 'renamed', from, kind: e.type === 'table' ? 'table' : 'blob', oldSize: e.size, newSize: e.size, ...(mode ? {executable: mode} : {})})
    } else out.push({path, status: 'added', kind: 'blob', oldSize: null, newSize: e.size})
  }
  for (const [path, e] of before) {
    if (!after.has(path) && !renamedFrom.has(path)) out.push({path, status: 'removed', kind: 'blob', oldSize: e.size, newSize: null})
  }
  return out.sort((x, y) => (x.path < y.path ? -1 : x.path > y.path ? 1 : 0))
}

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key)
  if (list) list.push(value)
  else map.set(key, [value])
}

/** What was parsed of a change as its table arrived (undefined: not parsed, or let go). */
interface ParsedChange {
  old?: Record<string, unknown> | null
  new?: Record<string, unknown> | null
  fields?: FieldChange[]
}

// ---- label summary ----

interface LabelTally {
  field: string
  before: Map<string, number>
  after: Map<string, number>
  changed: number
}

function labelFieldsFor(repo: Repository, path: string): string[] {
  for (const [pattern, value] of Object.entries(repo.config.labels ?? {})) {
    if (ignore().add(pattern).ignores(path)) return value.split(',').map((s) => s.trim()).filter(Boolean)
  }
  return []
}

function labelValue(example: Record<string, unknown> | null, field: string): string | null {
  if (!example) return null
  const v = getPath(example, field)
  if (v === undefined || v === null || v === '') return '(none)'
  return typeof v === 'string' ? v : JSON.stringify(v)
}

/** Counts an example's label before and after; `hadField`/`hasField`: whether its old and new files have this label field. */
function tally(all: Map<string, LabelTally>, field: string, change: ExampleDiff['change'], oldEx: Record<string, unknown> | null, newEx: Record<string, unknown> | null, hadField = true, hasField = true): void {
  let t = all.get(field)
  if (!t) all.set(field, (t = {field, before: new Map(), after: new Map(), changed: 0}))
  const o = change === 'added' || !hadField ? null : labelValue(oldEx, field)
  const n = change === 'removed' || !hasField ? null : labelValue(newEx, field)
  if (o !== null) t.before.set(o, (t.before.get(o) ?? 0) + 1)
  if (n !== null) t.after.set(n, (t.after.get(n) ?? 0) + 1)
  if (o !== null && n !== null && o !== n) t.changed++
}

function finishTally(t: LabelTally): LabelSummary {
  const values = [...new Set([...t.before.keys(), ...t.after.keys()])].sort()
  return {field: t.field, values: values.map((value) => ({value, before: t.before.get(value) ?? 0, after: t.after.get(value) ?? 0})), changed: t.changed, scope: 'changed-examples'}
}
