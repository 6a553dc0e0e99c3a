/** Worker thread: scans the changed regions of a table diff (read, verify, hash, match). */
import {parentPort, workerData} from 'node:worker_threads'
import {PackReader} from './pack.js'
import {scanRegions, type ScanJob} from './table-diff.js'
import {serialiseError} from './worker-pool.js'
import type {IndexEntry} from './index-db.js'

const reader = new PackReader((workerData as {packDir: string}).packDir, 16 << 20, true) // loadRecords copies each leaf
const revive = (e: IndexEntry): IndexEntry => ({...e, base: e.base ? Buffer.from(e.base) : undefined})

parentPort!.on('message', (msg: {type: 'task'; job: ScanJob & {id: number}} | {type: 'finish'} | {type: 'abort'}) => {
  try {
    if (msg.type === 'task') {
      const job = msg.job
      const regions = job.regions.map((r) => ({
        old: r.old.map((l) => ({...l, loc: revive(l.loc), base: l.base && revive(l.base)})),
        new: r.new.map((l) => ({...l, loc: revive(l.loc), base: l.base && revive(l.base)})),
      }))
      parentPort!.postMessage({type: 'result', result: {id: job.id, result: scanRegions({...job, regions}, reader)}})
    } else {
      reader.close()
      parentPort!.postMessage({type: 'finished', payload: null})
    }
  } catch (error) {
    parentPort!.postMessage({type: 'error', error: serialiseError(error)})
  }
})
