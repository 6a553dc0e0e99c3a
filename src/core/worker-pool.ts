/**
 * A small pool of worker threads for CPU-heavy jobs (ingesting and writing tables).
 * Protocol: main sends {type:'task', job}; the worker answers {type:'result', result} or
 * {type:'error', error}; at the end main sends {type:'finish'} (or 'abort' after a
 * failure) and the worker answers {type:'finished', payload}.
 */
import {Worker} from 'node:worker_threads'
import {availableParallelism} from 'node:os'
import {DsvError, ioError} from '../errors/index.js'

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
  const e = (ioError(error) ?? error) as Error // a full disk on a worker is still E_IO
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

export interface PoolOptions<J> {
  /** what is posted for a job (default: the job itself, structured-cloned) */
  toMessage?: (j: J) => unknown
  resourceLimits?: typeof SMALL_HEAP
  /**
   * Jobs posted to a worker before it answers the first (default 1). With 2, a worker
   * finds its next job waiting even while the main thread is busy with work of its own
   * (see `take`) and cannot hand it one.
   */
  ahead?: number
}

/**
 * Worker threads started at once and fed jobs as they are submitted, so a caller can plan
 * the next job while the first ones run (and the workers load their modules meanwhile).
 * Each worker takes the oldest waiting job when it is free. `finish` resolves with every
 * worker's final payload once all submitted jobs are done, or rejects with the first error
 * (later jobs are then dropped and the workers stopped).
 */
export class WorkerPool<J, R, P> {
  private readonly queue: J[] = []
  /** workers that could take another job now */
  private readonly idle: Worker[] = []
  private readonly posted = new Map<Worker, number>()
  /** told to finish or abort: no more messages */
  private readonly ended = new Set<Worker>()
  private readonly done: Promise<void>
  private readonly payloads: P[] = []
  private readonly toMessage: (j: J) => unknown
  private readonly ahead: number
  private closed = false
  private failure?: Error

  constructor(url: URL, workerData: unknown, count: number, private readonly onResult: (r: R) => void, options: PoolOptions<J> = {}) {
    this.toMessage = options.toMessage ?? ((j) => j)
    this.ahead = options.ahead ?? 1
    const resourceLimits = options.resourceLimits ?? SMALL_HEAP
    this.done = Promise.all(Array.from({length: count}, () => this.drive(new Worker(url, {workerData, resourceLimits})))).then(() => {})
  }

  submit(job: J): void {
    if (this.closed) throw new Error('WorkerPool: submit after finish')
    this.queue.push(job)
    const worker = this.idle.pop()
    if (worker) this.next(worker)
  }

  /**
   * Takes the oldest job no worker has been given yet, for the caller to run itself (on a
   * machine with few cores, the main thread scans too once its own planning is done).
   */
  take(): J | undefined {
    return this.failure ? undefined : this.queue.shift()
  }

  /**
   * Submits a job per item, each prepared (index lookups, say) while the workers run the
   * earlier ones. A preparation that fails stops the pool, and its error is thrown.
   */
  async submitEach<T>(items: Iterable<T>, prepare: (item: T) => Promise<J>): Promise<void> {
    try {
      for (const item of items) this.submit(await prepare(item))
    } catch (error) {
      await this.abort(error as Error)
      throw error
    }
  }

  /** No more jobs: waits for the submitted ones. */
  async finish(): Promise<P[]> {
    this.closed = true
    for (const worker of this.idle.splice(0)) this.next(worker)
    await this.done
    if (this.failure) throw this.failure
    return this.payloads
  }

  /** Stops after a failure of the caller's own (e.g. while planning more jobs). */
  async abort(error: Error): Promise<void> {
    this.failure ??= error
    await this.finish().catch(() => {})
  }

  /** Posts jobs to `worker` up to `ahead`; when it has none left and none will come, ends it. */
  private next(worker: Worker): void {
    if (this.ended.has(worker)) return
    const at = this.idle.indexOf(worker)
    if (at >= 0) this.idle.splice(at, 1)
    let posted = this.posted.get(worker) ?? 0
    while (posted < this.ahead && !this.failure && this.queue.length > 0) {
      worker.postMessage({type: 'task', job: this.toMessage(this.queue.shift()!)})
      posted++
    }
    this.posted.set(worker, posted)
    // a worker runs its messages in order: after a failure, it stops once the jobs it holds are done
    if (this.failure || (this.closed && posted === 0)) {
      worker.postMessage({type: this.failure ? 'abort' : 'finish'})
      this.ended.add(worker)
    } else if (posted < this.ahead) this.idle.push(worker)
  }

  private drive(worker: Worker): Promise<void> {
    return new Promise<void>((resolve) => {
      worker.on('message', (msg) => {
        if (msg.type === 'result' || msg.type === 'error') {
          this.posted.set(worker, this.posted.get(worker)! - 1)
          if (msg.type === 'error') this.failure ??= reviveError(msg.error)
          this.next(worker) // first: the worker goes on while the result is taken in here
          if (msg.type === 'result') this.onResult(msg.result as R)
        } else if (msg.type === 'finished') {
          this.payloads.push(msg.payload as P)
          void worker.terminate()
          resolve()
        }
      })
      worker.on('error', (error) => {
        this.failure ??= error
        resolve()
      })
      this.next(worker)
    })
  }
}

/** Runs `jobs` (largest first) on `count` workers; returns each worker's final payload. */
export async function runOnWorkers<J extends {size: number}, R, P>(url: URL, workerData: unknown, jobs: J[], count: number, onResult: (r: R) => void, options: PoolOptions<J> = {}): Promise<P[]> {
  const pool = new WorkerPool<J, R, P>(url, workerData, count, onResult, options)
  for (const job of [...jobs].sort((a, b) => b.size - a.size)) pool.submit(job)
  return pool.finish()
}
