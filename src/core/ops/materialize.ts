/** Writing committed files back to disk, byte for byte, each through temp file + rename. */
import {existsSync, lstatSync, mkdirSync, readdirSync, rmdirSync, rmSync, statSync} from 'node:fs'
import {AtomicFileWriter, DSV_TEMP_FILE} from '../atomic-file.js'
import {dirname, join} from 'node:path'
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
  return {abs: f.abs, header: table.header, ...tableParts(parts, where), size: table.bytes, current: held?.identity}
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
 * Writes many files: tables on worker threads when there is enough to write (each
 * worker reads the packs itself and verifies every leaf), other files here.
 */
export async function writeEntries(store: ObjectStore, files: FileToWrite[], onProgress?: ProgressFn): Promise<{copiedBytes: number}> {
  let done = 0
  let copiedBytes = 0
  const tick = () => onProgress?.({phase: 'writing files', loaded: ++done, total: files.length, unit: 'files'})
  const written = (copied: number) => {
    copiedBytes += copied
    tick()
  }
  const tables = files.filter((f) => f.entry.type === 'table').sort((a, b) => b.entry.size - a.entry.size)
  const total = tables.reduce((s, f) => s + f.entry.size, 0)
  removeLeftoverTemps(new Set(files.map((f) => dirname(f.abs))))
  const plan = async (f: FileToWrite): Promise<TableWriteJob> => {
    const job = await planTable(store, f)
    prepareDir(dirname(job.abs), job.abs)
    return job
  }
  const writeOthers = async () => {
    for (const f of files) {
      if (f.entry.type === 'table') continue
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

/** Removes the temp files a killed checkout left in the folders being written (the repository lock is held). */
function removeLeftoverTemps(dirs: Set<string>): void {
  for (const dir of dirs) {
    let names: string[]
    try {
      names = readdirSync(dir)
    } catch {
      continue
    }
    for (const name of names) if (DSV_TEMP_FILE.test(name)) rmSync(join(dir, name), {force: true})
  }
}

/** Makes room for a file: a file where its folder must go, or a folder where it must go. */
function prepareDir(dir: string, abs: string): void {
  clearPathFor(dir)
  mkdirSync(dir, {recursive: true})
  if (existsSync(abs) && lstatSync(abs).isDirectory()) rmSync(abs, {recursive: true, force: true})
}

/** Writes one binary file (a blob or a chunked blob). */
async function writeEntry(store: ObjectStore, entry: TreeEntry, abs: string): Promise<void> {
  prepareDir(dirname(abs), abs)
  const out = new AtomicFileWriter(abs)
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

/** A file standing where a directory must go (a path changed from file to folder). */
function clearPathFor(dir: string): void {
  let d = dir
  while (!existsSync(d)) {
    const up = dirname(d)
    if (up === d) break
    d = up
  }
  if (existsSync(d) && !lstatSync(d).isDirectory()) rmSync(d, {force: true})
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
