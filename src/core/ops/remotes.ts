/**
 * Named remotes (`dsv remote add origin gs://bucket/prefix`), kept in `.dsv/config.json`
 * under `remote.<name>.url`, and each branch's upstream (`branch.<name>.remote`).
 * Only the URL is stored: credentials stay with Google's Application Default Credentials.
 */
import {checkRefName} from '../refs.js'
import {parseRemoteUrl} from '../remote/transport.js'
import {DsvError} from '../../errors/index.js'
import type {Repository} from '../repository.js'

export interface RemoteInfo {
  name: string
  url: string
}

export function listRemotes(repo: Repository): RemoteInfo[] {
  return Object.entries(repo.config.remote ?? {}).map(([name, r]) => ({name, url: r.url})).sort((a, b) => a.name.localeCompare(b.name))
}

export function checkRemoteName(name: string): void {
  checkRefName(name, 'remote name')
  if (name.includes('/')) throw new DsvError('E_BAD_REF_NAME', `invalid remote name '${name}': contains "/"`, {name})
}

export async function addRemote(repo: Repository, name: string, url: string): Promise<RemoteInfo> {
  checkRemoteName(name)
  parseRemoteUrl(url, repo.root)
  return repo.locked(async () => {
    if (repo.config.remote?.[name]) throw new DsvError('E_REMOTE_EXISTS', `remote '${name}' already exists (${repo.config.remote[name].url})`, {name}, `remove it first with \`dsv remote remove ${name}\``)
    repo.updateConfig((cfg) => {
      cfg.remote = {...cfg.remote, [name]: {url}}
    })
    return {name, url}
  })
}

/** Removes a remote, its remote-tracking refs and the upstream settings that named it. */
export async function removeRemote(repo: Repository, name: string): Promise<RemoteInfo> {
  return repo.locked(async () => {
    const remote = repo.config.remote?.[name]
    if (!remote) throw unknownRemote(repo, name)
    for (const r of repo.refs.list('refs/remotes')) if (r.name.startsWith(`${name}/`)) repo.refs.update(r.ref, r.oid, null, `remote remove ${name}`)
    repo.updateConfig((cfg) => {
      delete cfg.remote![name]
      for (const [branch, b] of Object.entries(cfg.branch ?? {})) if (b.remote === name) delete cfg.branch![branch]
    })
    return {name, url: remote.url}
  })
}

function unknownRemote(repo: Repository, name: string): DsvError {
  const known = listRemotes(repo).map((r) => r.name)
  return new DsvError('E_NO_REMOTE', `no remote named '${name}'`, {name, known}, known.length ? `known remotes: ${known.join(', ')}` : 'add one with `dsv remote add origin URL`')
}

/**
 * The remote a command talks to: the one named, else the current branch's upstream,
 * else `origin`, else the only remote there is.
 */
export function resolveRemote(repo: Repository, name?: string): RemoteInfo {
  if (name) {
    const r = repo.config.remote?.[name]
    if (!r) throw unknownRemote(repo, name)
    return {name, url: r.url}
  }
  const branch = repo.currentBranch()
  const upstream = branch ? repo.config.branch?.[branch]?.remote : undefined
  const all = listRemotes(repo)
  const pick = (upstream && all.find((r) => r.name === upstream)) || all.find((r) => r.name === 'origin') || (all.length === 1 ? all[0] : undefined)
  if (!pick) {
    if (all.length === 0) throw new DsvError('E_NO_REMOTE', 'no remote is configured', {}, 'add one with `dsv remote add origin gs://BUCKET/PREFIX` (or a directory path)')
    throw new DsvError('E_NO_REMOTE', `several remotes and none chosen (${all.map((r) => r.name).join(', ')})`, {known: all.map((r) => r.name)}, 'name the remote: `dsv push NAME`')
  }
  return pick
}

/** The remote-tracking ref a branch follows, if that remote has been fetched from or pushed to. */
export function upstreamOf(repo: Repository, branch: string): {remote: string; ref: string} | null {
  const remote = repo.config.branch?.[branch]?.remote ?? (repo.config.remote?.origin ? 'origin' : undefined)
  if (!remote || !repo.config.remote?.[remote]) return null
  return {remote, ref: `refs/remotes/${remote}/${branch}`}
}
