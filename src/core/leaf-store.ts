/**
 * The LeafStore that ingestion writes through, in a worker or in-process: new leaves go
 * to a pack of its own; delta bases are read straight from the packs at locations the
 * main thread looked up, and verified.
 */
import {computeDelta} from './delta.js'
import {readLeafAt} from './table-write.js'
import {leafUnitHeader} from './table-nodes.js'
import {objectIdBytes} from './object-kinds.js'
import {packLocationOf, PackReader, WORKER_BLOCK_CACHE, PackWriter, type PackEntryInfo, type PackLocation} from './pack.js'
import type {IndexEntry} from './index-db.js'
import type {DeltaBase, LeafStore} from './ingest.js'
import type {Span} from './delta.js'

/** Any delta clearly smaller than the leaf is worth it: reading one costs one more (cached) block. */
const DELTA_WORTH_IT = 0.9
/**
 * A worker finishes its pack after a file once the pack holds this much: the main thread
 * indexes it while the worker ingests the next file, instead of all at the end.
 */
export const PACK_SPLIT_BYTES = 8 << 20

/** A delta this small (a few edited examples) is kept without trying the other bases. */
const DELTA_GOOD_ENOUGH = 0.125

/** Where a stored leaf lies, and the id of its delta base (hex) if it is stored as a delta. */
export interface StoredLeaf extends PackLocation {
  base?: string
}

/** The StoredLeaf of an index entry: plain data, which a worker receives without conversion. */
export function storedLeafOf(e: IndexEntry): StoredLeaf {
  return {...packLocationOf(e), base: e.base?.toString('hex')}
}

export class PackLeafStore implements LeafStore {
  private writer?: PackWriter
  readonly reader: PackReader

  constructor(private readonly packDir: string, private readonly level: number, private locations: Map<string, StoredLeaf>) {
    this.reader = new PackReader(packDir, WORKER_BLOCK_CACHE, true) // delta bases are used at once
  }

  setLocations(locations: Map<string, StoredLeaf>): void {
    this.locations = locations
  }

  readFull(oid: string): Buffer | null {
    const loc = this.locations.get(oid)
    if (!loc || loc.base) return null
    try {
      const entry = this.reader.entry(loc)
      if (entry.base || !objectIdBytes(entry.kind, entry.data).equals(Buffer.from(oid, 'hex'))) return null
      return entry.data
    } catch {
      return null
    }
  }

  readLeaf(oid: string): Buffer | null {
    const loc = this.locations.get(oid)
    const base = loc?.base ? this.locations.get(loc.base) : undefined
    if (!loc || (loc.base && !base)) return null
    try {
      return readLeafAt(this.reader, {oid, loc, base}) // rebuilt from its base if a delta, verified
    } catch {
      return null
    }
  }

  write(oid: Buffer, content: Buffer, bases: DeltaBase[] = [], targetUnits: Span[] = []): Uint8Array | null {
    // a leaf that is already stored (e.g. content reverted to a keyframe) is not written again
    if (this.locations.has(oid.toString('hex'))) return null
    this.writer ??= new PackWriter(this.packDir, this.level)
    let best: {delta: Buffer; base: string; copied: Uint8Array} | null = null
    for (const read of bases) {
      const base = read()
      if (!base) continue
      const copied = new Uint8Array(targetUnits.length)
      const delta = computeDelta(base.content, base.units, content, targetUnits, leafUnitHeader, copied)
      if (!best || delta.length < best.delta.length) best = {delta, base: base.oid, copied}
      if (best.delta.length <= content.length * DELTA_GOOD_ENOUGH) break
    }
    if (best && best.delta.length <= content.length * DELTA_WORTH_IT) {
      this.writer.add(oid, 'leaf', best.delta, Buffer.from(best.base, 'hex'))
      return best.copied
    }
    this.writer.add(oid, 'leaf', content)
    return null
  }

  /** Bytes written to the current pack so far. */
  get packBytes(): number {
    return this.writer?.size ?? 0
  }

  /** Finishes the current pack (the next leaf starts another); returns where its leaves live. */
  finishPack(): PackEntryInfo[] {
    const entries = this.writer ? this.writer.finish() : []
    this.writer = undefined
    return entries
  }

  finish(): PackEntryInfo[] {
    const entries = this.finishPack()
    this.reader.close()
    return entries
  }

  abort(): void {
    this.writer?.abort()
    this.reader.close()
  }
}
