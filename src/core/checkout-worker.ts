/** Worker thread: writes tables to files from pack locations sent by the main thread. */
import {parentPort, workerData} from 'node:worker_threads'
import {PackReader} from './pack.js'
import {writeTableFile, type TableWriteJob} from './table-write.js'
import {serialiseError} from './worker-pool.js'
import type {IndexEntry} from './index-db.js'

const reader = new PackReader((workerData as {packDir: string}).packDir, 16 << 20, true) // each leaf is written at once
const revive = (e: IndexEntry): IndexEntry => ({...e, base: e.base ? Buffer.from(e.base) : undefined})

parentPort!.on('message', (msg: {type: 'task'; job: TableWriteJob} | {type: 'finish'} | {type: 'abort'}) => {
  try {
    if (msg.type === 'task') {
      const job = msg.job
      writeTableFile({...job, leaves: job.leaves.map((l) => ({...l, loc: revive(l.loc), base: l.base && revive(l.base)}))}, reader)
      parentPort!.postMessage({type: 'result', result: job.abs})
    } else {
      reader.close()
      parentPort!.postMessage({type: 'finished', payload: null})
    }
  } catch (error) {
    parentPort!.postMessage({type: 'error', error: serialiseError(error)})
  }
})
