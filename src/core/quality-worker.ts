/** Worker thread: checks whole tables for `dsv quality check` (see quality/table-check.ts). */
import {parentPort, workerData} from 'node:worker_threads'
import {PackReader} from './pack.js'
import {checkTable, type TableCheckJob} from './quality/table-check.js'
import {serialiseError} from './worker-pool.js'
import type {IndexEntry} from './index-db.js'

const data = workerData as {packDir: string; allPaths: string[]; collectFailing: boolean}
const reader = new PackReader(data.packDir, 16 << 20, true) // each example is checked as it is read
const allPaths = new Set(data.allPaths)
const revive = (e: IndexEntry): IndexEntry => ({...e, base: e.base ? Buffer.from(e.base) : undefined})

parentPort!.on('message', (msg: {type: 'task'; job: TableCheckJob & {index: number}} | {type: 'finish'} | {type: 'abort'}) => {
  try {
    if (msg.type === 'task') {
      const job = msg.job
      const leaves = job.leaves.map((l) => ({...l, loc: revive(l.loc), base: l.base && revive(l.base)}))
      parentPort!.postMessage({type: 'result', result: {index: job.index, outcome: checkTable({...job, leaves}, reader, allPaths, data.collectFailing)}})
    } else {
      reader.close()
      parentPort!.postMessage({type: 'finished', payload: null})
    }
  } catch (error) {
    parentPort!.postMessage({type: 'error', error: serialiseError(error)})
  }
})
