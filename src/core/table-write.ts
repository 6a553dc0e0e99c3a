/**
 * Writing a table back to a file from its leaves' pack locations (looked up in one batch
 * by the main thread), synchronously, so that it runs on worker threads. Every leaf is
 * verified against its id before its records are written; the file appears by rename.
 */
import {mkdirSync} from 'node:fs'
import {dirname} from 'node:path'
import {applyDelta} from './delta.js'
import {AtomicFileWriter} from './atomic-file.js'
import {objectIdBytes} from './object-kinds.js'
import {reusableAllocator} from './bytes.js'
import {forEachLeafRecord} from './table-nodes.js'
import {CorruptObjectError} from '../errors/index.js'
import type {PackLocation, PackReader} from './pack.js'

/** A leaf and where it (and its delta base, if stored as a delta) lies: what a worker reads. */
export interface LeafLocation {
  oid: string
  loc: PackLocation
  base?: PackLocation
}

export interface TableWriteJob {
  abs: string
  header: string
  leaves: LeafLocation[]
  size: number
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
  if (!objectIdBytes('leaf', content).equals(Buffer.from(leaf.oid, 'hex'))) throw new CorruptObjectError(leaf.oid, 'content does not match its SHA-256 id')
  return content
}

export function writeTableFile(job: TableWriteJob, reader: PackReader): void {
  mkdirSync(dirname(job.abs), {recursive: true})
  const out = new AtomicFileWriter(job.abs)
  try {
    if (job.header) out.write(Buffer.from(job.header, 'utf8'))
    const alloc = reusableAllocator() // each leaf is written out at once
    for (const leaf of job.leaves) writeLeafRecords(readLeafAt(reader, leaf, alloc), out)
    out.commit()
  } catch (error) {
    out.abort()
    throw error
  }
}

/** A leaf's records, copied straight from the leaf (no Buffer per record). */
function writeLeafRecords(leaf: Buffer, out: AtomicFileWriter): void {
  forEachLeafRecord(leaf, (start, end) => out.write(leaf, start, end))
}
