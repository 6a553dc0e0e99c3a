/** File-level changes between two snapshots, with example counts for tables. */
import {diffManyTables, type TableDiff} from '../table-diff.js'
import {readTable} from '../table-read.js'
import {chooseKeyOfVersions} from '../example-key.js'
import type {ChangeCounts, Table, TreeEntry} from '../model.js'
import {modeChange, modeOnlyChange, sameFile} from '../file-mode.js'
import type {Oid} from '../bytes.js'
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
  /** the file became executable or stopped being so (its content may be unchanged) */
  executable?: {from: boolean; to: boolean}
}

/**
 * Example counts already known for some tables (counted while they were ingested): used
 * for a table whose two versions are exactly `before` and `after`.
 */
export type KnownChanges = Map<string, {before: Oid; after: Oid; counts: ChangeCounts}>

export interface TreeChanges {
  files: FileChange[]
  fileCounts: ChangeCounts
  examples: ChangeCounts
}

export async function diffFileMaps(repo: Repository, before: FileMap, after: FileMap, keepDetails = false, known: KnownChanges = new Map()): Promise<TreeChanges> {
  const files: FileChange[] = []
  // DSV_VERIFY_COUNTS (the tests set it): known counts are checked against the diff's scan
  const verify = !!process.env.DSV_VERIFY_COUNTS
  const tablePairs: Array<{change: FileChange; before: Table | null; after: Table | null; key: string[] | null}> = []
  const paths = [...new Set([...before.keys(), ...after.keys()])].sort()
  for (const path of paths) {
    const a = before.get(path)
    const b = after.get(path)
    if (sameFile(a, b)) continue
    const status = !a ? 'added' : !b ? 'removed' : 'modified'
    const change: FileChange = {path, status, kind: 'blob', before: a, after: b}
    files.push(change)
    const mode = modeChange(a, b)
    if (mode) change.executable = mode
    if (modeOnlyChange(a, b)) {
      // the same content: no example changed
      if (a!.type === 'table') (change.kind = 'table'), (change.examples = {added: 0, removed: 0, modified: 0})
      continue
    }
    const counted = known.get(path)
    if (!keepDetails && counted && a?.type === 'table' && b?.type === 'table' && counted.before === a.oid && counted.after === b.oid) {
      change.kind = 'table'
      change.examples = counted.counts
      if (!verify) continue
    }
    if (a?.type === 'table' || b?.type === 'table') {
      const ta = a?.type === 'table' ? await readTable(repo.store, a.oid) : null
      const tb = b?.type === 'table' ? await readTable(repo.store, b.oid) : null
      change.kind = 'table'
      tablePairs.push({change, before: ta, after: tb, key: chooseKeyOfVersions(path, tb?.fields, ta?.fields, repo.config.keys ?? {})})
    }
  }
  const diffs = await diffManyTables(repo.store, tablePairs, {details: keepDetails})
  tablePairs.forEach(({change}, i) => {
    const d = diffs[i]
    const counts = {added: d.added, removed: d.removed, modified: d.modified}
    const known = change.examples
    if (known && (known.added !== counts.added || known.removed !== counts.removed || known.modified !== counts.modified))
      throw new Error(`${change.path}: counted ${JSON.stringify(known)} while ingesting, the diff says ${JSON.stringify(counts)}`)
    change.examples = counts
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
