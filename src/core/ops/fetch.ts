/**
 * fetch: bring in the objects of the remote's branches and tags that the local store
 * lacks (receive-pack.ts verifies every one before it is stored), then move the
 * remote-tracking refs `refs/remotes/<remote>/<branch>` and add the remote's new tags.
 * pull: fetch, then bring the current branch and its working directory up to the remote
 * branch: a fast-forward, or a file-level merge commit when both sides have new commits.
 */
import {join} from 'node:path'
import {receiveObjects} from '../remote/receive-pack.js'
import {readMarker, RemoteObjects} from '../remote/remote-objects.js'
import {openTransport, type Transport} from '../remote/transport.js'
import {aheadBehind, isAncestor} from './history.js'
import {fastForward} from './checkout.js'
import {mergeBase, mergeFiles, writeMergeCommit} from './merge.js'
import {resolveAuthor} from './author.js'
import {resolveRemote, upstreamOf} from './remotes.js'
import {DsvError} from '../../errors/index.js'
import type {Oid} from '../bytes.js'
import type {ProgressFn, Repository} from '../repository.js'

export interface FetchedRef {
  /** the remote's ref (refs/heads/main, refs/tags/v1) */
  remoteRef: string
  /** where it was stored locally (refs/remotes/origin/main, refs/tags/v1) */
  localRef: string
  old: Oid | null
  new: Oid
  status: 'new' | 'updated' | 'forced' | 'up-to-date' | 'kept-local'
}

export interface FetchResult {
  remote: string
  url: string
  refs: FetchedRef[]
  objects: number
  packs: number
  bytes: number
}

export async function fetch(repo: Repository, opts: {remote?: string; onProgress?: ProgressFn} = {}): Promise<FetchResult> {
  const remote = resolveRemote(repo, opts.remote)
  const transport = await openTransport(remote.url, repo.root)
  try {
    return await fetchFrom(repo, remote.name, transport, opts.onProgress)
  } finally {
    await transport.close?.()
  }
}

export async function fetchFrom(repo: Repository, remoteName: string, transport: Transport, onProgress?: ProgressFn): Promise<FetchResult> {
  return repo.locked(async () => {
    const marker = await readMarker(transport)
    // refs first, indexes second: a ref is only ever moved after its packs' index is published
    const refs = await transport.listRefs()
    if (!marker && refs.size === 0) await assertReachable(transport)
    const wanted = [...refs].filter(([ref]) => ref.startsWith('refs/heads/') || ref.startsWith('refs/tags/'))
    const result: FetchResult = {remote: remoteName, url: transport.url, refs: [], objects: 0, packs: 0, bytes: 0}
    if (wanted.length > 0) {
      const objects = await RemoteObjects.load(transport, join(repo.dsvDir, 'remote-cache'))
      const received = await receiveObjects(repo, transport, objects, wanted.map(([, v]) => v.value), onProgress)
      Object.assign(result, received)
    }
    for (const [ref, {value}] of wanted) {
      const isTag = ref.startsWith('refs/tags/')
      const localRef = isTag ? ref : `refs/remotes/${remoteName}/${ref.slice('refs/heads/'.length)}`
      const old = repo.refs.read(localRef)
      let status: FetchedRef['status']
      if (old === value) status = 'up-to-date'
      else if (isTag && old) status = 'kept-local' // a tag is never moved by fetch, as in git
      else {
        status = !old ? 'new' : (await isAncestor(repo, old, value)) ? 'updated' : 'forced'
        repo.refs.update(localRef, old, value, `fetch: ${remoteName}`)
      }
      result.refs.push({remoteRef: ref, localRef, old, new: value, status})
    }
    return result
  })
}

/** An empty remote is fine (nothing pushed yet); a path or bucket that is not there is not. */
async function assertReachable(transport: Transport): Promise<void> {
  const {parseRemoteUrl} = await import('../remote/transport.js')
  const parsed = parseRemoteUrl(transport.url)
  if (parsed.kind === 'path') {
    const {existsSync} = await import('node:fs')
    if (!existsSync(parsed.path)) throw new DsvError('E_REMOTE_NOT_FOUND', `remote directory ${parsed.path} does not exist`, {url: transport.url}, 'check the URL (`dsv remote -v`)')
  }
}

export interface PullResult extends FetchResult {
  branch: string
  from: Oid | null
  to: Oid | null
  status: 'up-to-date' | 'fast-forward' | 'merged' | 'ahead' | 'reset'
  ahead: number
  written: number
  removed: number
}

export interface PullOptions {
  remote?: string
  branch?: string
  /** discard uncommitted changes in the way */
  force?: boolean
  /** on a diverged history, take the remote's commits and leave the local ones (still in the reflog) */
  reset?: boolean
  onProgress?: ProgressFn
}

export async function pull(repo: Repository, opts: PullOptions = {}): Promise<PullResult> {
  const branch = repo.currentBranch()
  if (!branch) throw new DsvError('E_USAGE', 'HEAD is detached: pull updates a branch', {}, 'check out a branch first (`dsv checkout main`)')
  const remoteName = opts.remote ?? upstreamOf(repo, branch)?.remote ?? resolveRemote(repo).name
  const fetched = await fetch(repo, {remote: remoteName, onProgress: opts.onProgress})
  const remoteBranch = opts.branch ?? branch
  const tracking = `refs/remotes/${remoteName}/${remoteBranch}`
  const theirs = repo.refs.read(tracking)
  if (!theirs) throw new DsvError('E_BAD_REVISION', `${remoteName} has no branch '${remoteBranch}'`, {rev: tracking}, 'see the remote branches with `dsv fetch --json`')
  const ours = repo.refs.read(`refs/heads/${branch}`)
  const base = {...fetched, branch, from: ours, to: theirs, ahead: 0, written: 0, removed: 0}
  if (ours === theirs) return {...base, status: 'up-to-date'}
  if (ours && (await isAncestor(repo, theirs, ours))) return {...base, to: ours, status: 'ahead', ahead: (await aheadBehind(repo, ours, theirs)).ahead}
  if (ours && !(await isAncestor(repo, ours, theirs))) {
    const {ahead, behind} = await aheadBehind(repo, ours, theirs)
    if (opts.reset) {
      const moved = await fastForward(repo, branch, ours, theirs, {force: opts.force, onProgress: opts.onProgress, reason: `pull --reset: ${ours.slice(0, 12)} -> ${theirs.slice(0, 12)}`})
      return {...base, status: 'reset', ahead, ...moved}
    }
    // both sides moved on: merge them file by file
    const merged = await mergeFiles(repo, await mergeBase(repo, ours, theirs), ours, theirs)
    if (merged.conflicts.length > 0) {
      const shown = merged.conflicts.slice(0, 10).join(', ') + (merged.conflicts.length > 10 ? `, and ${merged.conflicts.length - 10} more` : '')
      throw new DsvError('E_MERGE_CONFLICT', `${branch} and ${remoteName}/${remoteBranch} have diverged (${ahead} local and ${behind} remote commits) and both changed ${shown}`, {branch, ours, theirs, ahead, behind, conflicts: merged.conflicts},
        `dsv merges files changed on one side only; merging edits to the same file is not built yet. Keep your version under a name (\`dsv tag my-work\`), run \`dsv pull --reset\` to take the remote's commits, re-apply your edits (\`dsv diff ${remoteName}/${remoteBranch} my-work\` shows them), commit and push`)
    }
    const author = await resolveAuthor(repo)
    const merge = await repo.locked(() => writeMergeCommit(repo, ours, theirs, merged.files, `Merge ${remoteName}/${remoteBranch} into ${branch}`, author))
    const moved = await fastForward(repo, branch, ours, merge.id, {force: opts.force, onProgress: opts.onProgress, reason: `pull: merge ${remoteName}/${remoteBranch}`})
    return {...base, to: merge.id, status: 'merged', ahead, ...moved}
  }
  const moved = await fastForward(repo, branch, ours, theirs, {force: opts.force, onProgress: opts.onProgress})
  return {...base, status: 'fast-forward', ...moved}
}
