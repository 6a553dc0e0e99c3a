/** Worker thread: ingests data files sent by the main thread into a pack of its own. */
import {parentPort, workerData} from 'node:worker_threads'
import {ingestTable, type IngestTask} from './ingest.js'
import {PACK_SPLIT_BYTES, PackLeafStore, type StoredLeaf} from './leaf-store.js'
import {serialiseError} from './worker-pool.js'

const {packDir, level} = workerData as {packDir: string; level: number}
const store = new PackLeafStore(packDir, level, new Map())
// DSV_PACK_SPLIT_BYTES: the tests finish a pack after every file on small data
const packSplit = Number(process.env.DSV_PACK_SPLIT_BYTES ?? PACK_SPLIT_BYTES)

/** A task arrives as JSON (see ingest-pool.ts): its old leaves and their locations. */
type Message = {type: 'task'; job: string} | {type: 'finish'} | {type: 'abort'}

parentPort!.on('message', (msg: Message) => {
  try {
    if (msg.type === 'task') {
      const job = JSON.parse(msg.job) as {task: IngestTask; locations: Array<[string, StoredLeaf]>}
      store.setLocations(new Map(job.locations))
      const result = ingestTable(job.task, store)
      // a large pack is finished now, so the main thread indexes it while this worker goes on
      const entries = store.packBytes >= packSplit ? store.finishPack() : []
      parentPort!.postMessage({type: 'result', result: {result, entries}})
    } else if (msg.type === 'finish') {
      parentPort!.postMessage({type: 'finished', payload: store.finish()})
    } else {
      store.abort()
      parentPort!.postMessage({type: 'finished', payload: []})
    }
  } catch (error) {
    parentPort!.postMessage({type: 'error', error: serialiseError(error)})
  }
})
