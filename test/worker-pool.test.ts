/**
 * WorkerPool on real worker threads: jobs submitted while others run, results, final
 * payloads, a worker's error, and a caller's abort part-way through submitting.
 */
import {strict as assert} from 'node:assert'
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {pathToFileURL} from 'node:url'
import {WorkerPool} from '../src/core/worker-pool.js'

// A worker that speaks the pool's protocol: doubles numbers after a short wait, fails on
// negative ones, and reports how many jobs it did when told to finish.
const WORKER = `
import {parentPort} from 'node:worker_threads'
let done = 0
parentPort.on('message', (msg) => {
  if (msg.type === 'task') {
    setTimeout(() => {
      if (msg.job.n < 0) return parentPort.postMessage({type: 'error', error: {message: 'negative ' + msg.job.n}})
      done++
      parentPort.postMessage({type: 'result', result: msg.job.n * 2})
    }, msg.job.wait ?? 5)
  } else parentPort.postMessage({type: 'finished', payload: msg.type === 'abort' ? -done : done})
})
`

describe('WorkerPool', function () {
  this.timeout(30_000)
  let dir: string
  let url: URL
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'dsv-pool-'))
    writeFileSync(join(dir, 'worker.mjs'), WORKER)
    url = pathToFileURL(join(dir, 'worker.mjs'))
  })
  after(() => rmSync(dir, {recursive: true, force: true}))

  it('runs jobs submitted while earlier ones run, and returns every worker\'s payload', async () => {
    const results: number[] = []
    const pool = new WorkerPool<{n: number; wait?: number}, number, number>(url, null, 2, (r) => results.push(r))
    pool.submit({n: 1, wait: 50})
    await new Promise((resolve) => setTimeout(resolve, 20)) // the first job is running
    for (let n = 2; n <= 10; n++) pool.submit({n})
    const payloads = await pool.finish()
    assert.deepEqual(results.sort((a, b) => a - b), [2, 4, 6, 8, 10, 12, 14, 16, 18, 20])
    assert.equal(payloads.length, 2)
    assert.equal(payloads.reduce((s, p) => s + p, 0), 10, 'each job ran exactly once')
    assert.throws(() => pool.submit({n: 11}), /after finish/)
  })

  it('finishes at once with idle workers when nothing was submitted', async () => {
    const pool = new WorkerPool<{n: number}, number, number>(url, null, 2, () => {})
    assert.deepEqual(await pool.finish(), [0, 0])
  })

  it('rejects with a worker\'s error and runs no job submitted after it', async () => {
    const results: number[] = []
    const pool = new WorkerPool<{n: number; wait?: number}, number, number>(url, null, 1, (r) => results.push(r))
    pool.submit({n: -1})
    await new Promise((resolve) => setTimeout(resolve, 1000)) // the error has arrived (a worker starts in ~50 ms, slower on a loaded machine)
    pool.submit({n: 2})
    await assert.rejects(pool.finish(), /negative -1/)
    assert.deepEqual(results, [])
  })

  it('submitEach: jobs prepared one by one; a failed preparation stops the pool and is thrown', async () => {
    const results: number[] = []
    const pool = new WorkerPool<{n: number; wait?: number}, number, number>(url, null, 2, (r) => results.push(r))
    await pool.submitEach([1, 2, 3], async (n) => ({n}))
    assert.deepEqual((await pool.finish()).reduce((s, p) => s + p, 0), 3)
    assert.deepEqual(results.sort(), [2, 4, 6])

    const failing = new WorkerPool<{n: number; wait?: number}, number, number>(url, null, 2, () => {})
    const prepared: number[] = []
    await assert.rejects(failing.submitEach([1, 2, 3, 4], async (n) => {
      if (n === 3) throw new Error('cannot plan 3')
      prepared.push(n)
      return {n}
    }), /cannot plan 3/)
    assert.deepEqual(prepared, [1, 2], 'nothing is prepared after the failure')
    await assert.rejects(failing.finish(), /cannot plan 3/)
  })

  it('abort: the caller\'s own error stops the pool; jobs still queued never run', async () => {
    const results: number[] = []
    const pool = new WorkerPool<{n: number; wait?: number}, number, number>(url, null, 1, (r) => results.push(r))
    pool.submit({n: 1, wait: 100})
    pool.submit({n: 2})
    pool.submit({n: 3})
    await pool.abort(new Error('planning failed'))
    assert.deepEqual(results, [2], 'the running job completes, the queued ones are dropped')
    await assert.rejects(pool.finish(), /planning failed/)
  })

  it('ahead: a worker holds its next job while the caller takes the rest to run itself', async () => {
    const results: number[] = []
    const pool = new WorkerPool<{n: number; wait?: number}, number, number>(url, null, 1, (r) => results.push(r), {ahead: 2})
    for (let n = 1; n <= 5; n++) pool.submit({n, wait: 30})
    // the worker was given two; the caller takes the three still queued
    const taken: number[] = []
    for (let job = pool.take(); job; job = pool.take()) taken.push(job.n)
    assert.deepEqual(taken, [3, 4, 5])
    pool.submit({n: 6})
    const payloads = await pool.finish()
    assert.deepEqual(results.sort((a, b) => a - b), [2, 4, 12])
    assert.deepEqual(payloads, [3], 'one worker, three jobs, each once')
  })

  it('ahead: after a worker\'s error, nothing more is posted to it or taken by the caller', async () => {
    const results: number[] = []
    const pool = new WorkerPool<{n: number; wait?: number}, number, number>(url, null, 1, (r) => results.push(r), {ahead: 2})
    pool.submit({n: -1, wait: 5})
    pool.submit({n: 2, wait: 5}) // held by the worker with the failing one: it may or may not finish before the abort
    pool.submit({n: 3})
    await assert.rejects(pool.finish(), /negative -1/)
    assert.equal(pool.take(), undefined)
    assert.ok(!results.includes(6), 'the job no worker held never ran')
    assert.ok(results.every((r) => r === 4), `results: ${results}`)
  })
})
