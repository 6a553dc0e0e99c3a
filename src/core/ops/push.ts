/**
 * push: send what the remote lacks, then move its refs by compare-and-swap.
 *
 * 1. Read the remote's refs (with their versions) and decide, per ref, whether the
 *    update is a fast-forward (or forced); others are rejected before anything is sent.
 * 2. Read the remote's pack indexes; walk from the local tips through the objects the
 *    remote lacks; pack them (packs named by their SHA-256).
 * 3. Upload each pack create-only (a pack already there from an interrupted push is not
 *    sent again), then the index that lists them: that publishes them.
 * 4. Compare-and-swap each ref from the version read in step 1. If a teammate pushed in
 *    between, the swap fails, the ref is reported as rejected and nothing else changes.
 */
import {mkdtempSync, rmSync} from 'node:fs'
import {join} from 'node:path'
import {encodeRemoteIndex} from '../remote/remote-index.js'
import {buildPacks, objectsToSend} from '../remote/send-pack.js'
import {verifyObjects} from '../remote/verify-objects.js'
import {INDEX_DIR, MARKER, PACK_DIR, readMarker, REMOTE_FORMAT, RemoteObjects} from '../remote/remote-objects.js'
import {openTransport, type RefValue, type Transport} from '../remote/transport.js'
import {isAncestor, peel} from './history.js'
import {resolveRemote} from './remotes.js'
import {sha256, type Oid} from '../bytes.js'
import {DsvError} from '../../errors/index.js'
import type {ProgressFn, Repository} from '../repository.js'

export interface PushOptions {
  remote?: string
  /** branch or tag names; default: the current branch */
  refs?: string[]
  tags?: boolean
  force?: boolean
  dryRun?: boolean
  onProgress?: ProgressFn
}

export type RefUpdateStatus = 'created' | 'fast-forward' | 'forced' | 'up-to-date' | 'rejected'

export interface RefUpdate {
  ref: string
  old: Oid | null
  new: Oid
  status: RefUpdateStatus
  reason?: string
}

export interface PushResult {
  remote: string
  url: string
  dryRun: boolean
  refs: RefUpdate[]
  objects: number
  bytes: number
  packs: number
  /** packs found already uploaded by an earlier, interrupted push */
  packsReused: number
  uploads: number
}

export async function push(repo: Repository, opts: PushOptions = {}): Promise<PushResult> {
  const remote = resolveRemote(repo, opts.remote)
  const transport = await openTransport(remote.url, repo.root)
  try {
    return await pushTo(repo, remote.name, transport, opts)
  } finally {
    await transport.close?.()
  }
}

function localRefs(repo: Repository, opts: PushOptions): Array<{ref: string; oid: Oid}> {
  const out = new Map<string, Oid>()
  const names = opts.refs?.length ? opts.refs : opts.tags ? [] : [currentBranchOrFail(repo)]
  for (const name of names) {
    const full = name.startsWith('refs/') ? name : repo.refs.read(`refs/heads/${name}`) ? `refs/heads/${name}` : `refs/tags/${name}`
    const oid = repo.refs.read(full)
    if (!oid) throw new DsvError('E_BAD_REVISION', `no local branch or tag named '${name}'`, {rev: name}, 'push names branches and tags (see `dsv log --oneline`, `dsv tag`)')
    out.set(full, oid)
  }
  if (opts.tags) for (const t of repo.refs.list('refs/tags')) out.set(t.ref, t.oid)
  return [...out].map(([ref, oid]) => ({ref, oid}))
}

function currentBranchOrFail(repo: Repository): string {
  const branch = repo.currentBranch()
  if (!branch) throw new DsvError('E_USAGE', 'HEAD is detached: name the branch or tag to push', {}, 'e.g. `dsv push origin main`')
  if (!repo.refs.read(`refs/heads/${branch}`)) throw new DsvError('E_BAD_REVISION', `branch '${branch}' has no commits yet`, {rev: branch}, 'commit first')
  return branch
}

async function decide(repo: Repository, ref: string, local: Oid, current: RefValue | undefined, force: boolean): Promise<RefUpdate> {
  const old = current?.value ?? null
  if (old === local) return {ref, old, new: local, status: 'up-to-date'}
  if (!old) return {ref, old, new: local, status: 'created'}
  const isTag = ref.startsWith('refs/tags/')
  if (!isTag && (await isAncestor(repo, old, await peel(repo, local).catch(() => local)))) return {ref, old, new: local, status: 'fast-forward'}
  if (force) return {ref, old, new: local, status: 'forced'}
  if (isTag) return {ref, old, new: local, status: 'rejected', reason: 'the tag already exists on the remote (pass --force to move it)'}
  return {ref, old, new: local, status: 'rejected', reason: 'non-fast-forward: the remote has commits you do not have (run `dsv pull`, then push again)'}
}

async function pushTo(repo: Repository, remoteName: string, transport: Transport, opts: PushOptions): Promise<PushResult> {
  const wanted = localRefs(repo, opts)
  const remoteRefs = await transport.listRefs()
  const updates = await Promise.all(wanted.map((w) => decide(repo, w.ref, w.oid, remoteRefs.get(w.ref), opts.force ?? false)))
  const toSend = updates.filter((u) => u.status !== 'up-to-date' && u.status !== 'rejected')
  const result: PushResult = {remote: remoteName, url: transport.url, dryRun: opts.dryRun ?? false, refs: updates, objects: 0, bytes: 0, packs: 0, packsReused: 0, uploads: 0}

  if (toSend.length > 0) {
    const marker = await readMarker(transport)
    const objects = await RemoteObjects.load(transport, join(repo.dsvDir, 'remote-cache'))
    const send = await objectsToSend(repo, toSend.map((u) => u.new), objects, opts.onProgress)
    result.objects = send.length
    if (!opts.dryRun) {
      if (!marker && (await transport.create(MARKER, Buffer.from(`${JSON.stringify({format: REMOTE_FORMAT})}\n`))) === 'created') result.uploads++
      if (send.length > 0) await sendPacks(repo, transport, send, objects, result, opts.onProgress)
      for (const u of toSend) {
        if (await transport.compareAndSwapRef(u.ref, remoteRefs.get(u.ref) ?? null, u.new)) {
          result.uploads++
          trackRemote(repo, remoteName, u.ref, u.new)
        } else if ((await transport.readRef(u.ref))?.value === u.new) {
          // a teammate pushed this very commit first: nothing left to do
          u.status = 'up-to-date'
          trackRemote(repo, remoteName, u.ref, u.new)
        } else {
          u.status = 'rejected'
          u.reason = 'someone else pushed to it meanwhile (run `dsv pull`, then push again)'
        }
      }
    }
  }
  for (const u of updates) if (u.status === 'up-to-date') trackRemote(repo, remoteName, u.ref, u.new)
  if (!opts.dryRun) setUpstream(repo, remoteName, updates)
  const rejected = updates.filter((u) => u.status === 'rejected')
  if (rejected.length > 0)
    throw new DsvError('E_NON_FAST_FORWARD', `push to ${transport.url} rejected for ${rejected.map((u) => shortRef(u.ref)).join(', ')}: ${rejected[0].reason}`, {...result},
      rejected[0].ref.startsWith('refs/tags/') ? 'pass --force to move the tag on the remote' : 'run `dsv pull` to bring in the remote commits, then push again')
  return result
}

async function sendPacks(repo: Repository, transport: Transport, send: Awaited<ReturnType<typeof objectsToSend>>, objects: RemoteObjects, result: PushResult, onProgress?: ProgressFn): Promise<void> {
  const dir = mkdtempSync(join(repo.dsvDir, 'push-'))
  // every object is re-hashed on worker threads while the packs are made and sent;
  // the index that publishes them goes up only if all matched
  let checked = 0
  const verified = verifyObjects(repo, send, (n) => (checked += n))
  verified.catch(() => {}) // awaited below; a failure must not surface as unhandled meanwhile
  try {
    const packs = await buildPacks(repo, send, objects, dir, onProgress)
    const total = packs.reduce((n, p) => n + p.size, 0)
    let sent = 0
    for (const pack of packs) {
      const name = `${PACK_DIR}${pack.sha}.pack`
      // an interrupted push with the same objects made the same pack: it is there already
      if (await transport.exists(name)) {
        result.packsReused++
        sent += pack.size
        continue
      }
      const outcome = await transport.create(name, {path: pack.path, size: pack.size}, (n) => {
        sent += n
        onProgress?.({phase: 'sending', loaded: sent, total, unit: 'bytes'})
      })
      if (outcome === 'created') {
        result.uploads++
        result.bytes += pack.size
      } else result.packsReused++
    }
    if (checked < send.length) onProgress?.({phase: 'checking objects', loaded: checked, total: send.length})
    await verified
    const index = encodeRemoteIndex({packs: packs.map((p) => p.index)})
    if ((await transport.create(`${INDEX_DIR}${sha256(index).toString('hex')}.idx`, index)) === 'created') result.uploads++
    result.bytes += index.length
    result.packs = packs.length
  } finally {
    await verified.catch(() => {}) // no worker outlives the push
    rmSync(dir, {recursive: true, force: true})
  }
}

function shortRef(ref: string): string {
  return ref.replace(/^refs\/(heads|tags)\//, '')
}

/** Remembers where the remote's branch now is (refs/remotes/<remote>/<branch>). */
export function trackRemote(repo: Repository, remote: string, ref: string, oid: Oid): void {
  if (!ref.startsWith('refs/heads/')) return
  const tracking = `refs/remotes/${remote}/${ref.slice('refs/heads/'.length)}`
  if (repo.refs.read(tracking) !== oid) repo.refs.update(tracking, undefined, oid, `push: ${remote}`)
}

/** The first push of a branch makes that remote its upstream. */
function setUpstream(repo: Repository, remote: string, updates: RefUpdate[]): void {
  const branches = updates.filter((u) => u.ref.startsWith('refs/heads/') && u.status !== 'rejected').map((u) => u.ref.slice('refs/heads/'.length))
  const unset = branches.filter((b) => !repo.config.branch?.[b])
  if (unset.length === 0) return
  repo.updateConfig((cfg) => {
    cfg.branch ??= {}
    for (const b of unset) cfg.branch[b] = {remote}
  })
}
