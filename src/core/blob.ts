/**
 * Binary files. Up to CHUNK_THRESHOLD a file is one `blob`; larger files are cut by
 * content-defined chunking (a gear rolling hash) into chunks of about 1 MiB, listed by
 * a `chunks` object, so a small edit in a large file stores a small delta.
 *
 * chunks: varint count, count × (oid:32, varint length)
 */
import {closeSync, openSync, readSync} from 'node:fs'
import {ByteReader, ByteWriter} from './bytes.js'

export const CHUNK_THRESHOLD = 4 << 20
const MIN_CHUNK = 256 << 10
const MAX_CHUNK = 4 << 20
const MASK = (1 << 20) - 1 // about 1 MiB between boundaries past the minimum

/** A fixed table of pseudo-random words (xorshift32 from a fixed seed): boundaries must never change. */
const GEAR = (() => {
  const t = new Uint32Array(256)
  let x = 0x9e3779b9
  for (let i = 0; i < 256; i++) {
    x ^= x << 13
    x >>>= 0
    x ^= x >>> 17
    x ^= x << 5
    x >>>= 0
    t[i] = x
  }
  return t
})()

/** Streams a file and calls `onChunk` with each content-defined chunk. */
export function chunkFile(abs: string, onChunk: (chunk: Buffer) => void): number {
  const fd = openSync(abs, 'r')
  let size = 0
  try {
    let pending: Buffer[] = []
    let pendingLen = 0
    let h = 0
    const buf = Buffer.allocUnsafe(4 << 20)
    for (;;) {
      const n = readSync(fd, buf, 0, buf.length, null)
      if (n === 0) break
      size += n
      let start = 0
      for (let i = 0; i < n; i++) {
        h = ((h << 1) + GEAR[buf[i]]) >>> 0
        const len = pendingLen + (i - start + 1)
        if ((len >= MIN_CHUNK && (h & MASK) === 0) || len >= MAX_CHUNK) {
          pending.push(Buffer.from(buf.subarray(start, i + 1)))
          onChunk(Buffer.concat(pending))
          pending = []
          pendingLen = 0
          start = i + 1
          h = 0
        }
      }
      if (start < n) {
        pending.push(Buffer.from(buf.subarray(start, n)))
        pendingLen += n - start
      }
    }
    if (pendingLen > 0) onChunk(Buffer.concat(pending))
  } finally {
    closeSync(fd)
  }
  return size
}

export interface ChunkRef {
  oid: string
  length: number
}

export function encodeChunks(chunks: ChunkRef[]): Buffer {
  const w = new ByteWriter(chunks.length * 40 + 8).varint(chunks.length)
  for (const c of chunks) w.bytes(Buffer.from(c.oid, 'hex')).varint(c.length)
  return w.toBuffer()
}

export function decodeChunks(content: Buffer): ChunkRef[] {
  const r = new ByteReader(content)
  const n = r.varint()
  const out: ChunkRef[] = []
  for (let i = 0; i < n; i++) out.push({oid: r.bytes(32).toString('hex'), length: r.varint()})
  return out
}
