/**
 * Writing a table back to a file from its leaves' pack locations (looked up in one batch
 * by the main thread), synchronously, so that it runs on worker threads. Every leaf is
 * verified against its id before its records are written; the file appears by rename.
 */
import {closeSync, mkdirSync, openSync, renameSync, rmSync, writeSync} from 'node:fs'
import {dirname} from 'node:path'
import {randomBytes} from 'node:crypto'
import {applyDelta} from './delta.js'
import {objectIdBytes} from './object-kinds.js'
import {decodeLeaf} from './table-nodes.js'
import {CorruptObjectError} from '../errors/index.js'
import type {IndexEntry} from './index-db.js'
import type {PackReader} from './pack.js'

export interface LeafLocation {
  oid: string
  loc: IndexEntry
  base?: IndexEntry
}

export interface TableWriteJob {
  abs: string
  header: string
  leaves: LeafLocation[]
  size: number
}

const FLUSH_AT = 4 << 20

export function readLeafAt(reader: PackReader, leaf: LeafLocation): Buffer {
  let content: Buffer
  try {
    const entry = reader.entry(leaf.loc)
    content = entry.base ? applyDelta(reader.entry(leaf.base!).data, entry.data) : entry.data
  } catch (error) {
    throw new CorruptObjectError(leaf.oid, `cannot be read: ${(error as Error).message}`)
  }
  if (!objectIdBytes('leaf', content).equals(Buffer.from(leaf.oid, 'hex'))) throw new CorruptObjectError(leaf.oid, 'content does not match its SHA-256 id')
  return content
}

export function writeTableFile(job: TableWriteJob, reader: PackReader): void {
  mkdirSync(dirname(job.abs), {recursive: true})
  const tmp = `${job.abs}.dsv-${randomBytes(4).toString('hex')}.tmp`
  const fd = openSync(tmp, 'wx')
  try {
    let parts: Buffer[] = job.header ? [Buffer.from(job.header, 'utf8')] : []
    let pending = parts.length ? parts[0].length : 0
    const flush = () => {
      if (pending > 0) writeSync(fd, Buffer.concat(parts, pending))
      parts = []
      pending = 0
    }
    for (const leaf of job.leaves) {
      for (const rec of decodeLeaf(readLeafAt(reader, leaf))) {
        parts.push(rec)
        pending += rec.length
      }
      if (pending >= FLUSH_AT) flush()
    }
    flush()
    closeSync(fd)
    renameSync(tmp, job.abs)
  } catch (error) {
    try {
      closeSync(fd)
    } catch {}
    rmSync(tmp, {force: true})
    throw error
  }
}
