/**
 * Unit deltas: a new object expressed as copies of byte ranges from a base object plus
 * inserted bytes. Units are the natural pieces of the content (records of a leaf,
 * entries of a node), so an edited record costs about its own size.
 *
 * Encoding: varint targetLength, then ops: 0x00 varint n <n bytes> (insert) or
 * 0x01 varint baseOffset varint n (copy).
 */
import {ByteReader, ByteWriter} from './bytes.js'

export type Span = [start: number, end: number]

export function computeDelta(base: Buffer, baseUnits: Span[], target: Buffer, targetUnits: Span[]): Buffer {
  const index = new Map<string, number>()
  for (const [s, e] of baseUnits) {
    const key = base.toString('latin1', s, e)
    if (!index.has(key)) index.set(key, s)
  }
  const out = new ByteWriter(256).varint(target.length)
  let pendingCopy: [number, number] | null = null
  let insertStart = -1
  let insertEnd = -1
  const flushInsert = () => {
    if (insertStart < 0) return
    out.byte(0).varint(insertEnd - insertStart).bytes(target, insertStart, insertEnd)
    insertStart = -1
  }
  const flushCopy = () => {
    if (!pendingCopy) return
    out.byte(1).varint(pendingCopy[0]).varint(pendingCopy[1])
    pendingCopy = null
  }
  let covered = 0
  for (const [s, e] of targetUnits) {
    if (s > covered) {
      // bytes between units (none for well-formed unit lists) are inserted verbatim
      flushCopy()
      if (insertStart < 0) insertStart = covered
      insertEnd = s
    }
    const at = index.get(target.toString('latin1', s, e))
    if (at === undefined) {
      flushCopy()
      if (insertStart < 0) insertStart = s
      insertEnd = e
    } else {
      flushInsert()
      if (pendingCopy && pendingCopy[0] + pendingCopy[1] === at) pendingCopy[1] += e - s
      else {
        flushCopy()
        pendingCopy = [at, e - s]
      }
    }
    covered = e
  }
  if (covered < target.length) {
    flushCopy()
    if (insertStart < 0) insertStart = covered
    insertEnd = target.length
  }
  flushInsert()
  flushCopy()
  return out.toBuffer()
}

export function applyDelta(base: Buffer, delta: Buffer): Buffer {
  const r = new ByteReader(delta)
  const size = r.varint()
  const out = Buffer.allocUnsafe(size)
  let at = 0
  while (!r.done) {
    const op = r.byte()
    if (op === 0) {
      const n = r.varint()
      r.bytes(n).copy(out, at)
      at += n
    } else if (op === 1) {
      const off = r.varint()
      const n = r.varint()
      if (off + n > base.length) throw new RangeError('delta copies past the end of its base')
      base.copy(out, at, off, off + n)
      at += n
    } else throw new RangeError(`bad delta op ${op}`)
    if (at > size) throw new RangeError('delta overruns its target length')
  }
  if (at !== size) throw new RangeError('delta shorter than its target length')
  return out
}
