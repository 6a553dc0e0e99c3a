/**
 * Runs table ingestion on worker threads (one per core, at most `maxWorkers`) so that
 * hashing, validation and compression of large files use every core; small jobs run
 * in-process to save the worker start-up.
 */
import {Worker} from 'node:worker_threads'
import {availableParallelism} from 'node:os'
import {ingestTable, type IngestResult, type IngestTask} from './ingest.js'
import {PackLeafStore} from './leaf-store.js'
import type {IndexEntry} from './index-db.js'
import type {PackEntryInfo} from './pack.js'
import {DsvError} from '../errors/index.js'

/** Below this many bytes of changed tables, workers cost more than they save. */
const WORKER_THRESHOLD = 16 << 20

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
  const workers = Math.min(availableParallelism(), jobs.length, Number(process.env.DSV_WORKERS ?? 8))
  if (total < WORKER_THRESHOLD || workers < 2) return runInProcess(packDir, level, jobs, onDone)
  return runOnWorkers(packDir, level, jobs, workers, onDone)
}

function runInProcess(packDir: string, level: number, jobs: PoolJob[], onDone?: (r: IngestResult) => void): PoolOutput {
  const store = new PackLeafStore(packDir, level, new Map())
  const results: IngestResult[] = []
  try {
    for (const job of jobs) {
      store.setLocations(job.locations)
      const r = ingestTable(job.task, store)
      results.push(r)
      onDone?.(r)
    }
  } catch (error) {
    store.abort()
    throw error
  }
  return {results, entries: store.finish()}
}

async function runOnWorkers(packDir: string, level: number, jobs: PoolJob[], count: number, onDone?: (r: IngestResult) => void): Promise<PoolOutput> {
  // largest first, so one big file does not start last
  const queue = [...jobs].sort((a, b) => b.size - a.size)
  const results: IngestResult[] = []
  const entries: PackEntryInfo[] = []
  const url = new URL('./ingest-worker.js', import.meta.url)
  let failure: unknown
  const runOne = (worker: Worker) =>
    new Promise<void>((resolve) => {
      const next = () => {
        const job = failure ? undefined : queue.shift()
        if (job) worker.postMessage({type: 'task', task: job.task, locations: [...job.locations]})
        else worker.postMessage({type: failure ? 'abort' : 'finish'})
      }
      worker.on('message', (msg) => {
        if (msg.type === 'result') {
          results.push(msg.result)
          onDone?.(msg.result)
          next()
        } else if (msg.type === 'error') {
          failure ??= msg.error.dsv ? new DsvError(msg.error.code, msg.error.message, msg.error.data, msg.error.hint) : new Error(msg.error.message)
          next()
        } else if (msg.type === 'finished') {
          for (const e of msg.entries as PackEntryInfo[]) entries.push({...e, oid: Buffer.from(e.oid), base: e.base ? Buffer.from(e.base) : undefined})
          void worker.terminate()
          resolve()
        }
      })
      worker.on('error', (error) => {
        failure ??= error
        resolve()
      })
      next()
    })
  const pool = Array.from({length: count}, () => new Worker(url, {workerData: {packDir, level}}))
  await Promise.all(pool.map(runOne))
  if (failure) throw failure
  return {results, entries}
}
