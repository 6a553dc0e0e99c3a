/** Worker thread: ingests data files sent by the main thread into a pack of its own. */
import {parentPort, workerData} from 'node:worker_threads'
import {ingestTable, type IngestTask} from './ingest.js'
import {PackLeafStore} from './leaf-store.js'
import type {IndexEntry} from './index-db.js'
import {DsvError} from '../errors/index.js'

const {packDir, level} = workerData as {packDir: string; level: number}
const store = new PackLeafStore(packDir, level, new Map())

parentPort!.on('message', (msg: {type: 'task'; task: IngestTask; locations: Array<[string, IndexEntry]>} | {type: 'finish'} | {type: 'abort'}) => {
  try {
    if (msg.type === 'task') {
      store.setLocations(new Map(msg.locations.map(([k, v]) => [k, reviveEntry(v)])))
      parentPort!.postMessage({type: 'result', result: ingestTable(msg.task, store)})
    } else if (msg.type === 'finish') {
      parentPort!.postMessage({type: 'finished', entries: store.finish()})
    } else {
      store.abort()
      parentPort!.postMessage({type: 'finished', entries: []})
    }
  } catch (error) {
    const e = error as Error
    parentPort!.postMessage({type: 'error', error: e instanceof DsvError ? {dsv: true, code: e.code, message: e.message, data: e.data, hint: e.hint} : {message: e.stack ?? e.message}})
  }
})

function reviveEntry(v: IndexEntry): IndexEntry {
  return {...v, base: v.base ? Buffer.from(v.base) : undefined}
}
