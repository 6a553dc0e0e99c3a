/** Worker thread: scans the changed regions of a table diff (read, verify, hash, match). */
import {parentPort, workerData} from 'node:worker_threads'
import {PackReader, WORKER_BLOCK_CACHE} from './pack.js'
import {scanRegions, type ScanJob} from './table-diff.js'
import {serialiseError} from './worker-pool.js'

const reader = new PackReader((workerData as {packDir: string}).packDir, WORKER_BLOCK_CACHE, true) // loadRecords copies each leaf

parentPort!.on('message', (msg: {type: 'task'; job: ScanJob & {id: number}} | {type: 'finish'} | {type: 'abort'}) => {
  try {
    if (msg.type === 'task') {
      const job = msg.job
      parentPort!.postMessage({type: 'result', result: {id: job.id, result: scanRegions(job, reader)}})
    } else {
      reader.close()
      parentPort!.postMessage({type: 'finished', payload: null})
    }
  } catch (error) {
    parentPort!.postMessage({type: 'error', error: serialiseError(error)})
  }
})
