/**
 * Runs table ingestion on worker threads (one per core) so that hashing, validation and
 * compression of large files use every core; small jobs run in-process to save the
 * worker start-up.
 */
import {ingestTable, type IngestResult, type IngestTask} from './ingest.js'
import {PackLeafStore, type StoredLeaf} from './leaf-store.js'
import {WorkerPool, workerCount, worthWorkers} from './worker-pool.js'
import type {PackEntryInfo} from './pack.js'

/** Below this many bytes of changed tables, workers cost more than they save. */
export const WORKER_THRESHOLD = 16 << 20

export interface PoolJob {
  task: IngestTask
  locations: Map<string, StoredLeaf>
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

/**
 * Ingests the planned files. `onDone` gets each file's result as it comes, with the packs
 * finished so far (they can be indexed at once); `entries` holds the rest.
 */
export async function runIngest(packDir: string, level: number, planned: PlannedJob[], onDone?: (r: IngestResult, finished: PackEntryInfo[]) => void): Promise<PoolOutput> {
  const total = planned.reduce((s, j) => s + j.size, 0)
  const results: IngestResult[] = []
  const collect = (r: IngestResult, finished: PackEntryInfo[] = []) => {
    results.push(r)
    onDone?.(r, finished)
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
  const pool = new WorkerPool<PoolJob, {result: IngestResult; entries: PackEntryInfo[]}, PackEntryInfo[]>(
    new URL('./ingest-worker.js', import.meta.url), {packDir, level}, workerCount(planned.length), ({result, entries}) => collect(result, reviveEntries(entries)),
    // as one JSON string: a structured clone of ~10k small objects per file cost about
    // twice as much to send and to rebuild on the worker
    {toMessage: (j) => JSON.stringify({task: j.task, locations: [...j.locations]})})
  await pool.submitEach([...planned].sort((a, b) => b.size - a.size), (p) => p.prepare())
  const payloads = await pool.finish()
  return {results, entries: reviveEntries(payloads.flat())}
}

/** Pack entries from a worker: their ids arrive as Uint8Arrays. */
function reviveEntries(entries: PackEntryInfo[]): PackEntryInfo[] {
  return entries.map((e) => ({...e, oid: Buffer.from(e.oid), base: e.base ? Buffer.from(e.base) : undefined}))
}
