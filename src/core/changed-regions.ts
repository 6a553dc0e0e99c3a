/**
 * The changed regions of two versions of a table, found in their record trees: both
 * trees are expanded level by level from their roots, and a subtree that lines up with
 * an equal one on the other side is never opened. Cost follows the change, not the
 * table's size.
 *
 * A level is kept as parallel arrays over one buffer of 32-byte ids, and membership is
 * tested in an open-addressing table keyed on the ids' first bytes (SHA-256, so
 * uniform): a level of a large table holds tens of thousands of entries, and a hex
 * string and an object per entry made this walk the largest cost on the main thread of
 * `dsv diff` (only the leaves of the changed regions are turned into hex ids).
 */
import {ByteReader} from './bytes.js'
import type {ObjectStore} from './object-store.js'
import type {LeafSpan} from './table-read.js'
import type {Table} from './model.js'

/** Leaves not common to both versions, old and new side by side. */
export interface Region {
  old: LeafSpan[]
  new: LeafSpan[]
}

const ID = 32
/** An id as 8 32-bit words: comparing and copying them in JS beats a native Buffer call per entry. */
const WORDS = ID / 4

const scratchId = Buffer.alloc(ID)
const scratchView = new DataView(scratchId.buffer, scratchId.byteOffset, ID)

/** One level of a tree walk: entry k is the subtree with id words[8k, 8k + 8) (height 0: a leaf). */
class Level {
  words: Int32Array
  readonly start: number[] = []
  readonly records: number[] = []
  readonly bytes: number[] = []
  readonly height: number[] = []

  constructor(capacity: number) {
    this.words = new Int32Array(Math.max(1, capacity) * WORDS)
  }

  get length(): number {
    return this.start.length
  }

  /** Appends a subtree whose id is `from[at, at + 32)`. */
  push(from: Uint8Array, at: number, start: number, records: number, bytes: number, height: number): void {
    const w = this.slot()
    for (let i = 0; i < WORDS; i++, at += 4) this.words[w + i] = from[at] | (from[at + 1] << 8) | (from[at + 2] << 16) | (from[at + 3] << 24)
    this.add(start, records, bytes, height)
  }

  /** Appends entry k of `from` as it is. */
  keep(from: Level, k: number): void {
    const w = this.slot()
    for (let i = 0; i < WORDS; i++) this.words[w + i] = from.words[k * WORDS + i]
    this.add(from.start[k], from.records[k], from.bytes[k], from.height[k])
  }

  private slot(): number {
    const w = this.length * WORDS
    if (w + WORDS > this.words.length) {
      const grown = new Int32Array(this.words.length * 2)
      grown.set(this.words)
      this.words = grown
    }
    return w
  }

  private add(start: number, records: number, bytes: number, height: number): void {
    this.start.push(start)
    this.records.push(records)
    this.bytes.push(bytes)
    this.height.push(height)
  }

  hex(k: number): string {
    for (let i = 0; i < WORDS; i++) scratchView.setInt32(i * 4, this.words[k * WORDS + i], true)
    return scratchId.toString('hex')
  }

  span(k: number): LeafSpan {
    return {oid: this.hex(k), start: this.start[k], records: this.records[k], bytes: this.bytes[k]}
  }
}

function sameId(a: Level, i: number, b: Level, j: number): boolean {
  const x = a.words
  const y = b.words
  for (let w = 0; w < WORDS; w++) if (x[i * WORDS + w] !== y[j * WORDS + w]) return false
  return true
}

/** The ids of a level, for membership tests. */
class IdSet {
  private readonly slots: Int32Array
  private readonly mask: number

  constructor(private readonly level: Level) {
    let size = 16
    while (size < level.length * 2) size *= 2
    this.slots = new Int32Array(size).fill(-1)
    this.mask = size - 1
    for (let k = 0; k < level.length; k++) {
      let s = level.words[k * WORDS] & this.mask
      while (this.slots[s] !== -1) s = (s + 1) & this.mask
      this.slots[s] = k
    }
  }

  /** Whether entry k of `other` has an id in this set. */
  has(other: Level, k: number): boolean {
    return this.indexOf(other, k) >= 0
  }

  /** Where this set's level holds the id of entry k of `other` (-1: nowhere). */
  indexOf(other: Level, k: number): number {
    let s = other.words[k * WORDS] & this.mask
    for (;;) {
      const e = this.slots[s]
      if (e === -1 || sameId(this.level, e, other, k)) return e
      s = (s + 1) & this.mask
    }
  }
}

export async function changedRegions(store: ObjectStore, a: Table, b: Table): Promise<Region[]> {
  const {olds, news, regions} = await alignTrees(store, a, b)
  return regions.map((r) => ({old: r.old.map((k) => olds.span(k)), new: r.new.map((k) => news.span(k))}))
}

/** A run of bytes of the old version's records (from the first record on) to copy. */
export interface CopyRange {
  from: number
  length: number
}

/**
 * How to write table b's records when a file holding table a is at hand (a checkout
 * between neighbouring versions): in order, runs of bytes to copy from a's records (the
 * subtrees both versions share, merged when adjacent) and the leaves of b that a lacks.
 */
export async function rewritePlan(store: ObjectStore, a: Table, b: Table): Promise<Array<CopyRange | LeafSpan>> {
  const {olds, news, inOld} = await alignTrees(store, a, b)
  const offsets = new Float64Array(olds.length)
  for (let k = 1; k < olds.length; k++) offsets[k] = offsets[k - 1] + olds.bytes[k - 1]
  const parts: Array<CopyRange | LeafSpan> = []
  for (let k = 0; k < news.length; k++) {
    // an entry outside the changed regions (a subtree of any height) is in a's records;
    // one inside is a leaf a lacks, unless both hold it in another order
    const i = inOld.indexOf(news, k)
    if (i < 0) {
      if (news.height[k] !== 0) throw new RangeError('a changed region was not opened down to its leaves')
      parts.push(news.span(k))
      continue
    }
    const last = parts.at(-1)
    if (last && 'from' in last && last.from + last.length === offsets[i]) last.length += news.bytes[k]
    else parts.push({from: offsets[i], length: news.bytes[k]})
  }
  return parts
}

type Regions = Array<{old: number[]; new: number[]}>

/** Both trees walked down to their changed regions: the last levels, the regions in them, and the old level's ids. */
async function alignTrees(store: ObjectStore, a: Table, b: Table): Promise<{olds: Level; news: Level; regions: Regions; inOld: IdSet}> {
  let olds = rootLevel(a)
  let news = rootLevel(b)
  for (;;) {
    const {regions, inOld} = alignLevels(olds, news)
    const openOld = new Uint8Array(olds.length)
    const openNew = new Uint8Array(news.length)
    const nodes = new Map<string, Buffer | null>()
    for (const r of regions) {
      for (const k of r.old) if (olds.height[k] > 0) (openOld[k] = 1), nodes.set(olds.hex(k), null)
      for (const k of r.new) if (news.height[k] > 0) (openNew[k] = 1), nodes.set(news.hex(k), null)
    }
    if (nodes.size === 0) return {olds, news, regions, inOld}
    const located = await store.locateMany([...nodes.keys()])
    for (const oid of nodes.keys()) nodes.set(oid, (await store.getLocated(oid, located, 'node')).content)
    olds = expand(olds, openOld, nodes)
    news = expand(news, openNew, nodes)
  }
}

function rootLevel(t: Table): Level {
  const level = new Level(1)
  if (t.root) level.push(Buffer.from(t.root, 'hex'), 0, 0, t.records, t.bytes - Buffer.byteLength(t.header), t.height)
  return level
}

/** The next level: each opened node replaced by its children, everything else kept. */
function expand(level: Level, open: Uint8Array, nodes: Map<string, Buffer | null>): Level {
  const out = new Level(level.length * 4)
  for (let k = 0; k < level.length; k++) {
    if (!open[k]) {
      out.keep(level, k)
      continue
    }
    const node = nodes.get(level.hex(k))!
    const r = new ByteReader(node)
    const height = r.varint()
    const count = r.varint()
    let start = level.start[k]
    for (let c = 0; c < count; c++) {
      const at = r.pos
      r.pos += ID
      if (r.pos > node.length) throw new RangeError('truncated node')
      const records = r.varint()
      const bytes = r.varint()
      out.push(node, at, start, records, bytes, height - 1)
      start += records
    }
  }
  return out
}

/**
 * Groups the entries that are not common to both sides into aligned changed regions
 * (entry indices): walking both in order, equal ids pair up; a run of entries absent
 * from the other side is a region.
 */
function alignLevels(olds: Level, news: Level): {regions: Regions; inOld: IdSet} {
  const inOld = new IdSet(olds)
  const inNew = new IdSet(news)
  const regions: Regions = []
  let i = 0
  let j = 0
  while (i < olds.length || j < news.length) {
    if (i < olds.length && j < news.length && sameId(olds, i, news, j)) {
      i++
      j++
      continue
    }
    const region: {old: number[]; new: number[]} = {old: [], new: []}
    while (i < olds.length && !inNew.has(olds, i)) region.old.push(i++)
    while (j < news.length && !inOld.has(news, j)) region.new.push(j++)
    if (region.old.length === 0 && region.new.length === 0) {
      // both sides stand on common entries in a different order: treat them as changed
      if (i < olds.length) region.old.push(i++)
      if (j < news.length) region.new.push(j++)
    }
    regions.push(region)
  }
  return {regions, inOld}
}
