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

/**
 * A unit is first looked for where it would be if nothing moved (right after the last unit
 * copied), then one further (the unit before it was deleted); a unit followed by that
 * in-place unit was inserted; then it may be an edit of the in-place unit; only then is
 * it searched for anywhere in the base, through an index of the base's units built at
 * that point. Most deltas are a few edits, insertions and deletions in place.
 * `copiedWhole[k]` is set to 1 for each target unit k copied whole from the base.
 */
export function computeDelta(base: Buffer, baseUnits: Span[], target: Buffer, targetUnits: Span[], header: UnitHeader = () => 0, copiedWhole?: Uint8Array): Buffer {
  let index: Map<string, number> | undefined
  const lookUp = (s: number, e: number): number | undefined => {
    if (!index) {
      index = new Map()
      for (let i = 0; i < baseUnits.length; i++) {
        const key = base.toString('latin1', baseUnits[i][0], baseUnits[i][1])
        if (!index.has(key)) index.set(key, i)
      }
    }
    return index.get(target.toString('latin1', s, e))
  }
  const same = (t: Span | undefined, b: Span | undefined) => t !== undefined && b !== undefined && target.compare(base, b[0], b[1], t[0], t[1]) === 0
  const w = new DeltaWriter(target, target.length)
  let covered = 0
  let lastBase = -1
  targetUnits.forEach((unit, k) => {
    const [s, e] = unit
    w.insertRange(covered, s) // bytes between units (none in well-formed content)
    covered = e
    const next = baseUnits[lastBase + 1]
    let at: number | undefined
    if (same(unit, next)) at = lastBase + 1
    else if (same(unit, baseUnits[lastBase + 2])) at = lastBase + 2
    else if (same(targetUnits[k + 1], next)) {
      w.insertRange(s, e) // inserted before the in-place unit
      return
    } else if (next === undefined || !editedInPlace(base, next, target, s, e, header)) at = lookUp(s, e)
    if (at !== undefined) {
      w.copyRange(baseUnits[at][0], e - s)
      lastBase = at
      if (copiedWhole) copiedWhole[k] = 1
    } else if (next !== undefined) {
      lastBase++
      const {tBody, bBody, p, q} = sharedEnds(base, next, target, s, e, header)
      if (p + q >= MIN_SHARED) {
        w.insertRange(s, tBody)
        w.copyRange(bBody, p)
        w.insertRange(tBody + p, e - q)
        w.copyRange(next[1] - q, q)
      } else w.insertRange(s, e)
    } else w.insertRange(s, e)
  })
  w.insertRange(covered, target.length)
  return w.finish()
}

/** The bodies (headers skipped) of target[s, e) and the base unit `b`, and their common prefix and suffix lengths. */
function sharedEnds(base: Buffer, b: Span, target: Buffer, s: number, e: number, header: UnitHeader): {tBody: number; bBody: number; p: number; q: number} {
  const tBody = s + header(target, s)
  const bBody = b[0] + header(base, b[0])
  const max = Math.min(e - tBody, b[1] - bBody)
  let p = 0
  while (p < max && target[tBody + p] === base[bBody + p]) p++
  let q = 0
  while (q < max - p && target[e - 1 - q] === base[b[1] - 1 - q]) q++
  return {tBody, bBody, p, q}
}

/** Whether target[s, e) shares at least half its body with the base unit `b` (prefix plus suffix). */
function editedInPlace(base: Buffer, b: Span, target: Buffer, s: number, e: number, header: UnitHeader): boolean {
  const {tBody, p, q} = sharedEnds(base, b, target, s, e, header)
  return (p + q) * 2 >= e - tBody
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
