/** Worker thread: writes tables to files from pack locations sent by the main thread. */
import {parentPort, workerData} from 'node:worker_threads'
import {PackReader, WORKER_BLOCK_CACHE} from './pack.js'
import {writeTableFile, type TableWriteJob} from './table-write.js'
import {serialiseError} from './worker-pool.js'

const reader = new PackReader((workerData as {packDir: string}).packDir, WORKER_BLOCK_CACHE, true) // each leaf is written at once

parentPort!.on('message', (msg: {type: 'task'; job: TableWriteJob} | {type: 'finish'} | {type: 'abort'}) => {
  try {
    if (msg.type === 'task') {
      const job = msg.job
      parentPort!.postMessage({type: 'result', result: writeTableFile(job, reader)})
    } else {
      reader.close()
      parentPort!.postMessage({type: 'finished', payload: null})
    }
  } catch (error) {
    parentPort!.postMessage({type: 'error', error: serialiseError(error)})
  }
})
