/**
 * Prepares table ingestion jobs (with the previous version's leaves as dedup hits and
 * delta bases), runs them, indexes the packs they wrote, and builds each table object.
 */
import {runIngest, type PlannedJob, type PoolJob} from '../ingest-pool.js'
import {DEFAULT_COMPRESSION} from '../pack.js'
import {buildRecordTree} from '../record-tree.js'
import {encodeTable, type ChangeCounts, type TreeEntry} from '../model.js'
import {listLeaves, nodeParents, readTable} from '../table-read.js'
import {tableFormatOf, type TableFormat} from '../table-format.js'
import {storedLeafOf, type StoredLeaf} from '../leaf-store.js'
import {chunkingOf, NEWEST_CHUNKING} from '../chunking.js'
import type {PackEntryInfo} from '../pack.js'
import type {IngestResult, IngestTask, OldLeaf} from '../ingest.js'
import type {FileMap} from '../tree-ops.js'
import type {WorkFile} from '../worktree.js'
import type {Repository} from '../repository.js'

/** Each ingested table's entry, and its example changes against `previous` where they were counted during ingestion. */
export interface IngestedTables {
  entries: TreeEntry[]
  /** path → the changes from previous's table to the new one (see ingest-counts.ts) */
  changes: Map<string, ChangeCounts>
}

export async function ingestTableJobs(repo: Repository, files: WorkFile[], previous: FileMap, onFile: () => void): Promise<IngestedTables> {
  const prepare = async (f: WorkFile): Promise<PoolJob> => {
    const prev = previous.get(f.path)
    const oldLeaves: OldLeaf[] = []
    const locations = new Map<string, StoredLeaf>()
    let counting: IngestTask['counting']
    let chunking = NEWEST_CHUNKING
    if (prev?.type === 'table') {
      const table = await readTable(repo.store, prev.oid)
      chunking = chunkingOf(table)
      const spans = await listLeaves(repo.store, table)
      const entries = await repo.db.getObjects(spans.map((s) => s.oid))
      const keyframes: Buffer[] = []
      spans.forEach((s, i) => {
        const e = entries[i]
        if (!e) return
        const keyframe = e.base?.toString('hex')
        oldLeaves.push({oid: s.oid, records: s.records, bytes: s.bytes, keyframe})
        if (keyframe) keyframes.push(e.base!)
        locations.set(s.oid, storedLeafOf(e))
      })
      const kfEntries = await repo.db.getObjects(keyframes)
      keyframes.forEach((k, i) => kfEntries[i] && locations.set(k.toString('hex'), storedLeafOf(kfEntries[i]!)))
      // counted while ingesting only with every old leaf at hand (else the commit's scan counts)
      if (oldLeaves.length === spans.length) counting = {keys: repo.config.keys ?? {}, old: {format: table.format as TableFormat, header: table.header, fields: table.fields}}
    }
    return {task: {absPath: f.abs, relPath: f.path, format: tableFormatOf(f.path)!, oldLeaves, counting, chunking}, locations, size: Number(f.stat.size)}
  }
  // each table's nodes are built (here, one table at a time) as soon as its leaves are
  // known, while the workers ingest the other files; nodes name leaves by id only
  const buildTable = async (r: IngestResult): Promise<TreeEntry> => {
    const prev = previous.get(r.relPath)
    const parents = prev?.type === 'table' ? await nodeParents(repo.store, await readTable(repo.store, prev.oid)) : undefined
    const {root, height} = await buildRecordTree(repo.store, r.leaves, parents)
    const oid = await repo.store.put('table', encodeTable({format: r.format, header: r.header, root, height, records: r.records, examples: r.examples, bytes: r.bytes, fields: r.fields, chunking: r.chunking}))
    return {name: r.relPath, type: 'table', oid, size: r.bytes, examples: r.examples}
  }
  const built: Array<Promise<TreeEntry>> = []
  const changes = new Map<string, ChangeCounts>()
  let previousStep: Promise<unknown> = Promise.resolve()
  const ingested = (r: IngestResult, finishedPacks: PackEntryInfo[]) => {
    if (r.changes) changes.set(r.relPath, r.changes)
    const entry = previousStep.then(async () => {
      if (finishedPacks.length > 0) await repo.store.indexPack(finishedPacks)
      return buildTable(r)
    })
    entry.catch(() => {}) // awaited below, after the ingestion (whose own error comes first)
    previousStep = entry.catch(() => {})
    built.push(entry)
    onFile()
  }
  const jobs: PlannedJob[] = files.map((f) => ({size: Number(f.stat.size), prepare: () => prepare(f)}))
  const {entries} = await runIngest(repo.store.packDir, repo.config.core?.compression ?? DEFAULT_COMPRESSION, jobs, ingested)
  const tables = await Promise.all(built)
  await repo.store.indexPack(entries)
  return {entries: tables, changes}
}
