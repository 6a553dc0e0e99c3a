/**
 * The content-addressed object store: objects in packs, located through the LevelDB
 * index, every read re-hashed and rejected when it does not match its id.
 * Writes accumulate in one pack per operation; `flush()` makes them durable and visible.
 */
import {readdirSync, rmSync, statSync} from 'node:fs'
import {join} from 'node:path'
import {applyDelta, computeDelta, type Span} from './delta.js'
import {IndexDb, type IndexEntry} from './index-db.js'
import {HASH_MISMATCH, objectIdBytes, type ObjectKind, type StoredObject} from './object-kinds.js'
import {DEFAULT_COMPRESSION, packLocationOf, PackReader, PackWriter, type PackEntryInfo, type PackLocation} from './pack.js'
import type {Oid} from './bytes.js'
import {CorruptObjectError} from '../errors/index.js'

/** An object the index does not know: lost, or the index lost its entry (fsck hints at --reindex). */
export const NOT_INDEXED = 'not in the index (.dsv/index): missing from the packs, or the index is damaged'

/** A delta is kept only when it is at most this share of the full object. */
const DELTA_WORTH_IT = 0.5
/** Deltas are written against full objects only, so a chain longer than this is damage. */
const MAX_DELTA_DEPTH = 4

export interface DeltaBase {
  oid: Oid
  content: Buffer
  units: Span[]
  targetUnits: Span[]
}

const RECENT_OBJECT_MAX = 64 << 10
const RECENT_BYTES = 32 << 20
/** A half-written pack no writer has touched for this long was left by a killed one. */
export const ABANDONED_PACK_MS = 10 * 60_000
const RECENT_LOCATIONS = 200_000

/** Where an object (and its delta base, when stored as a delta) lies: what a reader on another thread needs. */
export interface PackPlace {
  loc: PackLocation
  base?: PackLocation
}

export class ObjectStore {
  readonly packDir: string
  readonly reader: PackReader
  private writer?: PackWriter
  private pending = new Map<string, StoredObject>()
  /**
   * Small verified objects (nodes, tables, trees, commits) and index entries seen lately:
   * a commit reads the previous version's nodes, writes new ones, then walks both to count
   * changes, and each single index lookup is a thread-pool round trip.
   */
  private readonly recent = new Map<Oid, StoredObject>()
  private recentBytes = 0
  private readonly recentLocations = new Map<Oid, IndexEntry>()

  constructor(dsvDir: string, readonly db: IndexDb, readonly compressionLevel = DEFAULT_COMPRESSION) {
    this.packDir = join(dsvDir, 'packs')
    this.reader = new PackReader(this.packDir)
  }

  async locate(oid: Oid): Promise<IndexEntry | undefined> {
    const known = this.recentLocations.get(oid)
    if (known) return known
    const entry = await this.db.getObject(Buffer.from(oid, 'hex'))
    if (entry) this.rememberLocation(oid, entry)
    return entry
  }

  private rememberLocation(oid: Oid, entry: IndexEntry): void {
    if (this.recentLocations.size >= RECENT_LOCATIONS) this.recentLocations.delete(this.recentLocations.keys().next().value!)
    this.recentLocations.set(oid, entry)
  }

  private remember(oid: Oid, obj: StoredObject): void {
    if (obj.kind === 'leaf' || obj.kind === 'blob' || obj.content.length > RECENT_OBJECT_MAX || this.recent.has(oid)) return
    this.recent.set(oid, obj)
    this.recentBytes += obj.content.length
    for (const [k, v] of this.recent) {
      if (this.recentBytes <= RECENT_BYTES) break
      this.recent.delete(k)
      this.recentBytes -= v.content.length
    }
  }

  /**
   * Where many objects live, in one batched index lookup (plus one for their delta
   * bases): single lookups cost a thread-pool round trip each.
   */
  async locateMany(oids: Oid[]): Promise<Map<Oid, IndexEntry>> {
    const out = new Map<Oid, IndexEntry>()
    const found = await this.db.getObjects(oids)
    const bases: Oid[] = []
    oids.forEach((o, i) => {
      const e = found[i]
      if (!e) return
      out.set(o, e)
      if (e.base) bases.push(e.base.toString('hex'))
    })
    const missing = bases.filter((b) => !out.has(b))
    const baseFound = await this.db.getObjects(missing)
    missing.forEach((o, i) => baseFound[i] && out.set(o, baseFound[i]!))
    return out
  }

  /**
   * Where each of `oids` and its delta base lie (see locateMany), for reading on worker
   * threads. The lookup returned throws for an object or a delta base the index lacks.
   */
  async locateForReading(oids: Oid[]): Promise<(oid: Oid) => PackPlace> {
    const located = await this.locateMany(oids)
    return (oid) => {
      const entry = located.get(oid)
      if (!entry) throw new CorruptObjectError(oid, NOT_INDEXED)
      if (!entry.base) return {loc: packLocationOf(entry)}
      const base = located.get(entry.base.toString('hex'))
      if (!base) throw new CorruptObjectError(oid, 'its delta base is missing')
      return {loc: packLocationOf(entry), base: packLocationOf(base)}
    }
  }

  /** Reads an object located by `locateMany` without another index lookup. */
  async getLocated(oid: Oid, located: Map<Oid, IndexEntry>, expect?: ObjectKind): Promise<StoredObject> {
    const entry = located.get(oid)
    if (!entry) return this.get(oid, expect)
    const obj = this.recent.get(oid) ?? (await this.readAt(oid, entry, 0, located))
    this.remember(oid, obj)
    if (expect && obj.kind !== expect) throw new CorruptObjectError(oid, `expected a ${expect}, found a ${obj.kind}`)
    return obj
  }

  async has(oid: Oid): Promise<boolean> {
    return this.pending.has(oid) || (await this.locate(oid)) !== undefined
  }

  async get(oid: Oid, expect?: ObjectKind): Promise<StoredObject> {
    const obj = this.pending.get(oid) ?? this.recent.get(oid) ?? (await this.readVerified(oid))
    this.remember(oid, obj)
    if (expect && obj.kind !== expect) throw new CorruptObjectError(oid, `expected a ${expect}, found a ${obj.kind}`)
    return obj
  }

  /** Reads an object given its index entry (saves a lookup when the caller has it). */
  async readAt(oid: Oid, entry: IndexEntry, depth = 0, located?: Map<Oid, IndexEntry>): Promise<StoredObject> {
    if (depth > MAX_DELTA_DEPTH) throw new CorruptObjectError(oid, 'delta chain too long (a cycle?)')
    let packed
    try {
      packed = this.reader.entry(entry)
    } catch (error) {
      throw new CorruptObjectError(oid, `cannot be read from pack ${entry.packId}: ${(error as Error).message}`)
    }
    if (packed.oid.toString('hex') !== oid) throw new CorruptObjectError(oid, `index points at another object (${packed.oid.toString('hex')})`)
    let content = packed.data
    if (packed.base) {
      const baseOid = packed.base.toString('hex')
      const baseEntry = this.pending.has(baseOid) ? undefined : (located?.get(baseOid) ?? (await this.locate(baseOid)))
      if (!baseEntry && !this.pending.has(baseOid)) throw new CorruptObjectError(oid, `its delta base ${baseOid} is missing`)
      // a base read a moment ago (the old version of a node) is verified already
      const base = this.recent.get(baseOid) ?? (baseEntry ? await this.readAt(baseOid, baseEntry, depth + 1, located) : this.pending.get(baseOid)!)
      try {
        content = applyDelta(base.content, packed.data)
      } catch (error) {
        throw new CorruptObjectError(oid, `bad delta: ${(error as Error).message}`)
      }
    }
    if (!objectIdBytes(packed.kind, content).equals(packed.oid)) throw new CorruptObjectError(oid, HASH_MISMATCH)
    return {kind: packed.kind, content}
  }

  private async readVerified(oid: Oid): Promise<StoredObject> {
    const entry = await this.locate(oid)
    if (!entry) throw new CorruptObjectError(oid, NOT_INDEXED)
    return this.readAt(oid, entry)
  }

  /**
   * The full objects new deltas may be written against, by the id asked for: that object
   * itself when it is stored whole, else the object its delta is against (deltas are one
   * level deep). Objects still pending in this store's pack are left out.
   */
  async keyframesOf(oids: Oid[]): Promise<Map<Oid, {oid: Oid; content: Buffer}>> {
    const wanted = [...new Set(oids)].filter((o) => !this.pending.has(o))
    const located = await this.locateMany(wanted)
    const out = new Map<Oid, {oid: Oid; content: Buffer}>()
    for (const oid of wanted) {
      const entry = located.get(oid)
      if (!entry) continue
      const keyframe = entry.base ? entry.base.toString('hex') : oid
      out.set(oid, {oid: keyframe, content: (await this.getLocated(keyframe, located)).content})
    }
    return out
  }

  /** Which of `oids` are neither indexed nor pending here, in one batched lookup. */
  async absent(oids: Oid[]): Promise<Set<Oid>> {
    const unknown = oids.filter((o) => !this.pending.has(o) && !this.recentLocations.has(o))
    const found = await this.locateMany(unknown)
    return new Set(unknown.filter((o) => !found.has(o)))
  }

  /** Stores an object unless it is already there; returns its id. */
  async put(kind: ObjectKind, content: Buffer, base?: DeltaBase): Promise<Oid> {
    const oidBytes = objectIdBytes(kind, content)
    const oid = oidBytes.toString('hex')
    if (this.pending.has(oid) || (await this.locate(oid))) return oid
    return this.write(oidBytes, oid, kind, content, base)
  }

  /** Stores an object known to be absent (see `absent`): no index lookup. */
  putAbsent(kind: ObjectKind, content: Buffer, base?: DeltaBase): Oid {
    const oidBytes = objectIdBytes(kind, content)
    const oid = oidBytes.toString('hex')
    if (this.pending.has(oid)) return oid
    return this.write(oidBytes, oid, kind, content, base)
  }

  private write(oidBytes: Buffer, oid: Oid, kind: ObjectKind, content: Buffer, base?: DeltaBase): Oid {
    this.writer ??= new PackWriter(this.packDir, this.compressionLevel)
    const delta = base && computeDelta(base.content, base.units, content, base.targetUnits)
    if (base && delta && delta.length <= content.length * DELTA_WORTH_IT) {
      this.writer.add(oidBytes, kind, delta, Buffer.from(base.oid, 'hex'))
    } else this.writer.add(oidBytes, kind, content)
    this.pending.set(oid, {kind, content})
    return oid
  }

  /**
   * Makes the objects written by another writer (a worker's pack) findable. An object
   * already indexed keeps its entry: its content is the same, and an entry that is never
   * rewritten can never be turned into a delta against something newer (no cycles).
   * `atomic` writes all entries in one batch: all become visible, or none.
   */
  async indexPack(entries: PackEntryInfo[], atomic = false): Promise<PackEntryInfo[]> {
    const existing = await this.db.getObjects(entries.map((e) => e.oid))
    const added = entries.filter((_, i) => existing[i] === undefined)
    await this.db.putObjects(added, true, atomic ? Infinity : undefined)
    return added
  }

  /** Writes the pending pack durably, then indexes it. Objects are then readable by anyone. */
  async flush(): Promise<void> {
    if (!this.writer) return
    const entries = this.writer.finish()
    this.writer = undefined
    for (const e of await this.indexPack(entries)) this.rememberLocation(e.oid.toString('hex'), e)
    for (const [oid, obj] of this.pending) this.remember(oid, obj)
    this.pending.clear()
  }

  abort(): void {
    this.writer?.abort()
    this.writer = undefined
    this.pending.clear()
  }

  /**
   * Removes packs a killed writer left half-written (`ID.pack.tmp`): only writers holding
   * the repository lock write packs here, and the caller holds it. Only packs untouched for
   * ABANDONED_PACK_MS go, so a writer whose lock was wrongly taken over keeps its pack.
   */
  removeAbandonedPacks(): void {
    let names: string[]
    try {
      names = readdirSync(this.packDir)
    } catch {
      return
    }
    for (const name of names) {
      if (!name.endsWith('.pack.tmp')) continue
      const path = join(this.packDir, name)
      const st = statSync(path, {throwIfNoEntry: false})
      if (st && Date.now() - st.mtimeMs > ABANDONED_PACK_MS) rmSync(path, {force: true})
    }
  }

  close(): void {
    this.reader.close()
  }
}
