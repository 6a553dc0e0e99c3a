/**
 * The LevelDB index: where each object lives in the packs, the stat cache that lets
 * `status` and `commit` skip files that did not change, and caches of results computed
 * from immutable objects (quality outcomes per table). All are derived data: the packs
 * and refs are the truth (pack entries carry their own ids, so `dsv fsck --reindex`
 * rebuilds this index from the packs: see ops/reindex.ts).
 */
import {copyFileSync, mkdtempSync, readdirSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {Level} from 'level'
import {ByteReader, ByteWriter} from './bytes.js'
import {kindCode, kindFromCode, type ObjectKind} from './object-kinds.js'
import type {PackEntryInfo, PackLocation} from './pack.js'
import {DsvError, LockedError} from '../errors/index.js'

export interface IndexEntry extends PackLocation {
  kind: ObjectKind
  base?: Buffer
}

export interface StatEntry {
  size: number
  mtimeNs: string
  ctimeNs: string
  ino: number
  /** When this entry was recorded (ns); a file modified in the same tick is re-read. */
  recordedNs: string
  type: 'table' | 'file'
  oid: string
  examples?: number
}

const OBJECT_PREFIX = 0x6f // 'o'
const STAT_PREFIX = 's:'
const CACHE_PREFIX = 'c:'

/** An object's index key; the id as bytes or as hex (written straight into the key). */
function objectKey(oid: Buffer | string): Buffer {
  const key = Buffer.allocUnsafe(33)
  key[0] = OBJECT_PREFIX
  if (typeof oid !== 'string') oid.copy(key, 1)
  else if (key.write(oid, 1, 32, 'hex') !== 32) throw new RangeError(`not an object id: ${oid}`)
  return key
}

export function encodeIndexEntry(e: IndexEntry): Buffer {
  const w = new ByteWriter(64)
    .bytes(Buffer.from(e.packId, 'hex'))
    .varint(e.blockOffset)
    .varint(e.entryOffset)
    .byte(kindCode(e.kind))
    .byte(e.base ? 1 : 0)
  if (e.base) w.bytes(e.base)
  return w.toBuffer()
}

export function decodeIndexEntry(value: Buffer): IndexEntry {
  const r = new ByteReader(value)
  const packId = r.bytes(8).toString('hex')
  const blockOffset = r.varint()
  const entryOffset = r.varint()
  const kind = kindFromCode(r.byte())
  const base = r.byte() & 1 ? Buffer.from(r.bytes(32)) : undefined
  return {packId, blockOffset, entryOffset, kind, base}
}

export class IndexDb {
  /**
   * `copy`: the private copy of an index this process could not open in place (a store it
   * may only read: another user's, a read-only mount); removed on close. Writes to it are
   * lost, but every writing command stops first at the repository lock, which it cannot take.
   */
  private constructor(private readonly db: Level<Buffer, Buffer>, readonly copy?: string) {}

  /**
   * Opens the index, waiting up to `waitMs` while another dsv process holds it. Only a new
   * store (`create`) makes one: a missing index is damage, not an empty store.
   */
  static async open(path: string, waitMs = 30_000, create = false): Promise<IndexDb> {
    const deadline = Date.now() + waitMs
    let delay = 20
    for (;;) {
      const db = new Level<Buffer, Buffer>(path, {keyEncoding: 'buffer', valueEncoding: 'buffer', createIfMissing: create})
      try {
        await db.open()
        return new IndexDb(db)
      } catch (error) {
        const cause = (error as {cause?: {code?: string; message?: string}}).cause
        if (cause?.code !== 'LEVEL_LOCKED' || Date.now() > deadline) {
          if (cause?.code === 'LEVEL_LOCKED') throw new LockedError(path, 'another dsv process', false)
          // LevelDB writes its LOCK file even to read: a read-only store is not a damaged one
          const denied = /Permission denied|Read-only file system|No space left/i.exec(cause?.message ?? '')
          if (denied && !/No space/i.test(denied[0]) && !create) return IndexDb.openCopy(path, denied[0].toLowerCase())
          if (denied)
            throw new DsvError('E_IO', `cannot open the index ${path}: ${denied[0].toLowerCase()}`, {path},
              'every dsv command, even log, needs write access to .dsv (LevelDB locks the index); copy the repository, or fix the permissions or the free space')
          throw new DsvError('E_CORRUPT', `the index ${path} cannot be opened: damaged, missing or unreadable (${cause?.message ?? (error as Error).message})`, {path},
            'check its permissions and the free disk space; if it is damaged or missing, `dsv fsck --reindex` rebuilds it from the packs (they hold every object)')
        }
        await new Promise((resolve) => setTimeout(resolve, delay))
        delay = Math.min(delay * 2, 250)
      }
    }
  }

  /**
   * Opens a copy of the index at `path` made in the temp folder: LevelDB takes a lock (a
   * write) even to read, so a store this process may not write is read through a copy
   * (an index is ~5 MB per million examples). A writer changing the index meanwhile can
   * leave the copy inconsistent; every object read is still verified against its id.
   */
  private static async openCopy(path: string, why: string): Promise<IndexDb> {
    const copy = mkdtempSync(join(tmpdir(), 'dsv-index-'))
    const remove = () => rmSync(copy, {recursive: true, force: true})
    process.once('exit', remove) // also when the command ends by an error
    try {
      for (const name of readdirSync(path)) if (name !== 'LOCK') copyFileSync(join(path, name), join(copy, name))
      const db = new Level<Buffer, Buffer>(copy, {keyEncoding: 'buffer', valueEncoding: 'buffer', createIfMissing: false})
      await db.open()
      return new IndexDb(db, copy)
    } catch (error) {
      remove()
      throw new DsvError('E_IO', `cannot open the index ${path}: ${why}, and it cannot be read either (${(error as Error).message})`, {path},
        'fix the permissions of .dsv, or copy the repository to a folder you can write')
    }
  }

  async close(): Promise<void> {
    await this.db.close()
    if (this.copy) rmSync(this.copy, {recursive: true, force: true})
  }

  async getObject(oid: Buffer): Promise<IndexEntry | undefined> {
    const v = await this.db.get(objectKey(oid))
    return v === undefined ? undefined : decodeIndexEntry(v)
  }

  async getObjects(oids: Array<Buffer | string>): Promise<Array<IndexEntry | undefined>> {
    if (oids.length === 0) return []
    const values = await this.db.getMany(oids.map(objectKey))
    return values.map((v) => (v === undefined ? undefined : decodeIndexEntry(v)))
  }

  async putObjects(entries: PackEntryInfo[], sync = true, chunk = 50_000): Promise<void> {
    const CHUNK = chunk
    for (let i = 0; i < entries.length; i += CHUNK) {
      const batch = this.db.batch()
      for (const e of entries.slice(i, i + CHUNK)) batch.put(objectKey(e.oid), encodeIndexEntry(e))
      await batch.write({sync: sync && i + CHUNK >= entries.length})
    }
  }

  /** Object ids starting with a hex prefix (for abbreviated revisions). */
  async objectsWithPrefix(hexPrefix: string, limit = 10): Promise<Array<[string, IndexEntry]>> {
    const even = hexPrefix.length % 2 === 0 ? hexPrefix : hexPrefix.slice(0, -1)
    const gte = Buffer.concat([Buffer.from([OBJECT_PREFIX]), Buffer.from(even, 'hex')])
    const out: Array<[string, IndexEntry]> = []
    for await (const [k, v] of this.db.iterator({gte})) {
      if (k[0] !== OBJECT_PREFIX) break
      const hex = k.subarray(1).toString('hex')
      if (!hex.startsWith(even)) break
      if (hex.startsWith(hexPrefix)) out.push([hex, decodeIndexEntry(v)])
      if (out.length >= limit) break
    }
    return out
  }

  async getStats(paths: string[]): Promise<Array<StatEntry | undefined>> {
    if (paths.length === 0) return []
    const values = await this.db.getMany(paths.map((p) => Buffer.from(STAT_PREFIX + p)))
    return values.map((v) => (v === undefined ? undefined : (JSON.parse(v.toString()) as StatEntry)))
  }

  async putStats(entries: Array<[string, StatEntry | null]>): Promise<void> {
    if (entries.length === 0) return
    const batch = this.db.batch()
    for (const [path, entry] of entries) {
      const key = Buffer.from(STAT_PREFIX + path)
      if (entry) batch.put(key, Buffer.from(JSON.stringify(entry)))
      else batch.del(key)
    }
    await batch.write({sync: false})
  }

  /** Values cached under `namespace` for `keys` (undefined where absent). */
  async getCached(namespace: string, keys: string[]): Promise<Array<Buffer | undefined>> {
    if (keys.length === 0) return []
    return this.db.getMany(keys.map((k) => Buffer.from(`${CACHE_PREFIX}${namespace}:${k}`)))
  }

  /** Caches values computed from immutable inputs; losing them only costs time. */
  async putCached(namespace: string, entries: Array<[string, Buffer]>): Promise<void> {
    if (entries.length === 0) return
    const batch = this.db.batch()
    for (const [k, v] of entries) batch.put(Buffer.from(`${CACHE_PREFIX}${namespace}:${k}`), v)
    await batch.write({sync: false})
  }
}
