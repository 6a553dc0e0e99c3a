/**
 * Runs table ingestion on worker threads (one per core) so that hashing, validation and
 * compression of large files use every core; small jobs run in-process to save the
 * worker start-up.
 */
import {ingestTable, type IngestResult, type IngestTask} from './ingest.js'
import {PackLeafStore} from './leaf-store.js'
import {WorkerPool, workerCount, worthWorkers} from './worker-pool.js'
import type {IndexEntry} from './index-db.js'
import type {PackEntryInfo} from './pack.js'

/** Below this many bytes of changed tables, workers cost more than they save. */
export const WORKER_THRESHOLD = 16 << 20

export interface PoolJob {
  task: IngestTask
  locations: Map<string, IndexEntry>
  size: number
}

export interface PoolOutput {
  results: IngestResult[]
  entries: PackEntryInfo[]
}

/** A job whose preparation (index lookups on the main thread) runs while workers ingest earlier ones. */
export interface PlannedJob {
  /** bytes of the file: for the choice of workers and the order (largest first) */
  size: number
  prepare: () => Promise<PoolJob>
}

export async function runIngest(packDir: string, level: number, planned: PlannedJob[], onDone?: (r: IngestResult) => void): Promise<PoolOutput> {
  const total = planned.reduce((s, j) => s + j.size, 0)
  const results: IngestResult[] = []
  const collect = (r: IngestResult) => {
    results.push(r)
    onDone?.(r)
  }
  if (!worthWorkers(total, WORKER_THRESHOLD, planned.length)) {
    const store = new PackLeafStore(packDir, level, new Map())
    try {
      for (const p of planned) {
        const job = await p.prepare()
        store.setLocations(job.locations)
        collect(ingestTable(job.task, store))
      }
    } catch (error) {
      store.abort()
      throw error
    }
    return {results, entries: store.finish()}
  }
  // workers start now and take each file as soon as its job is prepared
  const pool = new WorkerPool<PoolJob, IngestResult, PackEntryInfo[]>(
    new URL('./ingest-worker.js', import.meta.url), {packDir, level}, workerCount(planned.length), collect,
    (j) => ({task: j.task, locations: [...j.locations]}))
  await pool.submitEach([...planned].sort((a, b) => b.size - a.size), (p) => p.prepare())
  const payloads = await pool.finish()
  const entries = payloads.flat().map((e) => ({...e, oid: Buffer.from(e.oid), base: e.base ? Buffer.from(e.base) : undefined}))
  return {results, entries}
}
