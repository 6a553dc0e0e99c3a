/** What changed in the working directory since HEAD, file by file and example by example. */
import {snapshot} from './snapshot.js'
import {diffFileMaps, type FileChange} from './tree-diff.js'
import {headTree} from './history.js'
import {flattenTree} from '../tree-ops.js'
import {loadIgnore, withoutNestedRepositories} from '../worktree.js'
import {lstatSync} from 'node:fs'
import {join} from 'node:path'
import type {Ignore} from 'ignore'
import type {ChangeCounts} from '../model.js'
import type {ProgressFn, Repository} from '../repository.js'
import type {Oid} from '../bytes.js'

export interface StatusResult {
  branch: string | null
  head: Oid | null
  clean: boolean
  /** `ignored`: a removed file still on disk, which .dsvignore now names (the next commit drops it) */
  files: Array<{path: string; status: FileChange['status']; kind: FileChange['kind']; examples?: ChangeCounts; ignored?: true; executable?: FileChange['executable']}>
  examples: ChangeCounts
  /** paths that are not versioned: symlinks and special files */
  skipped: string[]
}

export async function status(repo: Repository, onProgress?: ProgressFn): Promise<StatusResult> {
  return repo.locked(async () => {
    const snap = await snapshot(repo, onProgress)
    const base = await headTree(repo)
    let rules: Ignore | undefined
    // a committed file that is still on disk but which .dsvignore now names
    const ignoredOnDisk = (path: string) => (rules ??= loadIgnore(repo.root)).ignores(path) && lstatSync(join(repo.root, path), {throwIfNoEntry: false})?.isFile() === true
    const changes = snap.tree === base ? {files: [], examples: {added: 0, removed: 0, modified: 0}} : await diffFileMaps(repo, withoutNestedRepositories(await flattenTree(repo.store, base)), snap.files, false, snap.changes)
    return {
      branch: repo.currentBranch(),
      head: repo.headCommit(),
      clean: changes.files.length === 0,
      files: changes.files.map((f) => ({path: f.path, status: f.status, kind: f.kind, ...(f.examples ? {examples: f.examples} : {}), ...(f.executable ? {executable: f.executable} : {}), ...(f.status === 'removed' && ignoredOnDisk(f.path) ? {ignored: true as const} : {})})),
      examples: changes.examples,
      skipped: snap.skipped,
    }
  })
}
