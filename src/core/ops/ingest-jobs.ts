/**
 * Prepares table ingestion jobs (with the previous version's leaves as dedup hits and
 * delta bases), runs them, indexes the packs they wrote, and builds each table object.
 */
import {runIngest, type PlannedJob, type PoolJob} from '../ingest-pool.js'
import {DEFAULT_COMPRESSION} from '../pack.js'
import {buildRecordTree} from '../record-tree.js'
import {encodeTable, type TreeEntry} from '../model.js'
import {listLeaves, nodeParents, readTable} from '../table-read.js'
import {tableFormatOf} from '../table-format.js'
import type {IndexEntry} from '../index-db.js'
import type {OldLeaf} from '../ingest.js'
import type {FileMap} from '../tree-ops.js'
import type {WorkFile} from '../worktree.js'
import type {Repository} from '../repository.js'

export async function ingestTableJobs(repo: Repository, files: WorkFile[], previous: FileMap, onFile: () => void): Promise<TreeEntry[]> {
  const prepare = async (f: WorkFile): Promise<PoolJob> => {
    const prev = previous.get(f.path)
    const oldLeaves: OldLeaf[] = []
    const locations = new Map<string, IndexEntry>()
    if (prev?.type === 'table') {
      const spans = await listLeaves(repo.store, await readTable(repo.store, prev.oid))
      const entries = await repo.db.getObjects(spans.map((s) => s.oid))
      const keyframes: Buffer[] = []
      spans.forEach((s, i) => {
        const e = entries[i]
        if (!e) return
        const keyframe = e.base?.toString('hex')
        oldLeaves.push({oid: s.oid, records: s.records, bytes: s.bytes, keyframe})
        if (keyframe) keyframes.push(e.base!)
        else locations.set(s.oid, e)
      })
      const kfEntries = await repo.db.getObjects(keyframes)
      keyframes.forEach((k, i) => kfEntries[i] && locations.set(k.toString('hex'), kfEntries[i]!))
    }
    return {task: {absPath: f.abs, relPath: f.path, format: tableFormatOf(f.path)!, oldLeaves}, locations, size: Number(f.stat.size)}
  }
  const jobs: PlannedJob[] = files.map((f) => ({size: Number(f.stat.size), prepare: () => prepare(f)}))
  const {results, entries} = await runIngest(repo.store.packDir, repo.config.core?.compression ?? DEFAULT_COMPRESSION, jobs, onFile)
  await repo.store.indexPack(entries)
  const out: TreeEntry[] = []
  for (const r of results) {
    const prev = previous.get(r.relPath)
    const parents = prev?.type === 'table' ? await nodeParents(repo.store, await readTable(repo.store, prev.oid)) : undefined
    const {root, height} = await buildRecordTree(repo.store, r.leaves, parents)
    const oid = await repo.store.put('table', encodeTable({format: r.format, header: r.header, root, height, records: r.records, examples: r.examples, bytes: r.bytes, fields: r.fields}))
    out.push({name: r.relPath, type: 'table', oid, size: r.bytes, examples: r.examples})
  }
  return out
}
