/**
 * Re-hashing what push sends, from the local store, on worker threads while the main
 * thread packs and uploads: the index that publishes the packs is uploaded only once
 * every object has matched its id, so a damaged local object is never made visible.
 */
import {applyDelta} from '../delta.js'
import {objectIdBytes} from '../object-kinds.js'
import {BLOCK_TARGET, parseEntry, type PackReader} from '../pack.js'
import {runOnWorkers, workerCount, worthWorkers} from '../worker-pool.js'
import {CorruptObjectError} from '../../errors/index.js'
import type {IndexEntry} from '../index-db.js'
import type {Oid} from '../bytes.js'
import type {Repository} from '../repository.js'
import type {SendObject} from './send-pack.js'

export interface VerifyJob {
  packId: string
  blockOffset: number
  entries: Array<{oid: Oid; entryOffset: number; base?: {oid: Oid; at: IndexEntry}}>
  size: number
}

/** Checks each entry of one block: at the offset the index says, and re-hashed (deltas applied). */
export function verifyBlock(reader: PackReader, job: VerifyJob): number {
  let data: Buffer
  try {
    data = reader.readBlockAt(job.packId, job.blockOffset).data
  } catch (error) {
    throw new CorruptObjectError(job.entries[0].oid, `cannot be read from pack ${job.packId}: ${(error as Error).message}`)
  }
  for (const e of job.entries) {
    const entry = parseEntry(data, {packId: job.packId, blockOffset: job.blockOffset, entryOffset: e.entryOffset})
    if (entry.oid.toString('hex') !== e.oid) throw new CorruptObjectError(e.oid, `the index points at another object (pack ${job.packId})`)
    let content = entry.data
    if (entry.base) {
      if (!e.base || entry.base.toString('hex') !== e.base.oid) throw new CorruptObjectError(e.oid, 'its delta base is not the one the index names')
      const base = reader.entry(e.base.at)
      if (base.base || !objectIdBytes(base.kind, base.data).equals(base.oid) || base.oid.toString('hex') !== e.base.oid) throw new CorruptObjectError(e.base.oid, 'damaged delta base')
      content = applyDelta(base.data, entry.data)
    }
    if (!objectIdBytes(entry.kind, content).equals(entry.oid)) throw new CorruptObjectError(e.oid, 'content does not match its SHA-256 id')
  }
  return job.entries.length
}

/** Verifies every object in `send`; on worker threads when there is enough to read. */
export async function verifyObjects(repo: Repository, send: SendObject[], onChecked?: (objects: number) => void): Promise<void> {
  const bases = [...new Set(send.filter((s) => s.at.base).map((s) => s.at.base!.toString('hex')))]
  const baseAt = await repo.store.locateMany(bases)
  const jobs: VerifyJob[] = []
  for (const s of send) {
    let job = jobs.at(-1)
    if (!job || job.packId !== s.at.packId || job.blockOffset !== s.at.blockOffset) jobs.push((job = {packId: s.at.packId, blockOffset: s.at.blockOffset, entries: [], size: 0}))
    const base = s.at.base?.toString('hex')
    if (base && !baseAt.get(base)) throw new CorruptObjectError(s.oid, `its delta base ${base} is missing`)
    job.entries.push({oid: s.oid, entryOffset: s.at.entryOffset, ...(base ? {base: {oid: base, at: baseAt.get(base)!}} : {})})
    job.size++
  }
  // the blocks to decompress: those sent, and those holding delta bases (often scattered)
  const blocks = jobs.length + new Set([...baseAt.values()].map((at) => `${at.packId}:${at.blockOffset}`)).size
  if (!worthWorkers(blocks * BLOCK_TARGET, 16 << 20, jobs.length)) {
    for (const job of jobs) onChecked?.(verifyBlock(repo.store.reader, job))
    return
  }
  await runOnWorkers<VerifyJob, number, null>(new URL('./verify-worker.js', import.meta.url), {packDir: repo.store.packDir}, jobs, workerCount(jobs.length), (n) => onChecked?.(n))
}
