/**
 * Example-level diff of two versions of a table, at a cost that follows the change:
 * leaves present in both versions are skipped without being read; only the records of
 * changed regions are hashed, and only records that differ are parsed for their key.
 *
 * Pairing: records with equal bytes (line ending aside: a last line that gains its
 * newline is not a changed example) are unchanged wherever they moved; the rest are
 * matched by key (keyed tables) or by position inside their changed region (keyless).
 */
import {createHash} from 'node:crypto'
import {listLeaves, recordHash, type LeafSpan} from './table-read.js'
import {reusableAllocator} from './bytes.js'
import {isBlankRecord, sameColumns, textEnd, type TableFormat} from './table-format.js'
import {keyOf, recordParser} from './example-key.js'
import {readLeafAt, type LeafLocation} from './table-write.js'
import {forEachLeafRecord} from './table-nodes.js'
import {changedRegions} from './changed-regions.js'
import {LeafListBuilder, unpackLeaf, type PackedLeaves} from './leaf-list.js'
import {DIFF_HEAP, WorkerPool, workerCount, worthWorkers} from './worker-pool.js'
import type {ObjectStore} from './object-store.js'
import {PackReader, WORKER_BLOCK_CACHE} from './pack.js'
import type {ChangeCounts, Table} from './model.js'

export interface RecordRef {
  /** 0-based index of the record in its table */
  index: number
  /** 1-based line where it starts (exact for JSONL and TSV; CSV counts records) */
  line: number
  bytes: Buffer
}

export interface ExampleChange {
  change: 'added' | 'removed' | 'modified'
  key: string | null
  old?: RecordRef
  new?: RecordRef
}

export interface TableDiff extends ChangeCounts {
  changes: ExampleChange[]
}

/** A record that has no identical copy on the other side. */
export interface UnmatchedRecord {
  ref: RecordRef
  region: number
  /** the example's key, parsed where the record was scanned (null: keyless or no key) */
  key: string | null
}

export interface ScanJob {
  /** the changed regions' leaves, region after region, each region's old leaves then its new ones */
  leaves: PackedLeaves
  /** per region: how many old leaves, how many new leaves */
  shape: Uint32Array
  oldHeaderLines: number
  newHeaderLines: number
  /** what parsing a record for its key needs: the key fields (none: keyless) and the formats */
  key: string[] | null
  /** send each unmatched record's bytes back (without: its key and place only) */
  recordBytes: boolean
  oldTable: {format: TableFormat; header: string}
  newTable: {format: TableFormat; header: string}
  /** bytes of leaves to read: for scheduling */
  size: number
  /**
   * CSV/TSV whose columns differ between the versions (renamed, reordered, added):
   * records are equal when their values under their own headers are, not their bytes.
   */
  byValue?: boolean
}

export interface ScanResult {
  old: UnmatchedRecord[]
  new: UnmatchedRecord[]
}

/** Tables scanned on worker threads when their changed regions hold at least this much. */
const WORKER_THRESHOLD = 32 << 20
/** Tables this many times WORKER_THRESHOLD in all (both versions) start the workers before any planning. */
const LARGE_TABLES_FACTOR = 8

const NO_BYTES = Buffer.alloc(0)

const EMPTY: Table = {format: 'jsonl', header: '', root: null, height: 0, records: 0, examples: 0, bytes: 0, fields: []}

export interface DiffOptions {
  /** keep each example change (with its bytes); without it only the counts are exact */
  details?: boolean
  /**
   * With details: also keep each changed record's bytes (default). Without them the
   * changes still carry keys and places (enough for counts and moves), and the workers
   * do not ship the records back.
   */
  recordBytes?: boolean
  /** the fields that identify an example (see example-key.ts); none: keyless */
  key?: string[] | null
  /**
   * Called with each table's diff (its index in `pairs`) as soon as it is known: while
   * workers still scan other tables, the caller can start on this one.
   */
  onTable?: (index: number, diff: TableDiff) => void
}


export async function diffTables(store: ObjectStore, before: Table | null, after: Table | null, opts: DiffOptions = {}): Promise<TableDiff> {
  return (await diffManyTables(store, [{before, after, key: opts.key ?? null}], opts))[0]
}

interface PlannedDiff {
  job: ScanJob | null
  shortcut?: TableDiff
}

/**
 * Diffs several tables, scanning their changed regions on worker threads (one per core)
 * when there is enough to read; keys are parsed and paired here.
 */
export async function diffManyTables(store: ObjectStore, pairs: Array<{before: Table | null; after: Table | null; key: string[] | null}>, opts: DiffOptions = {}): Promise<TableDiff[]> {
  const plans: PlannedDiff[] = []
  const diffs = new Map<number, TableDiff>()
  const found = (id: number, diff: TableDiff) => {
    diffs.set(id, diff)
    opts.onTable?.(id, diff)
  }
  // Workers take each table as it is planned, so planning the rest overlaps their scans.
  // They start at once when the tables are large (their start-up then overlaps the first
  // plan), else as soon as the reading expected for all tables (extrapolated from the
  // tables planned so far) is worth it. This thread scans too once planning is done, so
  // there is one worker fewer than cores: a worker per core left this thread's planning
  // and pairing to compete with both.
  let pool: WorkerPool<ScanJob & {id: number}, {id: number; result: ScanResult}, null> | undefined
  const startPool = () =>
    new WorkerPool<ScanJob & {id: number}, {id: number; result: ScanResult}, null>(new URL('./diff-worker.js', import.meta.url), {packDir: store.packDir}, workerCount(pairs.length) - 1,
      ({id, result}) => found(id, pairChanges(reviveScan(result), keyInOneVersionOnly(pairs[id]))), {resourceLimits: DIFF_HEAP, ahead: 2})
  const tableBytes = (p: (typeof pairs)[number]) => (p.before?.bytes ?? 0) + (p.after?.bytes ?? 0)
  const totalBytes = pairs.reduce((n, p) => n + tableBytes(p), 0)
  let plannedBytes = 0
  let planned = 0
  if (worthWorkers(totalBytes / LARGE_TABLES_FACTOR, WORKER_THRESHOLD, pairs.length)) pool = startPool()
  try {
    for (const p of pairs) {
      const plan = await planDiff(store, p.before, p.after, p.key, opts)
      plans.push(plan)
      plannedBytes += tableBytes(p)
      if (!plan.job) continue
      planned += plan.job.size
      const expected = plannedBytes > 0 ? (planned / plannedBytes) * totalBytes : planned
      if (!pool && worthWorkers(expected, WORKER_THRESHOLD, pairs.length)) {
        pool = startPool()
        plans.forEach((q, id) => q.job && pool!.submit({...q.job, id}))
      } else pool?.submit({...plan.job, id: plans.length - 1})
    }
  } catch (error) {
    await pool?.abort(error as Error)
    throw error
  }
  if (pool) {
    const reader = new PackReader(store.packDir, WORKER_BLOCK_CACHE, true) // as a worker's: scanRegions copies each leaf
    try {
      for (let job = pool.take(); job; job = pool.take()) {
        found(job.id, pairChanges(scanRegions(job, reader), keyInOneVersionOnly(pairs[job.id])))
        await new Promise(setImmediate) // results that came in meanwhile (a worker already holds its next job)
      }
    } catch (error) {
      await pool.abort(error as Error)
      throw error
    } finally {
      reader.close()
    }
    await pool.finish()
  }
  plans.forEach((p, id) => {
    if (p.shortcut) found(id, p.shortcut)
    else if (!diffs.has(id)) found(id, pairChanges(scanRegions(p.job!, store.reader), keyInOneVersionOnly(pairs[id])))
  })
  return plans.map((_p, id) => diffs.get(id)!)
}

async function planDiff(store: ObjectStore, before: Table | null, after: Table | null, key: string[] | null, opts: DiffOptions): Promise<PlannedDiff> {
  const a = before ?? {...EMPTY, format: after?.format ?? 'jsonl'}
  const b = after ?? {...EMPTY, format: a.format}
  if (!opts.details && (!before || !after)) {
    // a whole table added or removed: its example count is in the table object
    return {job: null, shortcut: {added: after?.examples ?? 0, removed: before?.examples ?? 0, modified: 0, changes: []}}
  }
  // with other columns, a row of equal bytes may hold other values: every row is compared
  const byValue = !!before && !!after && a.format !== 'jsonl' && !sameColumns(a, b)
  const regions = byValue ? [{old: await listLeaves(store, a), new: await listLeaves(store, b)}] : await changedRegions(store, a, b)
  const where = await store.locateForReading(regions.flatMap((r) => [...r.old, ...r.new].map((l) => l.oid)))
  const leaves = new LeafListBuilder(regions.reduce((n, r) => n + r.old.length + r.new.length, 0))
  const shape = new Uint32Array(regions.length * 2)
  let size = 0
  const add = (span: LeafSpan) => {
    const {loc, base} = where(span.oid)
    leaves.add(span, loc, base)
    size += span.bytes
  }
  regions.forEach((r, i) => {
    r.old.forEach(add)
    r.new.forEach(add)
    shape[i * 2] = r.old.length
    shape[i * 2 + 1] = r.new.length
  })
  const job: ScanJob = {
    leaves: leaves.finish(), shape, oldHeaderLines: a.header ? 1 : 0, newHeaderLines: b.header ? 1 : 0, size, key, recordBytes: (opts.details ?? false) && opts.recordBytes !== false,
    oldTable: {format: a.format as TableFormat, header: a.header}, newTable: {format: b.format as TableFormat, header: b.header},
    ...(byValue ? {byValue} : {}),
  }
  return {job}
}

/** Each record's values under its table's header, hashed (columns sorted by name): equal values, equal hashes. */
function addValues(recs: Records, t: ScanJob['oldTable']): void {
  const parse = recordParser(t.format, t.header)
  recs.value = recs.start.map((start, i) => {
    const fields = parse(recs.leaf[i].subarray(start, recs.end[i])) ?? {}
    return createHash('sha256').update(JSON.stringify(Object.keys(fields).sort().map((k) => [k, fields[k]]))).digest('base64')
  })
}

/**
 * Reads the changed regions (synchronously, from the packs) and matches records by hash:
 * inside each region first (most unchanged records sit beside their old copy), then
 * across regions (records that moved). Returns only the records left unmatched.
 */
export function scanRegions(job: ScanJob, reader: PackReader): ScanResult {
  const oldLeft: Pending[] = []
  const newLeft: Pending[] = []
  // kept for the thread's next table: fresh memory costs a page fault per 4 KiB
  const arena = (scanMemory.arena ??= new RegionArena())
  const alloc = (scanMemory.alloc ??= reusableAllocator()) // each leaf is copied into the arena at once
  let next = 0
  const take = (n: number) => Array.from({length: n}, () => unpackLeaf(job.leaves, next++))
  for (let region = 0; region < job.shape.length / 2; region++) {
    const oldLeaves = take(job.shape[region * 2])
    const newLeaves = take(job.shape[region * 2 + 1])
    // what outlives a region is copied out of the arena (pending)
    arena.reset()
    const olds = loadRecords(reader, oldLeaves, job.oldHeaderLines, arena, alloc)
    const news = loadRecords(reader, newLeaves, job.newHeaderLines, arena, alloc)
    if (job.byValue) {
      addValues(olds, job.oldTable)
      addValues(news, job.newTable)
    }
    const {po, pn, gapOld, gapNew, hashOld, hashNew} = alignRecords(olds, news)
    // what did not line up may still have moved inside the region; what stays unmatched
    // pairs by position only with records of the same gap between aligned records
    const o = po.map((i, k) => pending(olds, i, region * GAPS_PER_REGION + gapOld[k], hashOld))
    const n = pn.map((i, k) => pending(news, i, region * GAPS_PER_REGION + gapNew[k], hashNew))
    matchByHash(o, n)
    for (const x of o) if (!x.matched) oldLeft.push(x)
    for (const x of n) if (!x.matched) newLeft.push(x)
  }
  matchByHash(oldLeft, newLeft) // records that moved between regions
  // keys are parsed here, on the worker, only for the records left unmatched
  const finish = (t: ScanJob['oldTable']) => {
    const parse = job.key ? recordParser(t.format, t.header, true) : null // the header split once
    return ({matched: _m, hash: _h, ...rest}: Pending): UnmatchedRecord => {
      const ex = parse?.(rest.ref.bytes)
      if (ex) rest.key = keyOf(ex, job.key!)
      if (!job.recordBytes) rest.ref.bytes = NO_BYTES
      return rest
    }
  }
  return {old: oldLeft.filter((s) => !s.matched).map(finish(job.oldTable)), new: newLeft.filter((s) => !s.matched).map(finish(job.newTable))}
}

/**
 * The non-blank records of a run of leaves, as ranges of the leaves they lie in (no
 * Buffer per record: a region can hold hundreds of thousands): record k is
 * leaf[k][start[k], end[k]), its line terminator excluded, then `terminator[k]` bytes.
 */
export interface Records {
  leaf: Buffer[]
  start: number[]
  end: number[]
  terminator: number[]
  index: number[]
  headerLines: number
  /** with ScanJob.byValue: each record's values, hashed (see addValues), compared instead of its bytes */
  value?: string[]
}

/** Memory a thread's scans reuse, one table after another (a scan runs start to end, synchronously). */
const scanMemory: {arena?: RegionArena; alloc?: (size: number) => Buffer} = {}

/** A record while it is matched: its hash stays in the worker (the main thread pairs by key). */
type Pending = UnmatchedRecord & {hash: string; matched: boolean}

/**
 * One buffer the leaves of a region are copied into, reused region after region: a
 * region's records stay in use while more blocks are read (and a worker's pack reader
 * reuses the memory of blocks it lets go), and a copy per leaf kept the GC busy.
 */
export class RegionArena {
  buffer = Buffer.allocUnsafe(1 << 20)
  private used = 0

  reset(): void {
    this.used = 0
  }

  /** Copies `bytes` into `buffer` and returns where; a full arena moves to a new buffer (records already loaded keep the old one). */
  copy(bytes: Buffer): number {
    if (this.used + bytes.length > this.buffer.length) {
      this.buffer = Buffer.allocUnsafe(Math.max(this.buffer.length * 2, bytes.length))
      this.used = 0
    }
    this.buffer.set(bytes, this.used)
    this.used += bytes.length
    return this.used - bytes.length
  }
}

function loadRecords(reader: PackReader, spans: Array<LeafSpan & LeafLocation>, headerLines: number, arena: RegionArena, alloc: (size: number) => Buffer): Records {
  const out = emptyRecords(headerLines)
  for (const span of spans) {
    const content = readLeafAt(reader, span, alloc)
    const at = arena.copy(content)
    addLeafRecords(out, content, arena.buffer, at, span.start)
  }
  return out
}

export function emptyRecords(headerLines = 0): Records {
  return {leaf: [], start: [], end: [], terminator: [], index: [], headerLines}
}

/** The non-blank records of a leaf whose bytes lie in `leaf` from `at` on; the first is record `firstIndex` of its table. */
export function addLeafRecords(out: Records, content: Buffer, leaf: Buffer, at: number, firstIndex: number): void {
  let i = 0
  forEachLeafRecord(content, (start, end) => {
    const index = firstIndex + i++
    if (isBlankRecord(content, start, end)) return
    const text = textEnd(content, start, end)
    out.leaf.push(leaf)
    out.start.push(at + start)
    out.end.push(at + text)
    out.terminator.push(end - text)
    out.index.push(index)
  })
}

/** Record i of `a` and record j of `b` have the same bytes (terminators aside). */
function sameRecord(a: Records, i: number, b: Records, j: number): boolean {
  if (a.value && b.value) return a.value[i] === b.value[j]
  return a.end[i] - a.start[i] === b.end[j] - b.start[j] && a.leaf[i].compare(b.leaf[j], b.start[j], b.end[j], a.start[i], a.end[i]) === 0
}

function pending(recs: Records, i: number, region: number, hashes?: Array<string | undefined>): Pending {
  const leaf = recs.leaf[i]
  const bytes = Buffer.from(leaf.subarray(recs.start[i], recs.end[i] + recs.terminator[i])) // a copy: the leaf is let go
  const index = recs.index[i]
  const hash = hashes?.[i] ?? fingerprint(recs, i)
  return {ref: {index, line: index + 1 + recs.headerLines, bytes}, hash, region, key: null, matched: false}
}

/** How far ahead alignRecords looks for the next pair of equal records, record by record. */
const RESYNC_WINDOW = 8

/** Gap numbers are made unique across regions as region * GAPS_PER_REGION + gap. */
const GAPS_PER_REGION = 1 << 24

/** A record's identity for matching: its value hash (byValue scans) or its bytes' hash. */
function fingerprint(recs: Records, i: number): string {
  return recs.value ? recs.value[i] : recordHash(recs.leaf[i].subarray(recs.start[i], recs.end[i]))
}

/** How many records ahead a far resync looks: hashing and memory stay bounded on a region of millions of records. */
const FAR_WINDOW = 4096

/**
 * Where the records of one side of a region occur, by fingerprint, over a window of
 * records from the walk's position on (moved along as the walk goes): finds the next
 * copy of a record however far ahead it is within the window. Fingerprints are kept for
 * the records left unmatched.
 */
class Occurrences {
  private at = new Map<string, number[]>()
  private from = -1
  private to = -1
  readonly hashes: Array<string | undefined>

  constructor(private readonly recs: Records) {
    this.hashes = new Array<string | undefined>(recs.start.length)
  }

  get length(): number {
    return this.hashes.length
  }

  hash(i: number): string {
    return (this.hashes[i] ??= fingerprint(this.recs, i))
  }

  /** The first index >= from (within the window) holding a record with fingerprint h, or -1. */
  next(h: string, from: number): number {
    this.cover(from)
    const list = this.at.get(h)
    if (!list) return -1
    let lo = 0
    let hi = list.length
    while (lo < hi) {
      const mid = (lo + hi) >> 1
      if (list[mid] < from) lo = mid + 1
      else hi = mid
    }
    return lo < list.length ? list[lo] : -1
  }

  /** Indexes the window from `from` on, unless the current one still reaches half a window past it. */
  private cover(from: number): void {
    if (from >= this.from && (from + FAR_WINDOW / 2 <= this.to || this.to === this.length)) return
    this.at = new Map()
    this.from = from
    this.to = Math.min(this.length, from + FAR_WINDOW)
    for (let i = from; i < this.to; i++) {
      const h = this.hash(i)
      const list = this.at.get(h)
      if (list) list.push(i)
      else this.at.set(h, [i])
    }
  }
}

/**
 * Walks both sides in order, pairing equal records (a byte comparison: most of a region
 * is unchanged and in place), and skipping past inserted, deleted or edited records by
 * looking a few records ahead, then, when that finds nothing, for the nearest record that
 * occurs again on the other side however far (a block of inserted lines). Returns the
 * indices of the records left unpaired, each with the number of the gap (the stretch
 * between two aligned records) it sits in, and the fingerprints computed on the way.
 */
export function alignRecords(olds: Records, news: Records): {po: number[]; pn: number[]; gapOld: number[]; gapNew: number[]; hashOld?: Array<string | undefined>; hashNew?: Array<string | undefined>} {
  const aLength = olds.start.length
  const bLength = news.start.length
  const po: number[] = []
  const pn: number[] = []
  const gapOld: number[] = []
  const gapNew: number[] = []
  let inOld: Occurrences | undefined
  let inNew: Occurrences | undefined
  let gap = 0
  let i = 0
  let j = 0
  while (i < aLength && j < bLength) {
    if (sameRecord(olds, i, news, j)) {
      i++
      j++
      if (gapOld.length + gapNew.length > 0 && (gapOld.at(-1) === gap || gapNew.at(-1) === gap)) gap++ // a gap closes
      continue
    }
    let skip = nearResync(olds, i, news, j)
    // the window did not cover every pair left: look further, by fingerprint
    if (!skip && aLength - i + (bLength - j) > RESYNC_WINDOW + 2) {
      inOld ??= new Occurrences(olds)
      inNew ??= new Occurrences(news)
      skip = farResync(inOld, i, inNew, j)
    }
    const [x, y] = skip ?? [1, 1]
    for (let k = 0; k < x; k++) po.push(i + k)
    for (let k = 0; k < y; k++) pn.push(j + k)
    i += x
    j += y
    while (gapOld.length < po.length) gapOld.push(gap)
    while (gapNew.length < pn.length) gapNew.push(gap)
  }
  while (i < aLength) po.push(i++)
  while (j < bLength) pn.push(j++)
  while (gapOld.length < po.length) gapOld.push(gap)
  while (gapNew.length < pn.length) gapNew.push(gap)
  return {po, pn, gapOld, gapNew, hashOld: inOld?.hashes, hashNew: inNew?.hashes}
}

/** The fewest records (x old, y new) to skip, x + y <= RESYNC_WINDOW, so that the next two are equal; undefined if none. */
function nearResync(olds: Records, i: number, news: Records, j: number): [number, number] | undefined {
  for (let d = 1; d <= RESYNC_WINDOW; d++) {
    for (let x = 0; x <= d; x++) {
      const y = d - x
      if (i + x < olds.start.length && j + y < news.start.length && sameRecord(olds, i + x, news, j + y)) return [x, y]
    }
  }
  return undefined
}

/**
 * The records to skip so that the next two are equal, trying each of the next few
 * records of either side against its next copy on the other: the cheapest skip wins.
 */
function farResync(inOld: Occurrences, i: number, inNew: Occurrences, j: number): [number, number] | undefined {
  let best: [number, number] | undefined
  const consider = (x: number, y: number) => {
    if (!best || x + y < best[0] + best[1]) best = [x, y]
  }
  for (let x = 0; x <= RESYNC_WINDOW && i + x < inOld.length; x++) {
    const at = inNew.next(inOld.hash(i + x), j)
    if (at >= 0) consider(x, at - j)
  }
  for (let y = 0; y <= RESYNC_WINDOW && j + y < inNew.length; y++) {
    const at = inOld.next(inNew.hash(j + y), i)
    if (at >= 0) consider(at - i, y)
  }
  return best
}

/** A worker's records arrive as Uint8Arrays: Buffer views over the same memory (no copy). */
function reviveScan(r: ScanResult): ScanResult {
  const revive = (u: UnmatchedRecord) => {
    const b = u.ref.bytes
    u.ref.bytes = Buffer.from(b.buffer, b.byteOffset, b.byteLength)
    return u
  }
  return {old: r.old.map(revive), new: r.new.map(revive)}
}

/**
 * Whether one version's examples have the key fields and the other's do not (going by
 * each version's first example): a key added to or dropped from a file.
 */
function keyInOneVersionOnly(p: {before: Table | null; after: Table | null; key: string[] | null}): boolean {
  if (!p.key || !p.before?.records || !p.after?.records) return false
  const has = (t: Table) => p.key!.every((k) => t.fields.includes(k.split('.')[0]))
  return has(p.before) !== has(p.after)
}

/**
 * Pairs unmatched records into changes: by key, or by position inside their gap. When
 * the key was added to or dropped from the file (`keyChanged`), a record without a key
 * also pairs by position with a keyed record that found no partner, so the examples show
 * as modified, not all removed and all added. (Not otherwise: a keyed record without a
 * partner may have moved from another file.)
 */
function pairChanges(scan: ScanResult, keyChanged: boolean): TableDiff {
  const changes: ExampleChange[] = []
  const keyedOld = new Map<string, UnmatchedRecord[]>()
  const positionalOld: UnmatchedRecord[] = []
  const positionalNew: UnmatchedRecord[] = []
  const unpairedNew: UnmatchedRecord[] = []
  for (const o of scan.old) {
    const k = o.key
    if (k === null) positionalOld.push(o)
    else {
      const list = keyedOld.get(k)
      if (list) list.push(o)
      else keyedOld.set(k, [o])
    }
  }
  for (const n of scan.new) {
    const k = n.key
    if (k === null) {
      positionalNew.push(n)
      continue
    }
    const o = keyedOld.get(k)?.shift()
    if (o) changes.push({change: 'modified', key: k, old: o.ref, new: n.ref})
    else unpairedNew.push(n)
  }
  const unpairedOld = [...keyedOld.values()].flat()

  const byGap = (list: UnmatchedRecord[]) => {
    const m = new Map<number, UnmatchedRecord[]>()
    for (const s of list) {
      const l = m.get(s.region)
      if (l) l.push(s)
      else m.set(s.region, [s])
    }
    for (const l of m.values()) l.sort((x, y) => x.ref.index - y.ref.index)
    return m
  }
  const [po, pn, uo, un] = [byGap(positionalOld), byGap(positionalNew), byGap(unpairedOld), byGap(unpairedNew)]
  const pair = (o: UnmatchedRecord, n: UnmatchedRecord) => changes.push({change: 'modified', key: n.key ?? o.key, old: o.ref, new: n.ref})
  for (const r of new Set([...po.keys(), ...pn.keys(), ...uo.keys(), ...un.keys()])) {
    const os = po.get(r) ?? []
    const ns = pn.get(r) ?? []
    const keyedOs = uo.get(r) ?? []
    const keyedNs = un.get(r) ?? []
    const both = Math.min(os.length, ns.length)
    for (let i = 0; i < both; i++) pair(os[i], ns[i])
    const oldLeft = os.slice(both)
    const newLeft = ns.slice(both)
    const withNew = keyChanged ? Math.min(oldLeft.length, keyedNs.length) : 0
    for (let i = 0; i < withNew; i++) pair(oldLeft[i], keyedNs[i])
    const withOld = keyChanged ? Math.min(newLeft.length, keyedOs.length) : 0
    for (let i = 0; i < withOld; i++) pair(keyedOs[i], newLeft[i])
    for (const n of [...keyedNs.slice(withNew), ...newLeft.slice(withOld)]) changes.push({change: 'added', key: n.key, new: n.ref})
    for (const o of [...keyedOs.slice(withOld), ...oldLeft.slice(withNew)]) changes.push({change: 'removed', key: o.key, old: o.ref})
  }
  changes.sort((x, y) => (x.new?.index ?? x.old!.index) - (y.new?.index ?? y.old!.index))
  let added = 0
  let removed = 0
  let modified = 0
  for (const c of changes) {
    if (c.change === 'added') added++
    else if (c.change === 'removed') removed++
    else modified++
  }
  return {added, removed, modified, changes}
}

/** Pairs records with equal hashes (each at most once) and marks them matched. */
function matchByHash<S extends {hash: string; matched: boolean}>(olds: S[], news: S[]): void {
  const byKey = new Map<string, S[]>()
  for (const o of olds) {
    if (o.matched) continue
    const k = o.hash
    const list = byKey.get(k)
    if (list) list.push(o)
    else byKey.set(k, [o])
  }
  for (const n of news) {
    if (n.matched) continue
    const o = byKey.get(n.hash)?.shift()
    if (o) {
      o.matched = true
      n.matched = true
    }
  }
}
