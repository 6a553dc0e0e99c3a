/**
 * A small pool of worker threads for CPU-heavy jobs (ingesting and writing tables).
 * Protocol: main sends {type:'task', job}; the worker answers {type:'result', result} or
 * {type:'error', error}; at the end main sends {type:'finish'} (or 'abort' after a
 * failure) and the worker answers {type:'finished', payload}.
 */
import {Worker} from 'node:worker_threads'
import {availableParallelism} from 'node:os'
import {DsvError} from '../errors/index.js'

/**
 * Whether `totalBytes` of work is worth starting workers for. DSV_PARALLEL_MIN_BYTES
 * overrides the threshold (0 forces workers: the tests use it on small data).
 */
export function worthWorkers(totalBytes: number, threshold: number, jobs: number): boolean {
  const min = process.env.DSV_PARALLEL_MIN_BYTES !== undefined ? Number(process.env.DSV_PARALLEL_MIN_BYTES) : threshold
  return totalBytes >= min && workerCount(jobs) >= 2
}

export function workerCount(jobs: number): number {
  return Math.max(1, Math.min(availableParallelism(), jobs, Number(process.env.DSV_WORKERS ?? 8)))
}

export interface SerialisedError {
  dsv?: boolean
  code?: string
  message: string
  data?: Record<string, unknown>
  hint?: string
}

export function serialiseError(error: unknown): SerialisedError {
  const e = error as Error
  return e instanceof DsvError ? {dsv: true, code: e.code, message: e.message, data: e.data, hint: e.hint} : {message: e.stack ?? e.message}
}

function reviveError(e: SerialisedError): Error {
  return e.dsv ? new DsvError(e.code as DsvError['code'], e.message, e.data, e.hint) : new Error(e.message)
}

/**
 * A worker's heap. Ingest and checkout workers hold a few read buffers and one pack block:
 * a small heap keeps the collector prompt and the process within its memory budget. Diff
 * scans hold a record entry per changed record and need more room to avoid GC churn.
 */
export const SMALL_HEAP = {maxOldGenerationSizeMb: 48, maxYoungGenerationSizeMb: 4}
export const DIFF_HEAP = {maxOldGenerationSizeMb: 160, maxYoungGenerationSizeMb: 16}

/** Runs `jobs` (largest first) on `count` workers; returns each worker's final payload. */
export async function runOnWorkers<J extends {size: number}, R, P>(url: URL, workerData: unknown, jobs: J[], count: number, onResult: (r: R) => void, toMessage: (j: J) => unknown = (j) => j, resourceLimits = SMALL_HEAP): Promise<P[]> {
  const queue = [...jobs].sort((a, b) => b.size - a.size)
  const payloads: P[] = []
  let failure: Error | undefined
  const drive = (worker: Worker) =>
    new Promise<void>((resolve) => {
      const next = () => {
        const job = failure ? undefined : queue.shift()
        if (job) worker.postMessage({type: 'task', job: toMessage(job)})
        else worker.postMessage({type: failure ? 'abort' : 'finish'})
      }
      worker.on('message', (msg) => {
        if (msg.type === 'result') {
          onResult(msg.result as R)
          next()
        } else if (msg.type === 'error') {
          failure ??= reviveError(msg.error)
          next()
        } else if (msg.type === 'finished') {
          payloads.push(msg.payload as P)
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
  await Promise.all(Array.from({length: count}, () => drive(new Worker(url, {workerData, resourceLimits}))))
  if (failure) throw failure
  return payloads
}
