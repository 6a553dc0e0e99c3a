/** What changed in the working directory since HEAD, file by file and example by example. */
import {snapshot} from './snapshot.js'
import {diffFileMaps, type FileChange} from './tree-diff.js'
import {headTree} from './history.js'
import {flattenTree} from '../tree-ops.js'
import {withoutNestedRepositories} from '../worktree.js'
import type {ChangeCounts} from '../model.js'
import type {ProgressFn, Repository} from '../repository.js'
import type {Oid} from '../bytes.js'

export interface StatusResult {
  branch: string | null
  head: Oid | null
  clean: boolean
  files: Array<{path: string; status: FileChange['status']; kind: FileChange['kind']; examples?: ChangeCounts}>
  examples: ChangeCounts
  /** paths that are not versioned: symlinks and special files */
  skipped: string[]
}

export async function status(repo: Repository, onProgress?: ProgressFn): Promise<StatusResult> {
  return repo.locked(async () => {
    const snap = await snapshot(repo, onProgress)
    const base = await headTree(repo)
    const changes = snap.tree === base ? {files: [], examples: {added: 0, removed: 0, modified: 0}} : await diffFileMaps(repo, withoutNestedRepositories(await flattenTree(repo.store, base)), snap.files, false, snap.changes)
    return {
      branch: repo.currentBranch(),
      head: repo.headCommit(),
      clean: changes.files.length === 0,
      files: changes.files.map((f) => ({path: f.path, status: f.status, kind: f.kind, ...(f.examples ? {examples: f.examples} : {})})),
      examples: changes.examples,
      skipped: snap.skipped,
    }
  })
}
