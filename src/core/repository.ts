/**
 * A dsv repository: a working directory with a `.dsv/` store. This class is the public
 * API the CLI calls; it owns the store, the refs and the lock, and never prints
 * (progress leaves through `onProgress`).
 */
import {existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync} from 'node:fs'
import {dirname, join, resolve} from 'node:path'
import {randomBytes} from 'node:crypto'
import {IndexDb} from './index-db.js'
import {ObjectStore} from './object-store.js'
import {DEFAULT_COMPRESSION, MAX_COMPRESSION} from './pack.js'
import {Refs, checkRefName, type Head} from './refs.js'
import {RepoLock} from './lock-file.js'
import {writeFileAtomic} from './atomic-file.js'
import {DsvError} from '../errors/index.js'
import {personProblem} from './ops/author.js'
import type {Oid} from './bytes.js'
import {checkMessage, commit, type CommitOptions, type CommitResult} from './ops/commit.js'
import {status, type StatusResult} from './ops/status.js'
import {checkout, rollback, type CheckoutResult} from './ops/checkout.js'
import {walkLog, readCommit, decorations, toLogEntry, type LogEntry} from './ops/history.js'
import {resolveRevision, type ResolvedRev} from './ops/revision.js'
import {annotatedTag, createTag, deleteTag, listTags, type TagDetails, type TagInfo} from './ops/tags.js'
import {fsck, type FsckResult} from './ops/fsck.js'
import {reindex, type ReindexResult} from './ops/reindex.js'
import type {QualityComparison, QualityOptions, QualityResult} from './ops/quality.js'
import type {ExportOptions, ExportResult} from './ops/export.js'
import {datasetDiff, type DatasetDiff, type DatasetDiffOptions, type DiffSide} from './ops/dataset-diff.js'
import {flattenTree} from './tree-ops.js'
import type {RemoteInfo} from './ops/remotes.js'
import type {PushOptions, PushResult} from './ops/push.js'
import type {FetchResult, PullOptions, PullResult} from './ops/fetch.js'
import type {CloneResult} from './ops/clone.js'
import type {TreeEntry} from './model.js'
import {probeFileMode} from './file-mode.js'

/** 2: pack blocks may be zstd. Format 1 stores (brotli blocks only) open and are upgraded in place. */
export const FORMAT_VERSION = 2
const UPGRADABLE_FORMATS = [1]
export const DSV_DIR = '.dsv'
/** config sections keyed by a file pattern, whose values are field lists */
const PATTERN_SECTIONS = ['keys', 'labels']

export interface RepoConfig {
  user?: {name?: string; email?: string}
  /** fileMode: whether the working directory's executable bits count (see file-mode.ts; unset: found out by trying) */
  core?: {compression?: number; fileMode?: boolean}
  /** example keys per file pattern (gitignore syntax): "golden/*.jsonl": "id" */
  keys?: Record<string, string>
  /** label fields per file pattern, for the label summary of `dsv diff`: "*.jsonl": "expected_output.tier" */
  labels?: Record<string, string>
  /** remotes by name (dsv remote add) */
  remote?: Record<string, {url: string}>
  /** each branch's upstream remote (set by clone and the first push) */
  branch?: Record<string, {remote: string}>
}

export interface Progress {
  phase: string
  loaded: number
  total?: number
  unit?: 'files' | 'bytes'
}

export type ProgressFn = (p: Progress) => void

/**
 * Walks up from `start` to the first folder that holds a `.dsv` folder (a store, or one
 * `open` refuses as not being one: a command never skips it for a store further up).
 */
export function findRoot(start: string): string | null {
  let dir = resolve(start)
  for (;;) {
    if (isFolder(join(dir, DSV_DIR))) return dir
    const up = dirname(dir)
    if (up === dir) return null
    dir = up
  }
}

export class Repository {
  readonly dsvDir: string
  readonly refs: Refs
  private lock: RepoLock | null = null

  private constructor(readonly root: string, readonly db: IndexDb, readonly store: ObjectStore, public config: RepoConfig) {
    this.dsvDir = join(root, DSV_DIR)
    this.refs = new Refs(this.dsvDir)
  }

  /** Creates `.dsv/` atomically: a half-made store is never left behind. */
  static async init(dir = '.'): Promise<{path: string; formatVersion: number}> {
    const root = resolve(dir)
    const target = join(root, DSV_DIR)
    // an empty .dsv folder is taken as absent (the rename below replaces it); anything else is refused
    if (existsSync(target) && !(isFolder(target) && readdirSync(target).length === 0)) {
      if (existsSync(join(target, 'format'))) throw new DsvError('E_ALREADY_INITIALISED', `${root} already has a dsv repository`, {path: root})
      throw notARepo(target)
    }
    for (let d = root; ; d = dirname(d)) {
      if (existsSync(d)) {
        if (!isFolder(d)) throw new DsvError('E_USAGE', `cannot initialise ${root}: ${d} is a file, not a folder`, {path: root}, 'name a new or existing folder')
        break
      }
      if (dirname(d) === d) break
    }
    mkdirSync(root, {recursive: true})
    const tmp = join(root, `${DSV_DIR}.init-${randomBytes(4).toString('hex')}`)
    try {
      for (const sub of ['packs', 'refs/heads', 'refs/tags', 'logs']) mkdirSync(join(tmp, sub), {recursive: true})
      writeFileSync(join(tmp, 'HEAD'), 'ref: refs/heads/main\n')
      // as git records core.filemode: where the file system cannot keep the executable bit
      writeFileSync(join(tmp, 'config.json'), probeFileMode(tmp) === false ? `${JSON.stringify({core: {fileMode: false}}, null, 2)}\n` : '{}\n')
      const db = await IndexDb.open(join(tmp, 'index'), undefined, true)
      await db.close()
      writeFileSync(join(tmp, 'format'), `${JSON.stringify({formatVersion: FORMAT_VERSION})}\n`)
      renameSync(tmp, target)
    } catch (error) {
      rmSync(tmp, {recursive: true, force: true})
      throw error
    }
    return {path: root, formatVersion: FORMAT_VERSION}
  }

  static async open(start = process.cwd()): Promise<Repository> {
    const {root, dsvDir} = Repository.storeOf(start)
    const config = readConfig(dsvDir)
    const db = await IndexDb.open(join(dsvDir, 'index'))
    return new Repository(root, db, new ObjectStore(dsvDir, db, config.core?.compression ?? DEFAULT_COMPRESSION), config)
  }

  /** Rebuilds `.dsv/index` from the packs (the repair for a damaged or lost index); opens nothing else. */
  static async reindex(start = process.cwd()): Promise<ReindexResult> {
    return reindex(Repository.storeOf(start).dsvDir)
  }

  /** The repository around `start` and its store, whose format this dsv understands (upgraded when it can be). */
  private static storeOf(start: string): {root: string; dsvDir: string} {
    const root = findRoot(start)
    if (!root) {
      const here = join(resolve(start), DSV_DIR)
      if (existsSync(here)) throw notARepo(here)
      throw new DsvError('E_NOT_A_REPO', `not a dsv repository (no ${DSV_DIR}/ in ${resolve(start)} or any parent)`, {path: resolve(start)}, 'run `dsv init` first')
    }
    const dsvDir = join(root, DSV_DIR)
    if (!existsSync(join(dsvDir, 'format'))) throw notARepo(dsvDir)
    let version: unknown
    try {
      version = JSON.parse(readFileSync(join(dsvDir, 'format'), 'utf8')).formatVersion
    } catch {
      throw new DsvError('E_UNSUPPORTED_FORMAT', `${dsvDir}/format is unreadable`, {path: dsvDir})
    }
    if (UPGRADABLE_FORMATS.includes(version as number)) writeFileAtomic(join(dsvDir, 'format'), `${JSON.stringify({formatVersion: FORMAT_VERSION})}\n`)
    else if (version !== FORMAT_VERSION)
      throw new DsvError('E_UNSUPPORTED_FORMAT', `store format ${String(version)} is not supported by this dsv (it understands ${FORMAT_VERSION})`, {path: dsvDir, formatVersion: version}, 'upgrade dsv')
    return {root, dsvDir}
  }

  async close(): Promise<void> {
    this.unlock()
    this.store.close()
    await this.db.close()
  }

  /** Runs `fn` holding the repository's write lock. */
  async locked<T>(fn: () => Promise<T>): Promise<T> {
    if (this.lock) return fn()
    this.lock = RepoLock.acquire(join(this.dsvDir, 'lock'))
    try {
      // every locked operation may write packs (status too: it stores what it hashes)
      this.store.removeAbandonedPacks()
      return await fn()
    } catch (error) {
      this.store.abort()
      throw error
    } finally {
      this.unlock()
    }
  }

  private unlock(): void {
    this.lock?.release()
    this.lock = null
  }

  head(): Head {
    return this.refs.readHead()
  }

  headCommit(): Oid | null {
    return this.refs.headCommit()
  }

  currentBranch(): string | null {
    const h = this.head()
    return h.symbolic && h.ref.startsWith('refs/heads/') ? h.ref.slice('refs/heads/'.length) : null
  }

  setConfig(key: string, value: string | null): void {
    key = canonicalKey(key)
    const cfg = readConfig(this.dsvDir) as Record<string, Record<string, unknown>>
    const [section, ...rest] = key.split('.')
    const name = rest.join('.')
    const known: Record<string, (v: string) => unknown> = {
      'user.name': (v) => personValue(key, v),
      'user.email': (v) => personValue(key, v),
      'core.compression': (v) => {
        // digits only: Number('') and Number(' ') are 0, which would turn compression off
        const n = /^[0-9]+$/.test(v) ? Number(v) : NaN
        if (!Number.isInteger(n) || n < 0 || n > MAX_COMPRESSION) throw new DsvError('E_CONFIG', `core.compression must be a whole number from 0 (none) to ${MAX_COMPRESSION}, not '${v}'`)
        return n
      },
      'core.fileMode': (v) => {
        // git's spellings of a boolean
        const on = ['true', 'yes', 'on', '1'].includes(v.toLowerCase())
        if (!on && !['false', 'no', 'off', '0'].includes(v.toLowerCase())) throw new DsvError('E_CONFIG', `core.fileMode must be true or false, not '${v}'`)
        return on
      },
    }
    if (!name || (!PATTERN_SECTIONS.includes(section) && !known[key]))
      throw new DsvError('E_CONFIG', `unknown config key '${key}'`, {key}, 'known keys: user.name, user.email, core.compression, core.fileMode, keys.<file pattern>, labels.<file pattern>')
    if (value === null && cfg[section]?.[name] === undefined)
      throw new DsvError('E_CONFIG', `${key} is not set: nothing to unset`, {key}, 'see the settings in .dsv/config.json')
    if (value !== null && PATTERN_SECTIONS.includes(section)) {
      const problem = patternProblem(name)
      if (problem) throw new DsvError('E_CONFIG', `'${name}' is not a usable file pattern: ${problem}`, {key}, 'patterns use gitignore syntax: golden/*.jsonl, **/train.csv, data/[ab].tsv')
    }
    cfg[section] ??= {}
    if (value === null) delete cfg[section][name]
    else cfg[section][name] = PATTERN_SECTIONS.includes(section) ? value : known[key](value)
    writeFileAtomic(join(this.dsvDir, 'config.json'), `${JSON.stringify(cfg, null, 2)}\n`)
    this.config = cfg as RepoConfig
  }

  /** Changes the config file atomically (remotes, upstreams: structured sections). */
  updateConfig(change: (cfg: RepoConfig) => void): void {
    const cfg = readConfig(this.dsvDir)
    change(cfg)
    writeFileAtomic(join(this.dsvDir, 'config.json'), `${JSON.stringify(cfg, null, 2)}\n`)
    this.config = cfg
  }

  private fileModeKept?: boolean

  /**
   * Whether the working directory's executable bits are versioned as found on disk:
   * `core.fileMode` when set (init sets it false where the bit does not stick), else
   * whether this file system keeps the bit (tried once per process; true if it cannot tell).
   */
  fileMode(): boolean {
    const set = this.config.core?.fileMode
    if (typeof set === 'boolean') return set
    return (this.fileModeKept ??= probeFileMode(this.dsvDir) ?? true)
  }

  getConfig(key: string): unknown {
    const [section, ...rest] = canonicalKey(key).split('.')
    return (this.config as Record<string, Record<string, unknown> | undefined>)[section]?.[rest.join('.')]
  }

  checkBranchName(name: string): void {
    checkRefName(name, 'branch name')
  }

  // ---- operations (each lives in ops/; these are the public entry points) ----

  status(onProgress?: ProgressFn): Promise<StatusResult> {
    return status(this, onProgress)
  }

  commit(opts: CommitOptions): Promise<CommitResult> {
    return commit(this, opts)
  }

  resolve(rev: string): Promise<ResolvedRev> {
    return resolveRevision(this, rev)
  }

  async log(opts: {rev?: string; max?: number; minQuality?: number} = {}): Promise<LogEntry[]> {
    const start = opts.rev ? (await this.resolve(opts.rev)).commit : this.headCommit()
    return start ? walkLog(this, start, opts.max, opts.minQuality) : []
  }

  /** One commit with the files of its tree, and the annotated tag when `rev` names one. */
  async show(rev = 'HEAD'): Promise<LogEntry & {contents: Array<TreeEntry & {path: string}>; tag?: TagDetails}> {
    const {commit: id} = await this.resolve(rev)
    const c = await readCommit(this, id)
    const files = [...(await flattenTree(this.store, c.tree)).values()].map((e) => ({...e, path: e.name}))
    const tag = await annotatedTag(this, rev.trim())
    return {...(tag ? {tag} : {}), ...toLogEntry(id, c, await decorations(this)), contents: files}
  }

  tags(): Promise<TagInfo[]> {
    return listTags(this)
  }

  tag(name: string, rev?: string, opts?: {message?: string; force?: boolean; author?: string}): Promise<TagInfo> {
    return createTag(this, name, rev, opts)
  }

  deleteTag(name: string): Promise<{deleted: string; target: Oid | null}> {
    return deleteTag(this, name)
  }

  checkout(rev: string, opts?: {force?: boolean; to?: string; onProgress?: ProgressFn}): Promise<CheckoutResult> {
    return checkout(this, rev, opts)
  }

  async rollback(rev: string, opts?: {message?: string; author?: string; force?: boolean; onProgress?: ProgressFn}): Promise<CommitResult & {target: Oid}> {
    // checked here, before the working directory is touched (-m "" is not "no -m")
    if (opts?.message !== undefined) checkMessage(opts.message)
    return rollback(this, rev, opts)
  }

  /** Example- and field-level changes between two sides (revisions or the working tree). */
  diff(from: DiffSide, to: DiffSide, opts?: DatasetDiffOptions): Promise<DatasetDiff> {
    return datasetDiff(this, from, to, opts)
  }

  // quality and export load their libraries (ajv, yaml, filtrex, csv) only when used:
  // every other command starts faster

  /** Runs the rules file's checks over a version (default: the working tree). */
  async qualityCheck(side: DiffSide = {worktree: true}, opts?: QualityOptions): Promise<QualityResult> {
    const {qualityCheck} = await import('./ops/quality.js')
    return qualityCheck(this, side, opts)
  }

  /** What got better or worse between two versions. */
  async qualityCompare(a: DiffSide, b: DiffSide, opts?: QualityOptions): Promise<QualityComparison> {
    const {qualityCompare} = await import('./ops/quality.js')
    return qualityCompare(this, a, b, opts)
  }

  /** Writes a committed version's examples as training files (see ops/export.ts). */
  async export(rev: string, opts: ExportOptions): Promise<ExportResult> {
    const {exportVersion} = await import('./ops/export.js')
    return exportVersion(this, rev, opts)
  }

  // ---- remotes (ops/remotes, push, fetch, clone; the transports load on first use) ----

  async remotes(): Promise<RemoteInfo[]> {
    return (await import('./ops/remotes.js')).listRemotes(this)
  }

  async addRemote(name: string, url: string): Promise<RemoteInfo> {
    return (await import('./ops/remotes.js')).addRemote(this, name, url)
  }

  async removeRemote(name: string): Promise<RemoteInfo> {
    return (await import('./ops/remotes.js')).removeRemote(this, name)
  }

  /** Sends branches/tags and the objects the remote lacks; refs move by compare-and-swap. */
  async push(opts?: PushOptions): Promise<PushResult> {
    return (await import('./ops/push.js')).push(this, opts)
  }

  /** Brings in the remote's branches (as refs/remotes/NAME/*) and tags, verifying every object. */
  async fetch(opts?: {remote?: string; onProgress?: ProgressFn}): Promise<FetchResult> {
    return (await import('./ops/fetch.js')).fetch(this, opts)
  }

  /** fetch, then fast-forward the current branch and the working directory. */
  async pull(opts?: PullOptions): Promise<PullResult> {
    return (await import('./ops/fetch.js')).pull(this, opts)
  }

  /** A new working directory from a remote (see ops/clone.ts). */
  static async clone(url: string, dir?: string, opts?: {branch?: string; onProgress?: ProgressFn; cwd?: string}): Promise<CloneResult> {
    return (await import('./ops/clone.js')).clone(url, dir, opts)
  }

  /** How far the current branch is from its upstream (refs/remotes/REMOTE/BRANCH), if it has one. */
  async upstreamStatus(): Promise<{branch: string; upstream: string; ahead: number; behind: number} | null> {
    const branch = this.currentBranch()
    if (!branch || !this.config.remote) return null
    const {upstreamOf} = await import('./ops/remotes.js')
    const up = upstreamOf(this, branch)
    const theirs = up && this.refs.read(up.ref)
    const ours = this.refs.read(`refs/heads/${branch}`)
    if (!up || !theirs || !ours) return null
    const {aheadBehind} = await import('./ops/history.js')
    return {branch, upstream: up.ref.slice('refs/remotes/'.length), ...(await aheadBehind(this, ours, theirs))}
  }

  fsck(onProgress?: ProgressFn): Promise<FsckResult> {
    return fsck(this, onProgress)
  }
}

/**
 * Why a gitignore pattern of a `keys.`/`labels.` setting would match no file, or null. The
 * \`ignore\` package drops such patterns without a word, so they are refused here.
 */
function patternProblem(p: string): string | null {
  if (!p.trim()) return 'it is empty'
  if (p.startsWith('#')) return 'a pattern starting with # is a comment (write \\# for a file name starting with #)'
  if (p.startsWith('!')) return 'a negated pattern (!) cannot name files here'
  if (/(^|[^\\])(\\\\)*\\$/.test(p)) return 'it ends with a lone backslash'
  // a [ with no closing ] (git matches nothing); []] and [!]] hold a literal ]
  for (let i = 0; i < p.length; i++) {
    if (p[i] === '\\') i++
    else if (p[i] === '[') {
      let j = i + 1
      if (p[j] === '!' || p[j] === '^') j++
      if (p[j] === ']') j++
      while (j < p.length && p[j] !== ']') j++
      if (j >= p.length) return `the [ at character ${i + 1} is never closed (write \\[ for a literal bracket)`
      i = j
    }
  }
  return null
}

/** An author name or email as commits record it: trimmed, not empty, no control character. */
function personValue(key: string, v: string): string {
  const problem = personProblem(v)
  if (problem) throw new DsvError('E_CONFIG', `${key} ${problem}: ${JSON.stringify(v)}`, {key})
  if (!v.trim()) throw new DsvError('E_CONFIG', `${key} cannot be empty`, {key}, `to remove it: dsv config --unset ${key}`)
  return v.trim()
}

/** `.dsv` that is a file, or a folder without a format file: what init and every other command say of it. */
function notARepo(dsvDir: string): DsvError {
  if (!isFolder(dsvDir))
    return new DsvError('E_NOT_A_REPO', `${dsvDir} is a file, not a dsv repository`, {path: dsvDir}, 'move or remove it, then run `dsv init`')
  return new DsvError('E_NOT_A_REPO', `${dsvDir} exists but is not a dsv repository (no format file)`, {path: dsvDir},
    'an empty .dsv folder becomes a repository with `dsv init`; move anything else away first')
}

function isFolder(path: string): boolean {
  try {
    return statSync(path).isDirectory()
  } catch {
    return false
  }
}

function readConfig(dsvDir: string): RepoConfig {
  try {
    return JSON.parse(readFileSync(join(dsvDir, 'config.json'), 'utf8')) as RepoConfig
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {}
    throw new DsvError('E_CONFIG', `${join(dsvDir, 'config.json')} is not valid JSON: ${(error as Error).message}`)
  }
}

/** A setting's name as stored: git spells core.fileMode in lower case too. */
function canonicalKey(key: string): string {
  return key.toLowerCase() === 'core.filemode' ? 'core.fileMode' : key
}
