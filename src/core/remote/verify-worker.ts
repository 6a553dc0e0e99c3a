/** Worker thread: re-hashes objects block by block (verify-objects.ts). */
import {parentPort} from 'node:worker_threads'
import {PackReader} from '../pack.js'
import {serialiseError} from '../worker-pool.js'
import {verifyBlock, type VerifyJob} from './verify-objects.js'

const readers = new Map<string, PackReader>()
const readerFor = (dir: string) => {
  let r = readers.get(dir)
  if (!r) readers.set(dir, (r = new PackReader(dir, 16 << 20)))
  return r
}

parentPort!.on('message', (msg: {type: 'task'; job: VerifyJob} | {type: 'finish'} | {type: 'abort'}) => {
  try {
    if (msg.type === 'task') parentPort!.postMessage({type: 'result', result: verifyBlock(readerFor, msg.job)})
    else {
      for (const r of readers.values()) r.close()
      parentPort!.postMessage({type: 'finished', payload: null})
    }
  } catch (error) {
    parentPort!.postMessage({type: 'error', error: serialiseError(error)})
  }
})
