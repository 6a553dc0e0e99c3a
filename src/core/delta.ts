/**
 * Unit deltas: a new object expressed as copies of byte ranges from a base object plus
 * inserted bytes. Units are the natural pieces of the content (records of a leaf,
 * entries of a node). A unit found whole in the base is copied; a unit that is not is
 * compared with the base unit that follows the last one copied (its old version, when
 * one example was edited in place) and only the bytes between their common prefix and
 * suffix are inserted, so relabelling an example costs a few bytes, not the example.
 *
 * Encoding: varint targetLength, then ops: 0x00 varint n <n bytes> (insert) or
 * 0x01 varint baseOffset varint n (copy).
 */
import {ByteReader, ByteWriter} from './bytes.js'

export type Span = [start: number, end: number]

/** How many leading bytes of a unit are its own header (e.g. a length prefix): never shared. */
export type UnitHeader = (buf: Buffer, start: number) => number

/** Below this many shared bytes, a unit is inserted whole (ops cost bytes too). */
const MIN_SHARED = 16

class DeltaWriter {
  private out: ByteWriter
  private insert: Span | null = null
  private copy: Span | null = null // [baseOffset, length]

  constructor(private readonly target: Buffer, targetLength: number) {
    this.out = new ByteWriter(256).varint(targetLength)
  }

  insertRange(start: number, end: number): void {
    if (end <= start) return
    this.flushCopy()
    if (this.insert && this.insert[1] === start) this.insert[1] = end
    else {
      this.flushInsert()
      this.insert = [start, end]
    }
  }

  copyRange(baseOffset: number, length: number): void {
    if (length <= 0) return
    this.flushInsert()
    if (this.copy && this.copy[0] + this.copy[1] === baseOffset) this.copy[1] += length
    else {
      this.flushCopy()
      this.copy = [baseOffset, length]
    }
  }

  private flushInsert(): void {
    if (!this.insert) return
    const [s, e] = this.insert
    this.out.byte(0).varint(e - s).bytes(this.target, s, e)
    this.insert = null
  }

  private flushCopy(): void {
    if (!this.copy) return
    this.out.byte(1).varint(this.copy[0]).varint(this.copy[1])
    this.copy = null
  }

  finish(): Buffer {
    this.flushInsert()
    this.flushCopy()
    return this.out.toBuffer()
  }
}

export function computeDelta(base: Buffer, baseUnits: Span[], target: Buffer, targetUnits: Span[], header: UnitHeader = () => 0): Buffer {
  const index = new Map<string, number>()
  baseUnits.forEach(([s, e], i) => {
    const key = base.toString('latin1', s, e)
    if (!index.has(key)) index.set(key, i)
  })
  const w = new DeltaWriter(target, target.length)
  let covered = 0
  let lastBase = -1
  for (const [s, e] of targetUnits) {
    w.insertRange(covered, s) // bytes between units (none in well-formed content)
    const at = index.get(target.toString('latin1', s, e))
    if (at !== undefined) {
      w.copyRange(baseUnits[at][0], e - s)
      lastBase = at
    } else if (lastBase + 1 < baseUnits.length) {
      lastBase++
      const [bs, be] = baseUnits[lastBase]
      const th = header(target, s)
      const bh = header(base, bs)
      const tBody = s + th
      const bBody = bs + bh
      const max = Math.min(e - tBody, be - bBody)
      let p = 0
      while (p < max && target[tBody + p] === base[bBody + p]) p++
      let q = 0
      while (q < max - p && target[e - 1 - q] === base[be - 1 - q]) q++
      if (p + q >= MIN_SHARED) {
        w.insertRange(s, tBody)
        w.copyRange(bBody, p)
        w.insertRange(tBody + p, e - q)
        w.copyRange(be - q, q)
      } else w.insertRange(s, e)
    } else w.insertRange(s, e)
    covered = e
  }
  w.insertRange(covered, target.length)
  return w.finish()
}

/** `alloc` gives the memory the result is built in (a reader on a hot path reuses one buffer). */
export function applyDelta(base: Buffer, delta: Buffer, alloc: (size: number) => Buffer = Buffer.allocUnsafe): Buffer {
  const r = new ByteReader(delta)
  const size = r.varint()
  const out = alloc(size)
  let at = 0
  while (!r.done) {
    const op = r.byte()
    if (op === 0) {
      const n = r.varint()
      if (at + n > size) throw new RangeError('delta overruns its target length')
      r.bytes(n).copy(out, at)
      at += n
    } else if (op === 1) {
      const off = r.varint()
      const n = r.varint()
      if (off + n > base.length) throw new RangeError('delta copies past the end of its base')
      if (at + n > size) throw new RangeError('delta overruns its target length')
      base.copy(out, at, off, off + n)
      at += n
    } else throw new RangeError(`bad delta op ${op}`)
  }
  if (at !== size) throw new RangeError('delta shorter than its target length')
  return out
}
