/**
 * clone: a new working directory from a remote: init, `origin` = URL, fetch, then
 * check out the remote's `main` (or its only branch, or the one asked for). A clone
 * that fails leaves nothing behind: the directory is removed if clone made it, emptied
 * if it was an empty directory already.
 */
import {existsSync, readdirSync, rmSync} from 'node:fs'
import {basename, join, resolve} from 'node:path'
import {Repository} from '../repository.js'
import {openTransport, parseRemoteUrl} from '../remote/transport.js'
import {addRemote} from './remotes.js'
import {fetchFrom, type FetchResult} from './fetch.js'
import {DsvError} from '../../errors/index.js'
import type {Oid} from '../bytes.js'
import type {ProgressFn} from '../repository.js'

export interface CloneResult extends FetchResult {
  path: string
  branch: string
  head: Oid
  written: number
}

/** The folder a clone goes to by default: the last part of the URL, as git does. */
export function defaultCloneDir(url: string): string {
  const parsed = parseRemoteUrl(url)
  const last = parsed.kind === 'gs' ? (parsed.prefix.split('/').pop() || parsed.bucket) : basename(parsed.path.replace(/\/+$/, ''))
  return last.replace(/\.dsv$/, '') || 'dataset'
}

export async function clone(url: string, dir?: string, opts: {branch?: string; onProgress?: ProgressFn; cwd?: string} = {}): Promise<CloneResult> {
  const cwd = opts.cwd ?? process.cwd()
  parseRemoteUrl(url, cwd)
  const target = resolve(cwd, dir ?? defaultCloneDir(url))
  const existed = existsSync(target)
  if (existed && readdirSync(target).length > 0)
    throw new DsvError('E_OUTPUT_EXISTS', `${target} already exists and is not empty`, {path: target}, 'clone into a new or empty directory')
  // a relative path remote is kept as given, relative to where clone ran: store it absolute
  const parsed = parseRemoteUrl(url, cwd)
  const remoteUrl = parsed.kind === 'path' ? parsed.path : url
  let repo: Repository | undefined
  try {
    await Repository.init(target)
    repo = await Repository.open(target)
    await addRemote(repo, 'origin', remoteUrl)
    const transport = await openTransport(remoteUrl, target)
    let fetched: FetchResult
    try {
      fetched = await fetchFrom(repo, 'origin', transport, opts.onProgress)
    } finally {
      await transport.close?.()
    }
    const branches = fetched.refs.filter((r) => r.remoteRef.startsWith('refs/heads/')).map((r) => r.remoteRef.slice('refs/heads/'.length))
    if (branches.length === 0) throw new DsvError('E_REMOTE_EMPTY', `${url} has no branches: nothing to clone`, {url}, 'push to it first (`dsv remote add origin URL && dsv push`)')
    const branch = opts.branch ?? (branches.includes('main') ? 'main' : branches[0])
    if (!branches.includes(branch)) throw new DsvError('E_BAD_REVISION', `${url} has no branch '${branch}'`, {rev: branch, branches})
    const head = repo.refs.read(`refs/remotes/origin/${branch}`)!
    repo.refs.update(`refs/heads/${branch}`, null, head, `clone: from ${url}`)
    repo.refs.setHead({symbolic: true, ref: `refs/heads/${branch}`}, `clone: ${branch}`)
    repo.updateConfig((cfg) => {
      cfg.branch = {...cfg.branch, [branch]: {remote: 'origin'}}
    })
    const checkedOut = await repo.checkout(branch, {force: true, onProgress: opts.onProgress})
    return {...fetched, path: target, branch, head, written: checkedOut.written}
  } catch (error) {
    await repo?.close().catch(() => {})
    repo = undefined
    if (existed) for (const name of readdirSync(target)) rmSync(join(target, name), {recursive: true, force: true})
    else rmSync(target, {recursive: true, force: true})
    throw error
  } finally {
    await repo?.close()
  }
}
