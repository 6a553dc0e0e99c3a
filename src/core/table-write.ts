/**
 * Writing a table back to a file from its leaves' pack locations (looked up in one batch
 * by the main thread), synchronously, so that it runs on worker threads. Every leaf is
 * verified against its id before its records are written; the file appears by rename.
 * Leaves the file already holds (a checkout between two versions of it) are copied from
 * the file as byte ranges instead of being read from the packs.
 */
import {closeSync, constants, fstatSync, mkdirSync, openSync, type BigIntStats} from 'node:fs'
import {dirname} from 'node:path'
import {applyDelta} from './delta.js'
import {AtomicFileWriter} from './atomic-file.js'
import {HASH_MISMATCH, objectIdBytes} from './object-kinds.js'
import {reusableAllocator} from './bytes.js'
import {forEachLeafRecord} from './table-nodes.js'
import {CorruptObjectError, DsvError} from '../errors/index.js'
import type {PackReader} from './pack.js'
import type {PackPlace} from './object-store.js'
import {LeafListBuilder, unpackLeaf, type PackedLeaves} from './leaf-list.js'

/** A leaf and where it (and its delta base, if stored as a delta) lies: what a worker reads. */
export interface LeafLocation extends PackPlace {
  oid: string
}

/** Bytes of the file being replaced, which the stat cache vouches for: unchanged leaves. */
export interface FileRange {
  from: number
  length: number
}

/** What tells a file's content has not changed: a file edited in between differs here. */
export interface FileIdentity {
  size: number
  ino: string
  mtimeNs: string
  ctimeNs: string
}

export function fileIdentity(st: BigIntStats): FileIdentity {
  return {size: Number(st.size), ino: String(st.ino), mtimeNs: String(st.mtimeNs), ctimeNs: String(st.ctimeNs)}
}

export interface TableWriteJob {
  abs: string
  header: string
  /**
   * The records in order, two numbers a part: a range of the file now at `abs` to copy
   * (from, length), or a leaf to read (-1, its index in `leaves`). See tableParts.
   */
  parts: Float64Array
  leaves: PackedLeaves
  size: number
  /** with ranges to copy: the identity of the file at `abs` when they were planned */
  current?: FileIdentity
  /** the file is made executable */
  executable?: boolean
}

/**
 * A table's parts in a job's packed form (flat arrays: cheap to send to a worker): the
 * ranges as they are, each leaf where `where` says it lies.
 */
export function tableParts(parts: Array<FileRange | {oid: string}>, where: (oid: string) => PackPlace = noLeaves): Pick<TableWriteJob, 'parts' | 'leaves'> {
  const packed = new Float64Array(parts.length * 2)
  const leaves = new LeafListBuilder(parts.length)
  parts.forEach((p, i) => {
    if ('oid' in p) {
      const {loc, base} = where(p.oid)
      packed[i * 2] = -1
      packed[i * 2 + 1] = leaves.length
      leaves.add(p, loc, base)
    } else {
      packed[i * 2] = p.from
      packed[i * 2 + 1] = p.length
    }
  })
  return {parts: packed, leaves: leaves.finish()}
}

function noLeaves(oid: string): PackPlace {
  throw new RangeError(`no location given for leaf ${oid}`)
}

/**
 * A leaf's content, verified. With `alloc` (see reusableAllocator), a leaf stored as a
 * delta is rebuilt in memory the caller reuses: valid only until its next call.
 */
export function readLeafAt(reader: PackReader, leaf: LeafLocation, alloc?: (size: number) => Buffer): Buffer {
  let content: Buffer
  try {
    const entry = reader.entry(leaf.loc)
    content = entry.base ? applyDelta(reader.entry(leaf.base!).data, entry.data, alloc) : entry.data
  } catch (error) {
    throw new CorruptObjectError(leaf.oid, `cannot be read: ${(error as Error).message}`)
  }
  if (!objectIdBytes('leaf', content).equals(Buffer.from(leaf.oid, 'hex'))) throw new CorruptObjectError(leaf.oid, HASH_MISMATCH)
  return content
}

/**
 * Writes the table's file; returns how many bytes were copied from the file it replaces.
 * The file it replaces is held open across the rename and handed to `closeReplaced`: the
 * last close of a replaced file frees its pages and blocks (50-170 ms for 54 MB on ext4),
 * which a worker leaves to libuv's thread pool instead of paying in the rename.
 */
export function writeTableFile(job: TableWriteJob, reader: PackReader, closeReplaced: (fd: number) => void = closeSync): number {
  mkdirSync(dirname(job.abs), {recursive: true})
  // opened before the temp file exists, read while it is written, replaced by its rename
  let ranges = false
  for (let i = 0; i < job.parts.length && !ranges; i += 2) ranges = job.parts[i] >= 0
  const current = ranges ? openSync(job.abs, 'r') : undefined
  const out = new AtomicFileWriter(job.abs, {executable: job.executable === true})
  let copied = 0
  let replaced: number | undefined
  try {
    if (job.header) out.write(Buffer.from(job.header, 'utf8'))
    const alloc = reusableAllocator() // each leaf is written out at once
    if (current !== undefined) assertUnchanged(current, job)
    for (let i = 0; i < job.parts.length; i += 2) {
      const [from, n] = [job.parts[i], job.parts[i + 1]]
      if (from < 0) writeLeafRecords(readLeafAt(reader, unpackLeaf(job.leaves, n), alloc), out)
      else {
        out.copyRange(current!, from, n)
        copied += n
      }
    }
    // a file edited while it was copied must not come out as the version being written
    if (current !== undefined) assertUnchanged(current, job)
    replaced = current ?? openRegularFile(job.abs)
    out.commit()
    return copied
  } catch (error) {
    out.abort()
    throw error
  } finally {
    if (replaced !== undefined) closeReplaced(replaced)
    else if (current !== undefined) closeSync(current)
  }
}

/** The regular file at `path` opened for reading, if there is one (never waits on a FIFO, never follows a link). */
function openRegularFile(path: string): number | undefined {
  let fd: number | undefined
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK | (constants.O_NOFOLLOW ?? 0))
    if (fstatSync(fd).isFile()) return fd
  } catch {}
  if (fd !== undefined) closeSync(fd)
  return undefined
}

function assertUnchanged(fd: number, job: TableWriteJob): void {
  const now = fileIdentity(fstatSync(fd, {bigint: true}))
  const was = job.current
  if (!was || now.size !== was.size || now.ino !== was.ino || now.mtimeNs !== was.mtimeNs || now.ctimeNs !== was.ctimeNs)
    throw new DsvError('E_DIRTY_WORKTREE', `${job.abs} changed while checkout was rewriting it; it was left as it is`, {paths: [job.abs]}, 'look at the change, then run the checkout again (with --force to discard it)')
}

/** A leaf's records, copied straight from the leaf (no Buffer per record). */
function writeLeafRecords(leaf: Buffer, out: AtomicFileWriter): void {
  forEachLeafRecord(leaf, (start, end) => out.write(leaf, start, end))
}
