/** File-level changes between two snapshots, with example counts for tables. */
import {diffManyTables, type TableDiff} from '../table-diff.js'
import {readTable} from '../table-read.js'
import {chooseKey} from '../example-key.js'
import type {ChangeCounts, Table, TreeEntry} from '../model.js'
import type {FileMap} from '../tree-ops.js'
import type {Repository} from '../repository.js'

export interface FileChange {
  path: string
  status: 'added' | 'removed' | 'modified'
  kind: 'table' | 'blob'
  before?: TreeEntry
  after?: TreeEntry
  examples?: ChangeCounts
  diff?: TableDiff
}

export interface TreeChanges {
  files: FileChange[]
  fileCounts: ChangeCounts
  examples: ChangeCounts
}

export async function diffFileMaps(repo: Repository, before: FileMap, after: FileMap, keepDetails = false): Promise<TreeChanges> {
  const files: FileChange[] = []
  const tablePairs: Array<{change: FileChange; before: Table | null; after: Table | null; key: string[] | null}> = []
  const paths = [...new Set([...before.keys(), ...after.keys()])].sort()
  for (const path of paths) {
    const a = before.get(path)
    const b = after.get(path)
    if (a && b && a.oid === b.oid) continue
    const status = !a ? 'added' : !b ? 'removed' : 'modified'
    const change: FileChange = {path, status, kind: 'blob', before: a, after: b}
    if (a?.type === 'table' || b?.type === 'table') {
      const ta = a?.type === 'table' ? await readTable(repo.store, a.oid) : null
      const tb = b?.type === 'table' ? await readTable(repo.store, b.oid) : null
      change.kind = 'table'
      tablePairs.push({change, before: ta, after: tb, key: chooseKey(path, (tb ?? ta)!.fields, repo.config.keys ?? {})})
    }
    files.push(change)
  }
  const diffs = await diffManyTables(repo.store, tablePairs, {details: keepDetails})
  tablePairs.forEach(({change}, i) => {
    const d = diffs[i]
    change.examples = {added: d.added, removed: d.removed, modified: d.modified}
    if (keepDetails) change.diff = d
  })
  const fileCounts = {added: 0, removed: 0, modified: 0}
  const examples = {added: 0, removed: 0, modified: 0}
  for (const f of files) {
    fileCounts[f.status]++
    if (f.examples) {
      examples.added += f.examples.added
      examples.removed += f.examples.removed
      examples.modified += f.examples.modified
    }
  }
  return {files, fileCounts, examples}
}
