/** Worker thread: re-hashes the objects push sends (verify-objects.ts), block by block. */
import {parentPort, workerData} from 'node:worker_threads'
import {PackReader} from '../pack.js'
import {serialiseError} from '../worker-pool.js'
import {verifyBlock, type VerifyJob} from './verify-objects.js'

const reader = new PackReader((workerData as {packDir: string}).packDir, 16 << 20)

parentPort!.on('message', (msg: {type: 'task'; job: VerifyJob} | {type: 'finish'} | {type: 'abort'}) => {
  try {
    if (msg.type === 'task') {
      const job = msg.job
      // structured clone turns Buffers into Uint8Arrays: make the delta bases' ids Buffers again
      for (const e of job.entries) if (e.base?.at.base) e.base.at.base = Buffer.from(e.base.at.base)
      parentPort!.postMessage({type: 'result', result: verifyBlock(reader, job)})
    } else {
      reader.close()
      parentPort!.postMessage({type: 'finished', payload: null})
    }
  } catch (error) {
    parentPort!.postMessage({type: 'error', error: serialiseError(error)})
  }
})
