/** Worker thread: checks whole tables for `dsv quality check` (see quality/table-check.ts). */
import {parentPort, workerData} from 'node:worker_threads'
import {PackReader, WORKER_BLOCK_CACHE} from './pack.js'
import {checkTable, type TableCheckJob} from './quality/table-check.js'
import {serialiseError} from './worker-pool.js'

const data = workerData as {packDir: string; allPaths: string[]; collectFailing: boolean}
const reader = new PackReader(data.packDir, WORKER_BLOCK_CACHE, true) // each example is checked as it is read
const allPaths = new Set(data.allPaths)

parentPort!.on('message', (msg: {type: 'task'; job: TableCheckJob & {index: number}} | {type: 'finish'} | {type: 'abort'}) => {
  try {
    if (msg.type === 'task') {
      const job = msg.job
      parentPort!.postMessage({type: 'result', result: {index: job.index, outcome: checkTable(job, reader, allPaths, data.collectFailing)}})
    } else {
      reader.close()
      parentPort!.postMessage({type: 'finished', payload: null})
    }
  } catch (error) {
    parentPort!.postMessage({type: 'error', error: serialiseError(error)})
  }
})
