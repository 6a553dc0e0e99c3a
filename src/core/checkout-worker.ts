/** Worker thread: writes tables to files from pack locations sent by the main thread. */
import {close} from 'node:fs'
import {parentPort, workerData} from 'node:worker_threads'
import {PackReader, WORKER_BLOCK_CACHE} from './pack.js'
import {writeTableFile, type TableWriteJob} from './table-write.js'
import {serialiseError} from './worker-pool.js'

const reader = new PackReader((workerData as {packDir: string}).packDir, WORKER_BLOCK_CACHE, true) // each leaf is written at once

/**
 * The last close of a replaced (unlinked) file frees its pages and blocks: 50-170 ms
 * for a 54 MB file on ext4, which this thread would spend waiting instead of writing the
 * next table. The closes run on libuv's thread pool; `finish` waits for them.
 */
const closing = new Set<Promise<void>>()
function closeInBackground(fd: number): void {
  const done: Promise<void> = new Promise((resolve) => close(fd, () => resolve()))
  closing.add(done)
  void done.then(() => closing.delete(done))
}

parentPort!.on('message', (msg: {type: 'task'; job: TableWriteJob} | {type: 'finish'} | {type: 'abort'}) => {
  try {
    if (msg.type === 'task') {
      const job = msg.job
      parentPort!.postMessage({type: 'result', result: writeTableFile(job, reader, closeInBackground)})
    } else {
      reader.close()
      void Promise.all(closing).then(() => parentPort!.postMessage({type: 'finished', payload: null}))
    }
  } catch (error) {
    parentPort!.postMessage({type: 'error', error: serialiseError(error)})
  }
})
