/**
 * Turning one data file into leaves: read in large chunks, split and validate records,
 * hash each record, cut leaves at content-defined boundaries, and store every leaf that
 * is not already there (as a delta against the matching leaf of the previous version
 * when that is smaller). Synchronous and free of LevelDB so that it runs in workers.
 */
import {closeSync, openSync, readSync} from 'node:fs'
import {ByteWriter} from './bytes.js'
import {checkJsonRecord, isBlankRecord, RecordSplitter, sameColumns, splitHeader, stripTerminator, type TableFormat} from './table-format.js'
import {encodeLeaf, isLeafBoundary, LEAF_MAX_BYTES, leafRecordSpans} from './table-nodes.js'
import {addLeafRecords, emptyRecords, RegionArena, type Records} from './table-diff.js'
import {ChangeTally} from './ingest-counts.js'
import {chooseKeyOfVersions} from './example-key.js'
import type {ChangeCounts} from './model.js'
import {objectIdBytes} from './object-kinds.js'
import {boundaryByte, type ChunkingRule} from './chunking.js'
import type {Span} from './delta.js'
import {DsvError} from '../errors/index.js'

export const READ_CHUNK = 4 << 20

export interface LeafRef {
  oid: string
  records: number
  bytes: number
}

/** A leaf of the previous version of the same file: a dedup hit and a delta base. */
export interface OldLeaf extends LeafRef {
  /** The full (non-delta) object to delta against: the leaf itself or its base. */
  keyframe?: string
}

/** A candidate delta base, read only if the store gets to it. */
export type DeltaBase = () => {oid: string; content: Buffer; units: Span[]} | null

export interface LeafStore {
  /** Reads the full content of a stored object (verified), or null if unavailable. */
  readFull(oid: string): Buffer | null
  /**
   * Stores a leaf, as a delta against one of `bases` (nearest first) when that is smaller.
   * `content` is valid only during the call. Returns, when stored as a delta, a flag per
   * record (per target unit): 1 for a record copied whole from the base.
   */
  write(oid: Buffer, content: Buffer, bases?: DeltaBase[], targetUnits?: Span[]): Uint8Array | null
  /** A stored leaf's content (rebuilt if stored as a delta), verified; null if unavailable. */
  readLeaf(oid: string): Buffer | null
}

export interface IngestTask {
  absPath: string
  relPath: string
  format: TableFormat
  oldLeaves: OldLeaf[]
  /**
   * Count the example changes against the previous version (whose leaves are `oldLeaves`)
   * while ingesting: `keys` is the repository's key config, `old` the previous table.
   */
  counting?: {keys: Record<string, string>; old: {format: TableFormat; header: string; fields: string[]}}
  /** the previous version's chunking rule, or the newest for a new table (see chunking.ts) */
  chunking: ChunkingRule
}

export interface IngestResult {
  relPath: string
  format: TableFormat
  header: string
  leaves: LeafRef[]
  records: number
  examples: number
  bytes: number
  /** Field names of the first example (JSONL) or the header's columns (CSV/TSV). */
  fields: string[]
  newLeaves: number
  chunking: ChunkingRule
  /** with `counting`: the example changes against the previous version; null when they could not be counted here */
  changes?: ChangeCounts | null
}

/**
 * Memory that ingestion reuses from one file to the next on a thread (files are ingested
 * one at a time, start to end): fresh memory costs a page fault per 4 KiB, and the read
 * buffers, leaf writer and counting arena came to ~14 MB per file.
 */
const ingestMemory: {reads?: Buffer[]; leafWriter?: ByteWriter; arena?: RegionArena} = {}

export function ingestTable(task: IngestTask, store: LeafStore): IngestResult {
  const oldIndex = new Map<string, number>()
  task.oldLeaves.forEach((l, i) => oldIndex.set(l.oid, i))
  // where each old leaf starts, in records; `drift` is how far the new file has shifted
  // against the old one (records inserted minus removed), as of the last leaf both share
  const oldStarts: number[] = []
  let at = 0
  for (const l of task.oldLeaves) {
    oldStarts.push(at)
    at += l.records
  }
  let drift = 0
  const counter = task.counting ? new IngestCounter(task.oldLeaves, oldIndex, store) : null
  let header: Buffer = Buffer.alloc(0)
  let fields: string[] | null = null
  const leaves: LeafRef[] = []
  let pending: Buffer[] = []
  let pendingLines: number[] = []
  let pendingBytes = 0
  let records = 0
  let examples = 0
  let bytes = 0
  let newLeaves = 0
  // the leaf being closed is encoded here; only a new leaf is copied (into a pack block)
  const leafWriter = (ingestMemory.leafWriter ??= new ByteWriter(LEAF_MAX_BYTES * 2))

  const closeLeaf = () => {
    const content = encodeLeaf(pending, leafWriter)
    const oidBytes = objectIdBytes('leaf', content)
    const oid = oidBytes.toString('hex')
    const start = records - pending.length
    leaves.push({oid, records: pending.length, bytes: pendingBytes})
    const matched = oldIndex.get(oid)
    counter?.leafClosed(oid, matched, content)
    if (matched !== undefined) {
      drift = start - oldStarts[matched]
    } else {
      newLeaves++
      // delta bases: the old leaves that held the same records (shifted by the drift)
      const bases = overlappingLeaves(oldStarts, task.oldLeaves, start - drift, pending.length, 3).map((old): DeltaBase => () => {
        const keyframe = old.keyframe ?? old.oid
        const baseContent = store.readFull(keyframe)
        return baseContent && {oid: keyframe, content: baseContent, units: leafRecordSpans(baseContent)}
      })
      const fromBase = store.write(oidBytes, content, bases, bases.length > 0 ? leafRecordSpans(content) : undefined)
      // records already stored were valid when stored (a leaf that is found, or a record its
      // delta copies whole from an old leaf): only the others are parsed. A failure here
      // drops the pack being written with the rest of the commit.
      if (task.format === 'jsonl') pending.forEach((rec, i) => fromBase?.[i] || isBlankRecord(rec) || checkJsonRecord(rec, task.relPath, pendingLines[i]))
    }
    pending = []
    pendingLines = []
    pendingBytes = 0
  }

  const boundaryOf = boundaryByte(task.chunking)
  const splitter = new RecordSplitter(task.format, task.relPath, {
    header(rec) {
      header = Buffer.from(rec)
      fields = splitHeader(stripTerminator(rec).toString('utf8'), task.format)
    },
    record(rec, line, blank) {
      records++
      bytes += rec.length
      if (!blank) {
        examples++
        if (!fields && task.format === 'jsonl') {
          checkJsonRecord(rec, task.relPath, line)
          fields = Object.keys(JSON.parse(rec.toString('utf8')))
        }
      }
      pending.push(rec)
      pendingLines.push(line)
      pendingBytes += rec.length
      if (isLeafBoundary(boundaryOf(rec), pending.length, pendingBytes)) closeLeaf()
    },
  }, true)

  let fd: number
  try {
    fd = openSync(task.absPath, 'r')
  } catch (error) {
    throw new DsvError('E_UNREADABLE_FILE', `${task.relPath}: cannot read (${(error as NodeJS.ErrnoException).code})`, {file: task.relPath})
  }
  try {
    // Records are views into the read buffer until their leaf closes; a leaf (at most
    // LEAF_MAX_BYTES) never spans more than two chunks, so three buffers can rotate.
    const buffers = (ingestMemory.reads ??= [Buffer.allocUnsafe(READ_CHUNK), Buffer.allocUnsafe(READ_CHUNK), Buffer.allocUnsafe(READ_CHUNK)])
    for (let turn = 0; ; turn++) {
      const chunk = buffers[turn % buffers.length]
      const n = readSync(fd, chunk, 0, READ_CHUNK, null)
      if (n === 0) break
      splitter.push(chunk.subarray(0, n))
    }
    splitter.end()
  } finally {
    closeSync(fd)
  }
  if (pending.length > 0) closeLeaf()
  const result: IngestResult = {relPath: task.relPath, format: task.format, header: header.toString('utf8'), leaves, records, examples, bytes: bytes + header.length, fields: fields ?? [], newLeaves, chunking: task.chunking}
  if (counter) {
    const key = chooseKeyOfVersions(task.relPath, result.fields, task.counting!.old.fields, task.counting!.keys)
    // other columns: rows of equal bytes may hold other values, which the commit's diff compares
    const comparable = task.format === 'jsonl' || sameColumns(task.counting!.old, result)
    result.changes = key && comparable ? counter.finish(key, task.counting!.old, {format: task.format, header: result.header}) : null
  }
  return result
}

/** A changed region (old and new leaves), or records left unpaired, beyond this are left to the diff's scan: memory stays bounded. */
const COUNT_REGION_MAX = 32 << 20

/**
 * Feeds a ChangeTally as leaves close. A new leaf that no old leaf equals is kept (copied
 * into a reused arena) until the next common leaf; then the old leaves before that one that are not
 * common are read (usually still in the reader's cache, as delta bases), and both go to
 * the tally as one region.
 */
class IngestCounter {
  private readonly tally = new ChangeTally()
  /** false once the counts could differ from the diff's (see ingest-counts.ts) */
  private countable: boolean
  private readonly seen = new Set<string>()
  /** old leaves before this index are settled: common, or given to the tally */
  private settled = 0
  private kept = emptyRecords()
  /** the leaves of the region being gathered (reused: what outlives a region is copied out) */
  private readonly arena = (ingestMemory.arena ??= new RegionArena())
  private regionBytes = 0

  constructor(private readonly oldLeaves: OldLeaf[], oldIndex: Map<string, number>, private readonly store: LeafStore) {
    this.countable = oldIndex.size === oldLeaves.length // no old leaf twice
  }

  /** `content`: the encoded leaf (valid during the call). */
  leafClosed(oid: string, matched: number | undefined, content: Buffer): void {
    if (!this.countable) return
    if (this.seen.has(oid) || (matched !== undefined && matched < this.settled)) return this.giveUp() // a new leaf twice, or common leaves out of order
    this.seen.add(oid)
    if (matched === undefined) this.keep(this.kept, content)
    else {
      this.settle(matched)
      this.settled = matched + 1
    }
  }

  /** The region before old leaf `end`: its old leaves and the new leaves kept. */
  private settle(end: number): void {
    const olds = emptyRecords()
    for (; this.settled < end && this.countable; this.settled++) {
      const content = this.store.readLeaf(this.oldLeaves[this.settled].oid)
      if (!content) return this.giveUp()
      this.keep(olds, content) // the reader reuses its memory
    }
    if (!this.countable) return
    this.tally.addRegion(olds, this.kept)
    this.dropRegion()
    if (this.tally.bytes > COUNT_REGION_MAX) this.giveUp() // many examples changed: the diff's scan counts them
  }

  private keep(records: Records, content: Buffer): void {
    this.regionBytes += content.length
    if (this.regionBytes > COUNT_REGION_MAX) return this.giveUp() // a file rewritten wholesale: the diff's scan counts it
    const at = this.arena.copy(content)
    addLeafRecords(records, content, this.arena.buffer, at, 0)
  }

  private dropRegion(): void {
    this.kept = emptyRecords()
    this.arena.reset()
    this.regionBytes = 0
  }

  /** The counts could differ from the diff's, or would take too much memory: the commit's scan counts this table. */
  private giveUp(): void {
    this.countable = false
    this.dropRegion()
  }

  finish(key: string[], old: {format: TableFormat; header: string}, now: {format: TableFormat; header: string}): ChangeCounts | null {
    if (this.countable) this.settle(this.oldLeaves.length)
    return this.countable ? this.tally.counts(key, old, now) : null
  }
}

/** Up to `max` old leaves overlapping records [from, from + count), nearest first. */
function overlappingLeaves(starts: number[], leaves: OldLeaf[], from: number, count: number, max: number): OldLeaf[] {
  if (leaves.length === 0) return []
  // the last leaf starting at or before `from`
  let lo = 0
  let hi = starts.length - 1
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1
    if (starts[mid] <= Math.max(0, from)) lo = mid
    else hi = mid - 1
  }
  const out: OldLeaf[] = []
  for (let i = lo; i < leaves.length && out.length < max && (starts[i] < from + count || out.length === 0); i++) out.push(leaves[i])
  return out
}
