/**
 * Re-hashing objects block by block, on worker threads when there is enough to read:
 * push re-hashes what it sends (from the local store) while it packs and uploads, and
 * publishes its index only if all matched; fetch re-hashes the leaves and blobs it
 * received before anything is stored. Delta bases are read from where they live (the
 * store or the received packs) and must be stored whole there.
 */
import {applyDelta} from '../delta.js'
import {HASH_MISMATCH, objectIdBytes, type ObjectKind} from '../object-kinds.js'
import {BLOCK_TARGET, PackReader, parseEntry, type PackLocation} from '../pack.js'
import {runOnWorkers, workerCount, worthWorkers} from '../worker-pool.js'
import {CorruptObjectError} from '../../errors/index.js'
import type {Oid} from '../bytes.js'
import type {Repository} from '../repository.js'
import type {SendObject} from './send-pack.js'

export interface VerifyJob {
  /** folder of the pack holding the block */
  packDir: string
  packId: string
  blockOffset: number
  entries: Array<{oid: Oid; entryOffset: number; kind?: ObjectKind; base?: {oid: Oid; packDir: string; at: PackLocation}}>
  size: number
}

export type ReaderFor = (packDir: string) => PackReader

/** Checks each entry of one block: at the offset the index says, of the kind it says, and re-hashed. */
export function verifyBlock(readerFor: ReaderFor, job: VerifyJob): number {
  let data: Buffer
  try {
    data = readerFor(job.packDir).readBlockAt(job.packId, job.blockOffset).data
  } catch (error) {
    throw new CorruptObjectError(job.entries[0].oid, `cannot be read from pack ${job.packId}: ${(error as Error).message}`)
  }
  for (const e of job.entries) {
    const entry = parseEntry(data, {packId: job.packId, blockOffset: job.blockOffset, entryOffset: e.entryOffset})
    if (entry.oid.toString('hex') !== e.oid || (e.kind && entry.kind !== e.kind)) throw new CorruptObjectError(e.oid, `the index points at another object (pack ${job.packId})`)
    let content = entry.data
    if (entry.base) {
      if (!e.base || entry.base.toString('hex') !== e.base.oid) throw new CorruptObjectError(e.oid, 'its delta base is not the one the index names')
      const base = readerFor(e.base.packDir).entry(e.base.at)
      if (base.base || base.oid.toString('hex') !== e.base.oid || !objectIdBytes(base.kind, base.data).equals(base.oid)) throw new CorruptObjectError(e.base.oid, 'damaged delta base')
      content = applyDelta(base.data, entry.data)
    }
    if (!objectIdBytes(entry.kind, content).equals(entry.oid)) throw new CorruptObjectError(e.oid, HASH_MISMATCH)
  }
  return job.entries.length
}

/** Groups located objects into one job per block (input in block order). */
export function blockJobs<T>(items: T[], where: (item: T) => {packDir: string; packId: string; blockOffset: number}, entry: (item: T) => VerifyJob['entries'][number]): VerifyJob[] {
  const jobs: VerifyJob[] = []
  for (const item of items) {
    const at = where(item)
    let job = jobs.at(-1)
    if (!job || job.packId !== at.packId || job.blockOffset !== at.blockOffset || job.packDir !== at.packDir) jobs.push((job = {...at, entries: [], size: 0}))
    job.entries.push(entry(item))
    job.size++
  }
  return jobs
}

/** Runs the jobs on worker threads, or here when there is too little to read to pay for them. */
export async function runVerifyJobs(jobs: VerifyJob[], readerFor: ReaderFor, onChecked?: (objects: number) => void): Promise<void> {
  // the blocks to decompress: those checked, and those holding delta bases (often scattered)
  const baseBlocks = new Set(jobs.flatMap((j) => j.entries.filter((e) => e.base).map((e) => `${e.base!.packDir}:${e.base!.at.packId}:${e.base!.at.blockOffset}`)))
  if (!worthWorkers((jobs.length + baseBlocks.size) * BLOCK_TARGET, 16 << 20, jobs.length)) {
    for (const job of jobs) onChecked?.(verifyBlock(readerFor, job))
    return
  }
  await runOnWorkers<VerifyJob, number, null>(new URL('./verify-worker.js', import.meta.url), null, jobs, workerCount(jobs.length), (n) => onChecked?.(n))
}

/** Push: verifies every object about to be sent, where the local store holds it. */
export async function verifyObjects(repo: Repository, send: SendObject[], onChecked?: (objects: number) => void): Promise<void> {
  const bases = [...new Set(send.filter((s) => s.at.base).map((s) => s.at.base!.toString('hex')))]
  const baseAt = await repo.store.locateMany(bases)
  const packDir = repo.store.packDir
  const jobs = blockJobs(send, (s) => ({packDir, packId: s.at.packId, blockOffset: s.at.blockOffset}), (s) => {
    const base = s.at.base?.toString('hex')
    if (base && !baseAt.get(base)) throw new CorruptObjectError(s.oid, `its delta base ${base} is missing`)
    return {oid: s.oid, entryOffset: s.at.entryOffset, kind: s.at.kind, ...(base ? {base: {oid: base, packDir, at: baseAt.get(base)!}} : {})}
  })
  await runVerifyJobs(jobs, () => repo.store.reader, onChecked)
}
