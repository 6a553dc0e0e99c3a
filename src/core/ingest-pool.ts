/**
 * Runs table ingestion on worker threads (one per core) so that hashing, validation and
 * compression of large files use every core; small jobs run in-process to save the
 * worker start-up.
 */
import {ingestTable, type IngestResult, type IngestTask} from './ingest.js'
import {PackLeafStore} from './leaf-store.js'
import {runOnWorkers, workerCount, worthWorkers} from './worker-pool.js'
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

export async function runIngest(packDir: string, level: number, jobs: PoolJob[], onDone?: (r: IngestResult) => void): Promise<PoolOutput> {
  const total = jobs.reduce((s, j) => s + j.size, 0)
  const count = workerCount(jobs.length)
  const results: IngestResult[] = []
  const collect = (r: IngestResult) => {
    results.push(r)
    onDone?.(r)
  }
  if (!worthWorkers(total, WORKER_THRESHOLD, jobs.length)) {
    const store = new PackLeafStore(packDir, level, new Map())
    try {
      for (const job of jobs) {
        store.setLocations(job.locations)
        collect(ingestTable(job.task, store))
      }
    } catch (error) {
      store.abort()
      throw error
    }
    return {results, entries: store.finish()}
  }
  const payloads = await runOnWorkers<PoolJob, IngestResult, PackEntryInfo[]>(
    new URL('./ingest-worker.js', import.meta.url), {packDir, level}, jobs, count, collect,
    (j) => ({task: j.task, locations: [...j.locations]}))
  const entries = payloads.flat().map((e) => ({...e, oid: Buffer.from(e.oid), base: e.base ? Buffer.from(e.base) : undefined}))
  return {results, entries}
}
