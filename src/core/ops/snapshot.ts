/**
 * Snapshot of the working directory into the store: files whose stat matches the stat
 * cache are taken as they are; the others are read, validated and stored (tables on
 * worker threads). Returns the root tree and every file's entry. Like `git add -A`,
 * this writes objects; they stay unreferenced until a commit points at them.
 */
import {ingestTableJobs} from './ingest-jobs.js'
import {chunkFile, CHUNK_THRESHOLD, encodeChunks, type ChunkRef} from '../blob.js'
import {scanWorktree, type WorkFile} from '../worktree.js'
import {tableFormatOf} from '../table-format.js'
import {buildTree, flattenTree, type FileMap} from '../tree-ops.js'
import {isExecutable, withMode} from '../file-mode.js'
import {readFileSync} from 'node:fs'
import type {StatEntry} from '../index-db.js'
import type {ProgressFn, Repository} from '../repository.js'
import type {Oid} from '../bytes.js'
import {DsvError} from '../../errors/index.js'
import {headTree} from './history.js'
import type {KnownChanges} from './tree-diff.js'

/**
 * A file whose mtime is within this window of its cache entry being recorded is re-read
 * ("racy git"): a later write in the same timestamp tick would not change its mtime.
 * Linux file times come from the kernel's coarse clock: a tick is at most 10 ms.
 */
export const RACY_NS = 20_000_000n

export interface Snapshot {
  tree: Oid
  files: FileMap
  /** files that were read (not taken from the stat cache) */
  read: number
  skipped: string[]
  /** example changes of tables read, against HEAD's version, counted while they were read */
  changes: KnownChanges
}

function statMatches(f: WorkFile, c: StatEntry | undefined): boolean {
  return !!c && c.size === Number(f.stat.size) && c.mtimeNs === String(f.stat.mtimeNs) && c.ctimeNs === String(f.stat.ctimeNs)
    && c.ino === Number(f.stat.ino) && f.stat.mtimeNs < BigInt(c.recordedNs) - RACY_NS
}

/**
 * The files whose stat matches the cache, with their known ids, without reading any
 * file. Files missing from it are unknown (changed or never seen).
 */
export async function cachedView(repo: Repository): Promise<FileMap> {
  const {files} = scanWorktree(repo.root)
  const cached = await repo.db.getStats(files.map((f) => f.path))
  const executable = await executableOf(repo)
  const out: FileMap = new Map()
  files.forEach((f, i) => {
    const c = cached[i]
    if (statMatches(f, c)) out.set(f.path, withMode({name: f.path, type: c!.type, oid: c!.oid, size: c!.size}, executable(f)))
  })
  return out
}

/**
 * Whether a working file counts as executable: as the disk says, or, where the file system
 * cannot keep the bit (core.fileMode false), as HEAD has it.
 */
async function executableOf(repo: Repository): Promise<(f: WorkFile) => boolean> {
  if (repo.fileMode()) return (f) => isExecutable(f.stat.mode)
  const head = await flattenTree(repo.store, await headTree(repo))
  return (f) => head.get(f.path)?.executable === true
}

/**
 * `only` limits the snapshot to some paths (`dsv diff -- PATH` on the working tree): other
 * files are neither read nor listed, so a broken file elsewhere does not stop the command.
 */
export async function snapshot(repo: Repository, onProgress?: ProgressFn, only?: (path: string) => boolean): Promise<Snapshot> {
  const startedNs = BigInt(Date.now()) * 1_000_000n
  const scan = scanWorktree(repo.root)
  const files = only ? scan.files.filter((f) => only(f.path)) : scan.files
  const skipped = only ? scan.skipped.filter(only) : scan.skipped
  const cached = await repo.db.getStats(files.map((f) => f.path))
  const executable = await executableOf(repo)
  const out: FileMap = new Map()
  const tables: WorkFile[] = []
  const blobs: WorkFile[] = []
  files.forEach((f, i) => {
    const c = cached[i]
    if (statMatches(f, c)) out.set(f.path, withMode({name: f.path, type: c!.type, oid: c!.oid, size: c!.size, ...(c!.type === 'table' ? {examples: c!.examples} : {})}, executable(f)))
    else if (tableFormatOf(f.path)) tables.push(f)
    else blobs.push(f)
  })
  const toRead = tables.length + blobs.length
  let done = 0
  const tick = () => onProgress?.({phase: 'reading files', loaded: ++done, total: toRead, unit: 'files'})

  const changes: KnownChanges = new Map()
  if (tables.length > 0) {
    const previous = await flattenTree(repo.store, await headTree(repo))
    const ingested = await ingestTableJobs(repo, tables, previous, tick)
    const byPath = new Map(tables.map((f) => [f.path, f]))
    for (const e of ingested.entries) {
      out.set(e.name, withMode(e, executable(byPath.get(e.name)!)))
      const counts = ingested.changes.get(e.name)
      if (counts) changes.set(e.name, {before: previous.get(e.name)!.oid, after: e.oid, counts})
    }
  }
  for (const f of blobs) {
    out.set(f.path, withMode({name: f.path, type: 'file', oid: await storeBlob(repo, f), size: Number(f.stat.size)}, executable(f)))
    tick()
  }
  const tree = await buildTree(repo.store, out)
  await repo.store.flush()

  const updates: Array<[string, StatEntry]> = []
  for (const f of [...tables, ...blobs]) {
    const e = out.get(f.path)!
    updates.push([f.path, {size: Number(f.stat.size), mtimeNs: String(f.stat.mtimeNs), ctimeNs: String(f.stat.ctimeNs), ino: Number(f.stat.ino), recordedNs: String(startedNs), type: e.type as 'table' | 'file', oid: e.oid, examples: e.examples}])
  }
  await repo.db.putStats(updates)
  return {tree, files: out, read: toRead, skipped, changes}
}

async function storeBlob(repo: Repository, f: WorkFile): Promise<Oid> {
  try {
    if (f.stat.size <= BigInt(CHUNK_THRESHOLD)) return await repo.store.put('blob', readFileSync(f.abs))
    const chunks: Buffer[] = []
    chunkFile(f.abs, (c) => chunks.push(c))
    const refs: ChunkRef[] = []
    for (const c of chunks) refs.push({oid: await repo.store.put('blob', c), length: c.length})
    return await repo.store.put('chunks', encodeChunks(refs))
  } catch (error) {
    if (error instanceof DsvError) throw error
    throw new DsvError('E_UNREADABLE_FILE', `${f.path}: cannot read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`, {file: f.path})
  }
}
