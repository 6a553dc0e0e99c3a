/**
 * Checkout: make the working directory exactly a committed version (files written,
 * restored and removed), then move HEAD. `--to DIR` writes a version elsewhere and
 * leaves the repository alone. Rollback commits a past version on top of HEAD.
 */
import {chmodSync, existsSync, lstatSync, mkdirSync, readdirSync, realpathSync, renameSync, rmSync, statSync} from 'node:fs'
import {randomBytes} from 'node:crypto'
import {basename, dirname, isAbsolute, join, relative, resolve, sep} from 'node:path'
import {cachedView, RACY_NS, snapshot} from './snapshot.js'
import {headTree, readCommit, unreferencedCommits} from './history.js'
import {resolveRevision} from './revision.js'
import {recordCommit, type CommitResult} from './commit.js'
import {resolveAuthor} from './author.js'
import {removeFileAndEmptyDirs, writeEntries} from './materialize.js'
import {flattenTree, type FileMap} from '../tree-ops.js'
import {modeOnlyChange, sameOrBothAbsent, withExecutable} from '../file-mode.js'
import type {TreeEntry} from '../model.js'
import {loadIgnore, withoutNestedRepositories} from '../worktree.js'
import {refNameProblem} from '../refs.js'
import {DsvError, InvalidDataError} from '../../errors/index.js'
import type {StatEntry} from '../index-db.js'
import {DSV_DIR, type ProgressFn, type Repository} from '../repository.js'
import type {Oid} from '../bytes.js'

export interface CheckoutResult {
  head: Oid
  branch: string | null
  detached: boolean
  written: number
  removed: number
  /** bytes of unchanged examples copied from the files being replaced instead of read from the store */
  copiedBytes: number
  /** commits a detached HEAD left behind: on no branch or tag any more (newest first) */
  leftBehind?: Array<{id: Oid; message: string}>
  to?: string
  /** with --to --force: what the folder held that the version does not have (left as it was), sorted */
  extra?: string[]
}

/** A version's files as checkout writes and compares them (a nested repository's files left alone). */
async function versionFiles(repo: Repository, tree: Oid | null): Promise<FileMap> {
  return withoutNestedRepositories(await flattenTree(repo.store, tree))
}

/**
 * Changes the move to `target` would lose: tracked files edited or deleted since HEAD, and
 * untracked files that `target` would overwrite, unless they already hold the target's
 * content. Other untracked files are left alone.
 */
function dirtyPaths(base: FileMap, current: FileMap, target: FileMap, fileMode: boolean): string[] {
  const paths = new Set([...base.keys(), ...current.keys()])
  // without core.fileMode the disk's modes are unknown (taken from HEAD): content alone counts
  const same = fileMode ? sameOrBothAbsent : (a: TreeEntry | undefined, b: TreeEntry | undefined) => a?.oid === b?.oid
  return [...paths].filter((p) => {
    const now = current.get(p)
    // a file that already holds what the target has loses nothing (e.g. an interrupted pull, re-run)
    if (same(now, target.get(p))) return false
    if (base.has(p)) return !same(base.get(p), now) // an edit, or a change of its mode
    return target.has(p)
  }).sort()
}

/**
 * Untracked entries that writing `target` would delete although the target has no file
 * of that name: a folder of untracked files where the target has a file, an untracked
 * file (or symlink) where the target needs a folder, an untracked symlink where the target
 * has a file. Git refuses these too; only --force deletes them.
 */
function pathsInTheWay(base: FileMap, current: FileMap, skipped: string[], target: FileMap): string[] {
  const untracked = new Set([...[...current.keys()].filter((p) => !base.has(p)), ...skipped])
  if (untracked.size === 0) return []
  const written = [...target.values()].filter((e) => current.get(e.name)?.oid !== e.oid).map((e) => e.name)
  const folders = new Set<string>() // the folders the files written need
  for (const p of written) for (let i = p.indexOf('/'); i > 0; i = p.indexOf('/', i + 1)) folders.add(p.slice(0, i))
  const inTheWay = new Set<string>()
  for (const p of untracked) {
    if (target.has(p) && current.has(p)) continue // an untracked file the target overwrites: dirtyPaths' case
    if (folders.has(p) || target.has(p)) inTheWay.add(p)
    for (let i = p.indexOf('/'); i > 0; i = p.indexOf('/', i + 1)) if (target.has(p.slice(0, i))) inTheWay.add(p)
  }
  return [...inTheWay].sort()
}

/**
 * The working directory's files, refusing (unless forced) when they differ from HEAD or
 * when untracked files are in the way. Forced, nothing is read: files the stat cache
 * cannot vouch for are simply rewritten, and whatever is in the way is removed.
 */
async function currentFiles(repo: Repository, base: FileMap, target: FileMap, force: boolean | undefined, onProgress?: ProgressFn): Promise<FileMap> {
  if (force) return cachedView(repo)
  let snap
  try {
    snap = await snapshot(repo, onProgress)
  } catch (error) {
    // a file that cannot be committed as it is differs from HEAD: it is an uncommitted change
    if (error instanceof InvalidDataError) throw dirtyError([String(error.data.file)])
    throw error
  }
  const dirty = dirtyPaths(base, snap.files, target, repo.fileMode())
  const inTheWay = pathsInTheWay(base, snap.files, snap.skipped, target)
  if (dirty.length > 0) throw dirtyError([...new Set([...dirty, ...inTheWay])].sort())
  if (inTheWay.length > 0) {
    throw new DsvError('E_DIRTY_WORKTREE', `untracked files are in the way of the checkout: ${listed(inTheWay)}`, {paths: inTheWay},
      'move them elsewhere, or pass --force to let checkout delete them')
  }
  return snap.files
}

function listed(paths: string[]): string {
  return paths.slice(0, 10).join(', ') + (paths.length > 10 ? `, and ${paths.length - 10} more` : '')
}

function dirtyError(paths: string[]): DsvError {
  return new DsvError('E_DIRTY_WORKTREE', `uncommitted changes would be lost: ${listed(paths)}`, {paths}, 'commit them first, or pass --force to discard them')
}

/**
 * Rewrites the working directory from `current` to `target`; returns counts. Forced,
 * `current` holds only the files the stat cache vouches for, so a tracked file the target
 * lacks is removed whenever it is on disk (touched, edited or copied files included).
 */
async function syncWorktree(repo: Repository, current: FileMap, tracked: FileMap, target: FileMap, force: boolean, onProgress?: ProgressFn): Promise<{written: number; removed: number; copiedBytes: number}> {
  const toWrite = [...target.values()].filter((e) => current.get(e.name)?.oid !== e.oid)
  // the same content, another mode: only chmod (where the file system keeps the bit)
  const toChmod = repo.fileMode() ? [...target.values()].filter((e) => modeOnlyChange(current.get(e.name), e)) : []
  const onDisk = (p: string) => current.has(p) || (force && removableFile(repo.root, p))
  const toRemove = [...tracked.keys()].filter((p) => !target.has(p) && onDisk(p))
  let done = 0
  const total = toWrite.length + toRemove.length
  for (const p of toRemove) {
    removeFileAndEmptyDirs(repo.root, p)
    onProgress?.({phase: 'updating files', loaded: ++done, total, unit: 'files'})
  }
  const stats: Array<[string, StatEntry | null]> = toRemove.map((p) => [p, null])
  const written: StatEntry[] = []
  const files = toWrite.map((e) => {
    const now = current.get(e.name)
    return {entry: e, abs: join(repo.root, e.name), current: e.type === 'table' && now?.type === 'table' ? now.oid : undefined}
  })
  for (const e of toChmod) {
    const abs = join(repo.root, e.name)
    try {
      chmodSync(abs, withExecutable(statSync(abs).mode, e.executable === true))
    } catch (error) {
      // a file of another owner in a folder this user may write: rewritten instead, as git does
      if ((error as NodeJS.ErrnoException).code !== 'EPERM') throw error
      files.push({entry: e, abs, current: undefined})
    }
  }
  const {copiedBytes} = await writeEntries(repo.store, repo.root, files, (p) => onProgress?.({...p, loaded: done + p.loaded, total}))
  for (const e of [...toWrite, ...toChmod]) {
    const st = statSync(join(repo.root, e.name), {bigint: true})
    const entry: StatEntry = {size: Number(st.size), mtimeNs: String(st.mtimeNs), ctimeNs: String(st.ctimeNs), ino: Number(st.ino), recordedNs: '0', type: e.type as 'table' | 'file', oid: e.oid, examples: e.examples}
    written.push(entry)
    stats.push([e.name, entry])
  }
  // recorded once the racy window has passed, so the next status trusts every file written
  if (written.length > 0) await new Promise((resolve) => setTimeout(resolve, Number(RACY_NS / 1_000_000n) + 5))
  const recordedNs = String(BigInt(Date.now()) * 1_000_000n)
  for (const e of written) e.recordedNs = recordedNs
  await repo.db.putStats(stats)
  return {written: toWrite.length + toChmod.length, removed: toRemove.length, copiedBytes}
}

/**
 * Whether `rel` is a file or symlink reached through real folders of the working tree: a
 * folder now at a tracked file's path holds untracked data, and a symlinked folder on the
 * way leads outside the tree (status never looks behind either).
 */
function removableFile(root: string, rel: string): boolean {
  const parts = rel.split('/')
  let at = root
  for (let i = 0; i < parts.length; i++) {
    at = join(at, parts[i])
    const st = lstatSync(at, {throwIfNoEntry: false})
    if (!st) return false
    if (i < parts.length - 1 ? !st.isDirectory() : st.isDirectory()) return false
  }
  return true
}

export async function checkout(repo: Repository, rev: string, opts: {force?: boolean; to?: string; onProgress?: ProgressFn} = {}): Promise<CheckoutResult> {
  // as in git, `checkout NAME` means the branch NAME even when a tag has that name too
  const branchName = refNameProblem(rev) === null && repo.refs.read(`refs/heads/${rev}`) !== null
  // `checkout HEAD` (or `@`) stays on the current branch, as in git (HEAD~0 detaches)
  const onBranch = (rev === 'HEAD' || rev === '@') && repo.currentBranch() !== null && repo.headCommit() !== null
  const target = await resolveRevision(repo, branchName ? `refs/heads/${rev}` : onBranch ? `refs/heads/${repo.currentBranch()}` : rev)
  const targetFiles = await versionFiles(repo, (await readCommit(repo, target.commit)).tree)
  if (opts.to) return checkoutTo(repo, target.commit, targetFiles, resolve(opts.to), opts)
  return repo.locked(async () => {
    const tracked = await versionFiles(repo, await headTree(repo))
    const current = await currentFiles(repo, tracked, targetFiles, opts.force, opts.onProgress)
    const head = target.branch
      ? repo.refs.prepareHead({symbolic: true, ref: `refs/heads/${target.branch}`}, `checkout: moving to ${target.branch}`)
      : repo.refs.prepareHead({symbolic: false, oid: target.commit}, `checkout: moving to ${rev}`)
    let counts
    try {
      counts = await syncWorktree(repo, current, tracked, targetFiles, opts.force === true, opts.onProgress)
    } catch (error) {
      head.abort()
      throw error
    }
    const was = repo.refs.readHead()
    head.commit()
    const leftBehind = was.symbolic || was.oid === target.commit ? [] : await unreferencedCommits(repo, was.oid, [target.commit])
    return {head: target.commit, branch: target.branch ?? null, detached: !target.branch, ...counts, ...(leftBehind.length ? {leftBehind} : {})}
  })
}

async function checkoutTo(repo: Repository, commit: Oid, files: FileMap, dir: string, opts: {force?: boolean; onProgress?: ProgressFn}): Promise<CheckoutResult> {
  assertOutsideDataset(repo, dir)
  if (existsSync(dir) && !statSync(dir).isDirectory())
    throw new DsvError('E_USAGE', `--to ${dir} is a file, not a folder`, {path: dir}, 'name a new or empty folder')
  if (existsSync(dir) && readdirSync(dir).length > 0 && !opts.force)
    throw new DsvError('E_DIRTY_WORKTREE', `${dir} is not empty`, {path: dir}, 'choose an empty or new directory, or pass --force to write over it')
  const writeInto = (root: string) => writeEntries(repo.store, root, [...files.values()].map((e) => ({entry: e, abs: join(root, e.name)})), opts.onProgress)
  if (lstatSync(dir, {throwIfNoEntry: false})) await writeInto(dir)
  else {
    // a new DIR is written beside it and renamed into place when complete: a failed or
    // killed checkout leaves no DIR that looks complete (an existing DIR keeps its owner,
    // mode and mount, so it is written in place)
    const parent = dirname(resolve(dir))
    mkdirSync(parent, {recursive: true})
    const staging = join(parent, `.${basename(resolve(dir))}.dsv-${randomBytes(4).toString('hex')}.tmp`)
    const interrupted = (signal: NodeJS.Signals) => {
      rmSync(staging, {recursive: true, force: true})
      process.exit(signal === 'SIGINT' ? 130 : 143)
    }
    process.once('SIGINT', interrupted).once('SIGTERM', interrupted)
    try {
      await writeInto(staging)
      renameSync(staging, dir)
    } catch (error) {
      rmSync(staging, {recursive: true, force: true})
      throw error
    } finally {
      process.off('SIGINT', interrupted).off('SIGTERM', interrupted)
    }
  }
  const extra = opts.force ? pathsBelow(dir).filter((p) => !files.has(p)) : []
  return {head: commit, branch: repo.currentBranch(), detached: repo.head().symbolic === false, written: files.size, removed: 0, copiedBytes: 0, to: dir, ...(opts.force ? {extra} : {})}
}

/** Every file and symlink below `dir` (symlinks not followed), as `/`-separated relative paths, sorted. */
function pathsBelow(dir: string): string[] {
  const out: string[] = []
  const folders = ['']
  while (folders.length > 0) {
    const rel = folders.pop()!
    for (const d of readdirSync(join(dir, rel), {withFileTypes: true})) {
      const p = rel ? `${rel}/${d.name}` : d.name
      if (d.isDirectory()) folders.push(p)
      else out.push(p)
    }
  }
  return out.sort()
}

/**
 * `--to` must not write into the store, nor into the working tree where the copy would be
 * versioned with the next commit (a folder .dsvignore ignores is fine).
 */
function assertOutsideDataset(repo: Repository, dir: string): void {
  const inside = relative(realPath(repo.root), realPath(dir))
  if (inside === '..' || inside.startsWith(`..${sep}`) || isAbsolute(inside)) return
  const parts = inside.split(sep)
  if (inside === '' || parts[0] === DSV_DIR)
    throw new DsvError('E_USAGE', `--to ${dir} is ${inside === '' ? 'the working directory itself' : 'inside the store (.dsv)'}`, {path: dir}, 'name a folder outside the dataset')
  if (!loadIgnore(repo.root).ignores(`${parts.join('/')}/`))
    throw new DsvError('E_USAGE', `--to ${dir} is inside the working directory: the next commit would version the copy`, {path: dir}, 'name a folder outside the dataset, or one that .dsvignore ignores')
}

/** A path with its deepest existing folder resolved through symlinks (the rest may not exist yet). */
function realPath(p: string): string {
  const rest: string[] = []
  let head = resolve(p)
  while (!existsSync(head) && dirname(head) !== head) {
    rest.unshift(basename(head))
    head = dirname(head)
  }
  return join(realpathSync(head), ...rest)
}

export async function rollback(repo: Repository, rev: string, opts: {message?: string; author?: string; force?: boolean; onProgress?: ProgressFn} = {}): Promise<CommitResult & {target: Oid}> {
  const target = await resolveRevision(repo, rev)
  return repo.locked(async () => {
    const author = await resolveAuthor(repo, opts.author)
    const tree = (await readCommit(repo, target.commit)).tree
    if (tree === (await headTree(repo))) throw new DsvError('E_NOTHING_TO_COMMIT', `HEAD already has the content of ${rev}`, {rev})
    const targetFiles = await versionFiles(repo, tree)
    const tracked = await versionFiles(repo, await headTree(repo))
    const current = await currentFiles(repo, tracked, targetFiles, opts.force, opts.onProgress)
    await syncWorktree(repo, current, tracked, targetFiles, opts.force === true, opts.onProgress)
    const message = opts.message ?? `Rollback to ${rev} (${target.commit.slice(0, 12)})`
    return {...(await recordCommit(repo, tree, message, author, false, opts.onProgress)), target: target.commit}
  })
}

/**
 * Moves `branch` (checked out) from `from` to `to` and makes the working directory match,
 * refusing (unless forced) when uncommitted changes would be lost. Used by pull.
 */
export async function fastForward(repo: Repository, branch: string, from: Oid | null, to: Oid, opts: {force?: boolean; onProgress?: ProgressFn; reason?: string} = {}): Promise<{written: number; removed: number}> {
  return repo.locked(async () => {
    const targetFiles = await versionFiles(repo, (await readCommit(repo, to)).tree)
    const tracked = await versionFiles(repo, await headTree(repo))
    const current = await currentFiles(repo, tracked, targetFiles, opts.force, opts.onProgress)
    const counts = await syncWorktree(repo, current, tracked, targetFiles, opts.force === true, opts.onProgress)
    repo.refs.update(`refs/heads/${branch}`, from, to, opts.reason ?? `pull: fast-forward to ${to.slice(0, 12)}`)
    return counts
  })
}
