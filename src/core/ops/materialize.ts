/** Writing committed files back to disk, byte for byte, each through temp file + rename. */
import {lstatSync, mkdirSync, readdirSync, rmdirSync, rmSync, statSync, unlinkSync, type Dirent} from 'node:fs'
import {AtomicFileWriter, DSV_TEMP_FILE} from '../atomic-file.js'
import {dirname, isAbsolute, join, relative, sep} from 'node:path'
import {listLeaves, readTable, type LeafSpan} from '../table-read.js'
import {fileIdentity, tableParts, writeTableFile, type FileIdentity, type TableWriteJob} from '../table-write.js'
import {rewritePlan, type CopyRange} from '../changed-regions.js'
import {WorkerPool, workerCount, worthWorkers} from '../worker-pool.js'
import type {ProgressFn} from '../repository.js'
import {decodeChunks} from '../blob.js'
import type {Table, TreeEntry} from '../model.js'
import type {Oid} from '../bytes.js'
import type {ObjectStore} from '../object-store.js'

/** Below this many bytes of tables to write, workers cost more than they save. */
const WORKER_THRESHOLD = 16 << 20

/** A file to write; `current`: the table the file at `abs` holds now (see FileToWrite). */
export interface FileToWrite {
  entry: TreeEntry
  abs: string
  /**
   * The table now in the file at `abs`, as the stat cache vouches for it (or as just
   * hashed): leaves both versions share are copied from that file, not read from the
   * packs. Checking out a version next to the current one then costs what changed.
   */
  current?: Oid
}

/**
 * How to write a table: where each leaf lives (looked up in two batches), or, for what
 * the file already holds (subtrees both versions share), the range to copy.
 */
async function planTable(store: ObjectStore, f: FileToWrite): Promise<TableWriteJob> {
  const table = await readTable(store, f.entry.oid)
  const held = f.current && f.current !== f.entry.oid ? await tableInFile(store, f.current, f.abs) : undefined
  const plan: Array<CopyRange | LeafSpan> = held ? await rewritePlan(store, held.table, table) : await listLeaves(store, table)
  const skip = held ? Buffer.byteLength(held.table.header) : 0 // ranges count from the first record
  const where = await store.locateForReading(plan.flatMap((p) => ('oid' in p ? [p.oid] : [])))
  const parts = plan.map((p) => ('oid' in p ? p : {from: p.from + skip, length: p.length}))
  return {abs: f.abs, header: table.header, ...tableParts(parts, where), size: table.bytes, current: held?.identity, executable: f.entry.executable === true}
}

/**
 * The table `oid`, which the file `abs` holds (the caller's stat cache says so), and the
 * file's identity as of now; undefined when the table is not in the store or the file's
 * size disagrees with it, and the file is then written from the packs alone.
 */
async function tableInFile(store: ObjectStore, oid: Oid, abs: string): Promise<{table: Table; identity: FileIdentity} | undefined> {
  if (!(await store.has(oid))) return undefined
  const table = await readTable(store, oid)
  let identity: FileIdentity
  try {
    identity = fileIdentity(statSync(abs, {bigint: true}))
  } catch {
    return undefined
  }
  return identity.size === table.bytes ? {table, identity} : undefined
}

/**
 * Writes many files under `root`: tables on worker threads when there is enough to write
 * (each worker reads the packs itself and verifies every leaf), other files here.
 */
export async function writeEntries(store: ObjectStore, root: string, files: FileToWrite[], onProgress?: ProgressFn): Promise<{copiedBytes: number}> {
  let done = 0
  let copiedBytes = 0
  const tick = () => onProgress?.({phase: 'writing files', loaded: ++done, total: files.length, unit: 'files'})
  const written = (copied: number) => {
    copiedBytes += copied
    tick()
  }
  const tables = files.filter((f) => f.entry.type === 'table').sort((a, b) => b.entry.size - a.entry.size)
  const total = tables.reduce((s, f) => s + f.entry.size, 0)
  const folders = new RealFolders(root)
  const plan = async (f: FileToWrite): Promise<TableWriteJob> => {
    const job = await planTable(store, f)
    folders.prepare(job.abs)
    return job
  }
  const writeOthers = async () => {
    for (const f of files) {
      if (f.entry.type === 'table') continue
      folders.prepare(f.abs)
      await writeEntry(store, f.entry, f.abs)
      tick()
    }
  }
  if (!worthWorkers(total, WORKER_THRESHOLD, tables.length)) {
    for (const f of tables) written(writeTableFile(await plan(f), store.reader))
    await writeOthers()
    return {copiedBytes}
  }
  // workers start now and take each table as soon as its leaves are located
  const pool = new WorkerPool<TableWriteJob, number, null>(new URL('../checkout-worker.js', import.meta.url), {packDir: store.packDir}, workerCount(tables.length), written)
  await pool.submitEach(tables, plan)
  try {
    await writeOthers() // while the workers write the tables
  } catch (error) {
    await pool.abort(error as Error)
    throw error
  }
  await pool.finish()
  return {copiedBytes}
}

/** Removes the temp files a killed checkout left in a folder being written (the repository lock is held). */
function removeLeftoverTemps(dir: string): void {
  let entries: Dirent[]
  try {
    entries = readdirSync(dir, {withFileTypes: true})
  } catch {
    return
  }
  // files only: a folder of that name (a killed checkout --to's) is left alone
  for (const d of entries) if (d.isFile() && DSV_TEMP_FILE.test(d.name)) rmSync(join(dir, d.name), {force: true})
}

/**
 * Makes room for files under `root`: every folder on the way to a file becomes a real
 * folder (a file or a symlink standing there is removed: the link itself, never what it
 * points at, so no write lands outside the tree through a symlinked folder), and a folder
 * where the file must go is removed. The callers have checked that what stands in the way
 * may go (untracked things only with --force; ignored ones always, as in git).
 */
class RealFolders {
  /** folders seen to be real (or made so) */
  private readonly real = new Set<string>()
  /** folders cleared of a killed checkout's temp files */
  private readonly swept = new Set<string>()

  constructor(private readonly root: string) {}

  prepare(abs: string): void {
    const dir = dirname(abs)
    this.makeReal(dir)
    if (!this.swept.has(dir)) {
      removeLeftoverTemps(dir)
      this.swept.add(dir)
    }
    if (lstatSync(abs, {throwIfNoEntry: false})?.isDirectory()) rmSync(abs, {recursive: true, force: true})
  }

  private makeReal(dir: string): void {
    if (this.real.has(dir)) return
    const rel = relative(this.root, dir)
    if (rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel)) throw new RangeError(`${dir} is outside ${this.root}`)
    let at = this.root
    // the root is the caller's: a --to folder may not exist yet, and may be reached through links
    if (!this.real.has(at)) {
      mkdirSync(at, {recursive: true})
      this.real.add(at)
    }
    for (const part of rel === '' ? [] : rel.split(sep)) {
      at = join(at, part)
      if (this.real.has(at)) continue
      const st = lstatSync(at, {throwIfNoEntry: false})
      if (!st?.isDirectory()) {
        if (st) unlinkSync(at)
        mkdirSync(at)
      }
      this.real.add(at)
    }
    this.real.add(dir)
  }
}

/** Writes one binary file (a blob or a chunked blob); its folder is ready (RealFolders). */
async function writeEntry(store: ObjectStore, entry: TreeEntry, abs: string): Promise<void> {
  const out = new AtomicFileWriter(abs, {executable: entry.executable === true})
  try {
    const obj = await store.get(entry.oid)
    if (obj.kind === 'blob') out.write(obj.content)
    else for (const c of decodeChunks(obj.content)) out.write((await store.get(c.oid, 'blob')).content)
    out.commit()
  } catch (error) {
    out.abort()
    throw error
  }
}

export function removeFileAndEmptyDirs(root: string, path: string): void {
  const abs = join(root, path)
  rmSync(abs, {force: true})
  let dir = dirname(abs)
  while (dir.startsWith(root) && dir !== root) {
    try {
      rmdirSync(dir) // only succeeds on an empty folder
    } catch {
      break
    }
    dir = dirname(dir)
  }
}
