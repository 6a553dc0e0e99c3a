/**
 * Rebuilds the index (`.dsv/index`) from the packs, which hold every object's id, kind
 * and delta base: the repair for a damaged or lost index (`dsv fsck --reindex`). The new
 * index is built beside the old one and renamed into place, so a reader sees the old
 * index, the new one, or (after a crash between the two renames) none, which every
 * command reports as damage to repair by running this again. The stat cache and cached
 * quality results are derived data too: they start empty (the next status re-reads files).
 * Every object is verified against its id on the way: a damaged one (bit rot) is left out
 * and reported, so that committing the same data again stores it anew and the versions
 * that hold it check out again (an object the index knows is never stored twice).
 */
import {existsSync, readdirSync, renameSync, rmSync} from 'node:fs'
import {join} from 'node:path'
import {randomBytes} from 'node:crypto'
import {IndexDb} from '../index-db.js'
import {PackReader, type PackEntryInfo} from '../pack.js'
import {objectIdBytes} from '../object-kinds.js'
import {applyDelta} from '../delta.js'
import {RepoLock} from '../lock-file.js'
import {fsyncDir} from '../atomic-file.js'
import {LockedError} from '../../errors/index.js'

export interface ReindexResult {
  packs: number
  objects: number
  /** packs that could not be read to the end (what they hold before the damage is indexed) */
  problems: Array<{pack: string; message: string}>
}

/** An old index that does not open is damaged: nobody can be reading it (a lock held too long is still an error). */
function leaveDamaged(error: unknown): undefined {
  if (error instanceof LockedError) throw error
  return undefined
}

/** Whether a delta, applied to its base (a whole object, verified in the scan), gives its id. */
function deltaIsWhole(reader: PackReader, e: PackEntryInfo, entries: Map<string, PackEntryInfo>): boolean {
  const base = entries.get(e.base!.toString('hex'))
  if (!base || base.base) return false
  try {
    const content = applyDelta(reader.entry(base).data, reader.entry(e).data)
    return objectIdBytes(e.kind, content).equals(e.oid)
  } catch {
    return false
  }
}

export async function reindex(dsvDir: string): Promise<ReindexResult> {
  const lock = RepoLock.acquire(join(dsvDir, 'lock'))
  try {
    // what an interrupted run left
    for (const name of readdirSync(dsvDir)) if (/^index\.(new|old)-/.test(name)) rmSync(join(dsvDir, name), {recursive: true, force: true})
    const packDir = join(dsvDir, 'packs')
    const packs = readdirSync(packDir).filter((n) => n.endsWith('.pack')).sort()
    const entries = new Map<string, PackEntryInfo>()
    const problems: ReindexResult['problems'] = []
    // objects whose bytes do not match their id: left out, so that committing the same
    // data again stores them anew (an object the index knows is never stored twice)
    const damaged = new Map<string, string>()
    const reader = new PackReader(packDir)
    try {
      for (const name of packs) {
        const packId = name.slice(0, -'.pack'.length)
        try {
          for (const e of reader.scan(packId)) {
            const oid = e.oid.toString('hex')
            const known = entries.get(oid)
            // a whole copy wins over a delta, so deltas keep pointing at whole objects (depth 1)
            if (known && !(known.base && !e.base)) continue
            if (!e.base && !objectIdBytes(e.kind, e.data).equals(e.oid)) {
              damaged.set(oid, packId)
              continue
            }
            // copies: the entry's buffers are views of its decompressed block
            entries.set(oid, {packId, blockOffset: e.blockOffset, entryOffset: e.entryOffset, oid: Buffer.from(e.oid), kind: e.kind, base: e.base && Buffer.from(e.base), length: e.length})
          }
        } catch (error) {
          problems.push({pack: packId, message: (error as Error).message})
        }
      }
      for (const [oid, e] of entries) {
        if (e.base && !deltaIsWhole(reader, e, entries)) {
          entries.delete(oid)
          damaged.set(oid, e.packId)
        }
      }
    } finally {
      reader.close()
    }
    for (const [oid, packId] of damaged)
      if (!entries.has(oid)) problems.push({pack: packId, message: `object ${oid} is damaged (its bytes do not match its id): left out of the index`})
    const suffix = randomBytes(4).toString('hex')
    const fresh = join(dsvDir, `index.new-${suffix}`)
    const db = await IndexDb.open(fresh, 0, true)
    try {
      await db.putObjects([...entries.values()])
    } finally {
      await db.close()
    }
    const live = join(dsvDir, 'index')
    const old = join(dsvDir, `index.old-${suffix}`)
    // readers (log, show, diff) take no repository lock but LevelDB's own: holding the old
    // index open waits for them, and keeps new ones waiting until the new index is in place
    const holder = existsSync(live) ? await IndexDb.open(live).catch(leaveDamaged) : undefined
    try {
      if (existsSync(live)) renameSync(live, old)
      renameSync(fresh, live)
      fsyncDir(dsvDir)
    } finally {
      await holder?.close()
    }
    rmSync(old, {recursive: true, force: true})
    return {packs: packs.length, objects: entries.size, problems}
  } finally {
    lock.release()
  }
}
