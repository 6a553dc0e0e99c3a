/**
 * Leaf locations packed into flat arrays, to send to a worker thread: a structured clone
 * of an object per leaf (its id and pack names as strings) cost the main thread of
 * `dsv diff` and checkout about 2 µs per leaf to send, and the worker more to rebuild,
 * for tens of thousands of leaves.
 */
import type {PackLocation} from './pack.js'
import type {LeafSpan} from './table-read.js'
import type {LeafLocation} from './table-write.js'

/** Per leaf: start, records, bytes, pack, block offset, entry offset, then the same three for its delta base (pack -1: none). */
const FIELDS = 9
const ID = 32

export interface PackedLeaves {
  count: number
  /** leaf k's id: bytes [32k, 32k + 32) */
  ids: Uint8Array
  fields: Float64Array
  packs: string[]
}

export class LeafListBuilder {
  private ids: Buffer
  private fields: Float64Array
  private count = 0
  private readonly packs = new Map<string, number>()

  constructor(capacity = 64) {
    this.ids = Buffer.allocUnsafe(Math.max(1, capacity) * ID)
    this.fields = new Float64Array(Math.max(1, capacity) * FIELDS)
  }

  get length(): number {
    return this.count
  }

  /** Adds a leaf (where it starts in its table, when the reader needs that) and where it lies. */
  add(span: {oid: string; start?: number; records?: number; bytes?: number}, loc: PackLocation, base?: PackLocation): void {
    if (this.count * ID >= this.ids.length) {
      const ids = Buffer.allocUnsafe(this.ids.length * 2)
      this.ids.copy(ids)
      this.ids = ids
      const fields = new Float64Array(this.fields.length * 2)
      fields.set(this.fields)
      this.fields = fields
    }
    if (this.ids.write(span.oid, this.count * ID, ID, 'hex') !== ID) throw new RangeError(`not an object id: ${span.oid}`)
    const f = this.count++ * FIELDS
    this.fields[f] = span.start ?? 0
    this.fields[f + 1] = span.records ?? 0
    this.fields[f + 2] = span.bytes ?? 0
    this.location(f + 3, loc)
    if (base) this.location(f + 6, base)
    else this.fields[f + 6] = -1
  }

  private location(at: number, loc: PackLocation): void {
    let pack = this.packs.get(loc.packId)
    if (pack === undefined) this.packs.set(loc.packId, (pack = this.packs.size))
    this.fields[at] = pack
    this.fields[at + 1] = loc.blockOffset
    this.fields[at + 2] = loc.entryOffset
  }

  /** The list, in memory of its own: a clone sends a view's whole buffer. */
  finish(): PackedLeaves {
    return {count: this.count, ids: this.ids.slice(0, this.count * ID), fields: this.fields.slice(0, this.count * FIELDS), packs: [...this.packs.keys()]}
  }
}

/** Leaf k of a packed list, as the readers take it. */
export function unpackLeaf(list: PackedLeaves, k: number): LeafSpan & LeafLocation {
  const f = k * FIELDS
  const fields = list.fields
  const at = (i: number): PackLocation => ({packId: list.packs[fields[i]], blockOffset: fields[i + 1], entryOffset: fields[i + 2]})
  const oid = Buffer.from(list.ids.buffer, list.ids.byteOffset + k * ID, ID).toString('hex')
  return {oid, start: fields[f], records: fields[f + 1], bytes: fields[f + 2], loc: at(f + 3), base: fields[f + 6] < 0 ? undefined : at(f + 6)}
}
