/**
 * A table is a Merkle sequence: records are grouped into leaves at content-defined
 * boundaries (after a record whose hash, by the table's chunking rule, matches a bit
 * pattern: see chunking.ts), leaves into nodes the same way (by their ids). Equal content
 * gives the same ids however it was built, and an edit changes only the leaf around it
 * and the nodes above.
 *
 * leaf: varint count, count × (varint length, the record's bytes): a record and its
 *       length are one unit, so a delta copies a run of unchanged records in one op
 * node: varint height, varint count, count × (oid:32, varint records, varint bytes)
 */
import {ByteReader, ByteWriter} from './bytes.js'
import type {Span} from './delta.js'

/** A leaf ends after a record whose boundary byte (chunking.ts) has its low 4 bits zero: about 16 records. */
export const LEAF_MASK = 0x0f
export const LEAF_MAX_RECORDS = 256
/** Must stay well under ingest's READ_CHUNK: a pending leaf may span only two read buffers. */
export const LEAF_MAX_BYTES = 512 * 1024
/** A node ends after a child whose id has its low 5 bits zero: about 32 children. */
export const NODE_MASK = 0x1f
export const NODE_MAX_CHILDREN = 256

/**
 * Encodes a leaf. With `into`, the leaf is written into that reusable writer and the
 * result is a view that the next call overwrites: ingestion hashes every leaf but stores
 * few, and a fresh Buffer per leaf kept the garbage collector busy.
 */
export function encodeLeaf(records: Buffer[], into?: ByteWriter): Buffer {
  let total = 0
  for (const r of records) total += r.length
  const w = into ?? new ByteWriter(total + records.length * 3 + 8)
  w.reset()
  w.varint(records.length)
  for (const r of records) w.varint(r.length).bytes(r)
  return into ? w.view() : w.toBuffer()
}

/**
 * Walks a leaf's records in order, allocating nothing per record: `fn` gets where the
 * record's bytes lie and where its unit (length prefix included) starts.
 */
export function forEachLeafRecord(leaf: Buffer, fn: (start: number, end: number, unitStart: number) => void): void {
  const r = new ByteReader(leaf)
  const count = r.varint()
  for (let i = 0; i < count; i++) {
    const unitStart = r.pos
    const length = r.varint()
    const start = r.pos
    r.pos += length
    if (r.pos > leaf.length) throw new RangeError('leaf lengths do not add up')
    fn(start, r.pos, unitStart)
  }
  if (r.pos !== leaf.length) throw new RangeError('leaf lengths do not add up')
}

/** A leaf unit's header is its varint length prefix. */
export function leafUnitHeader(buf: Buffer, start: number): number {
  let n = 1
  while (buf[start + n - 1] >= 0x80) n++
  return n
}

/** The delta units of a leaf: one per record, length prefix included. */
export function leafRecordSpans(leaf: Buffer): Span[] {
  const units: Span[] = []
  forEachLeafRecord(leaf, (_start, end, unitStart) => units.push([unitStart, end]))
  return units
}

export function decodeLeaf(leaf: Buffer): Buffer[] {
  const records: Buffer[] = []
  forEachLeafRecord(leaf, (start, end) => records.push(leaf.subarray(start, end)))
  return records
}

/** The delta units of a node: one per child entry. */
export function nodeEntrySpans(content: Buffer): Span[] {
  const r = new ByteReader(content)
  r.varint()
  const n = r.varint()
  const spans: Span[] = []
  for (let i = 0; i < n; i++) {
    const start = r.pos
    r.pos += 32
    r.varint()
    r.varint()
    spans.push([start, r.pos])
  }
  return spans
}

export interface NodeChild {
  oid: Buffer
  records: number
  bytes: number
}

export function encodeNode(height: number, children: NodeChild[]): Buffer {
  const w = new ByteWriter(children.length * 40 + 8).varint(height).varint(children.length)
  for (const c of children) w.bytes(c.oid).varint(c.records).varint(c.bytes)
  return w.toBuffer()
}

/** A node, its children's ids in hex: what walks over many nodes want (no Buffer per child). */
export function decodeNodeHex(content: Buffer): {height: number; children: Array<{oid: string; records: number; bytes: number}>} {
  const r = new ByteReader(content)
  const height = r.varint()
  const n = r.varint()
  const children: Array<{oid: string; records: number; bytes: number}> = []
  for (let i = 0; i < n; i++) {
    r.bytes(32) // bounds check
    children.push({oid: content.toString('hex', r.pos - 32, r.pos), records: r.varint(), bytes: r.varint()})
  }
  return {height, children}
}

/** `boundaryByte`: the record's, under the table's chunking rule (chunking.ts). */
export function isLeafBoundary(boundaryByte: number, records: number, bytes: number): boolean {
  return (boundaryByte & LEAF_MASK) === 0 || records >= LEAF_MAX_RECORDS || bytes >= LEAF_MAX_BYTES
}

export function isNodeBoundary(childOid: Buffer, children: number): boolean {
  return (childOid[31] & NODE_MASK) === 0 || children >= NODE_MAX_CHILDREN
}
