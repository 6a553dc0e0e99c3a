/**
 * Pack files: append-only files of compressed blocks, each block a run of object
 * entries. A million small records become a few hundred blocks, not a million files.
 *
 * File:   "DSVPACK1" block*
 * Block:  codec:u8 (0 raw, 1 deflate, 2 brotli, 3 zstd) rawLength:varint storedLength:varint stored-bytes
 * Entry (inside a decompressed block):
 *         oid:32 kind:u8 flags:u8 [base-oid:32 if flags&1] length:varint bytes
 * A delta entry's bytes are a unit delta (delta.ts) against the base object.
 */
import {closeSync, fsyncSync, openSync, readSync, renameSync, statSync, unlinkSync} from 'node:fs'
import {createHash, randomBytes, type Hash} from 'node:crypto'
import {join} from 'node:path'
import {brotliDecompressSync, inflateRawSync} from 'node:zlib'
// zstd-napi's binding (CommonJS): compresses into and decompresses into buffers we own
import zstd from 'zstd-napi/binding.js'
import {ByteReader, ByteWriter} from './bytes.js'
import {kindCode, kindFromCode, type ObjectKind} from './object-kinds.js'
import {fsyncDir, writeAll} from './atomic-file.js'

export const PACK_MAGIC = Buffer.from('DSVPACK1')
const CODEC_RAW = 0
/** Deflate and brotli blocks are only read (stores of format 1 hold brotli blocks). */
const CODEC_DEFLATE = 1
const CODEC_BROTLI = 2
/**
 * Zstandard, level 3 by default: on 1 MiB blocks of JSONL it beats brotli quality 3 on
 * ratio (5.6:1 vs 5.4:1) at 3x its compression and 5x its decompression speed.
 */
const CODEC_ZSTD = 3
export const DEFAULT_COMPRESSION = 3
export const MAX_COMPRESSION = 19
/** Uncompressed size at which a block is closed; large enough for zlib to find repeats across records. */
export const BLOCK_TARGET = 1 << 20

export interface PackLocation {
  packId: string
  blockOffset: number
  entryOffset: number
}

/**
 * Only where an object lies, copied out of a richer record (an index entry): what worker
 * threads are sent. A structured clone copies every field, and a Buffer field copies the
 * whole memory behind it.
 */
export function packLocationOf(e: PackLocation): PackLocation {
  return {packId: e.packId, blockOffset: e.blockOffset, entryOffset: e.entryOffset}
}

export interface PackEntryInfo extends PackLocation {
  oid: Buffer
  kind: ObjectKind
  base?: Buffer
  length: number
}

export interface PackEntry extends PackEntryInfo {
  data: Buffer
}

export function packPath(packDir: string, packId: string): string {
  return join(packDir, `${packId}.pack`)
}

export class PackWriter {
  readonly packId: string
  private readonly fd: number
  private readonly tmpPath: string
  private offset = PACK_MAGIC.length
  private block = new ByteWriter(BLOCK_TARGET + 65536)
  private blockEntries: Array<Omit<PackEntryInfo, 'blockOffset' | 'packId'>> = []
  readonly written: PackEntryInfo[] = []
  bytesIn = 0
  /** SHA-256 of the bytes written: a pack sent to a remote is named by it */
  private readonly sha: Hash = createHash('sha256')
  private readonly cctx?: zstd.CCtx
  /** compressed output, reused for every block: fresh memory costs a page fault per 4 KiB */
  private compressed?: Buffer

  constructor(private readonly packDir: string, private readonly level = DEFAULT_COMPRESSION) {
    if (level > 0) this.cctx = new zstd.CCtx()
    this.packId = randomBytes(8).toString('hex')
    this.tmpPath = join(packDir, `${this.packId}.pack.tmp`)
    this.fd = openSync(this.tmpPath, 'wx')
    this.write(PACK_MAGIC)
  }

  add(oid: Buffer, kind: ObjectKind, data: Buffer, base?: Buffer): void {
    const entryOffset = this.block.length
    this.block.bytes(oid).byte(kindCode(kind)).byte(base ? 1 : 0)
    if (base) this.block.bytes(base)
    this.block.varint(data.length).bytes(data)
    this.blockEntries.push({oid: Buffer.from(oid), kind, base: base && Buffer.from(base), length: data.length, entryOffset})
    this.bytesIn += data.length
    if (this.block.length >= BLOCK_TARGET) this.flushBlock()
  }

  /**
   * Appends a block copied verbatim from another pack (push sends whole blocks without
   * recompressing them). `entries` are the block's entries, as parsed from it.
   */
  addStoredBlock(block: StoredBlock, entries: Array<{oid: Buffer; kind: ObjectKind; base?: Buffer; length: number; entryOffset: number}>): void {
    this.flushBlock()
    const blockOffset = this.offset
    this.write(block.header)
    this.write(block.stored)
    this.offset += block.header.length + block.stored.length
    // copies: a parsed entry's ids are views into its whole decompressed block
    for (const e of entries) this.written.push({oid: Buffer.from(e.oid), kind: e.kind, base: e.base && Buffer.from(e.base), length: e.length, entryOffset: e.entryOffset, packId: this.packId, blockOffset})
  }

  private write(bytes: Buffer): void {
    writeAll(this.fd, bytes, 0, bytes.length, this.tmpPath)
    this.sha.update(bytes)
  }

  /** The SHA-256 of the finished pack's bytes (call after finish()). */
  digest(): string {
    return this.sha.copy().digest('hex')
  }

  /** Bytes written so far, plus the open block's uncompressed bytes (an upper bound). */
  get size(): number {
    return this.offset + this.block.length
  }

  private flushBlock(): void {
    if (this.block.length === 0) return
    const raw = this.block.view()
    let compressed = raw
    if (this.cctx) {
      const bound = zstd.compressBound(raw.length)
      if (!this.compressed || this.compressed.length < bound) this.compressed = Buffer.allocUnsafe(Math.max(bound, zstd.compressBound(BLOCK_TARGET + 65536)))
      compressed = this.compressed.subarray(0, this.cctx.compress(this.compressed, raw, this.level))
    }
    const useRaw = compressed.length >= raw.length * 0.97
    const stored = useRaw ? raw : compressed
    const header = new ByteWriter(24).byte(useRaw ? CODEC_RAW : CODEC_ZSTD).varint(raw.length).varint(stored.length)
    const blockOffset = this.offset
    this.write(header.view())
    this.write(stored)
    this.offset += header.length + stored.length
    for (const e of this.blockEntries) this.written.push({...e, packId: this.packId, blockOffset})
    this.blockEntries = []
    this.block.reset()
  }

  get isEmpty(): boolean {
    return this.written.length === 0 && this.blockEntries.length === 0
  }

  /** Flushes, fsyncs and renames the pack into place; returns where every entry lives. */
  finish(): PackEntryInfo[] {
    this.flushBlock()
    fsyncSync(this.fd)
    closeSync(this.fd)
    renameSync(this.tmpPath, packPath(this.packDir, this.packId))
    fsyncDir(this.packDir)
    return this.written
  }

  abort(): void {
    try {
      closeSync(this.fd)
    } catch {}
    try {
      unlinkSync(this.tmpPath)
    } catch {}
  }
}

/** A block as it lies in a pack file: copied verbatim into another pack by push. */
export interface StoredBlock {
  codec: number
  rawLength: number
  /** codec byte and the two lengths, exactly as stored */
  header: Buffer
  stored: Buffer
  next: number
}

let dctx: zstd.DCtx | undefined

/**
 * A block's bytes. `into` (at least rawLength long) receives a zstd block's bytes, so a
 * reader can reuse memory; raw blocks are returned as stored.
 */
export function decodeBlock(block: StoredBlock, where: string, into?: Buffer): Buffer {
  let data: Buffer
  if (block.codec === CODEC_RAW) data = block.stored
  else if (block.codec === CODEC_ZSTD) {
    const out = into && into.length >= block.rawLength ? into : Buffer.allocUnsafe(block.rawLength)
    dctx ??= new zstd.DCtx()
    try {
      data = out.subarray(0, dctx.decompress(out, block.stored))
    } catch (error) {
      throw new RangeError(`${where} does not decompress (${(error as Error).message})`)
    }
  } else if (block.codec === CODEC_BROTLI) data = brotliDecompressSync(block.stored)
  else if (block.codec === CODEC_DEFLATE) data = inflateRawSync(block.stored)
  else throw new RangeError(`${where}: unknown block codec ${block.codec} (written by a newer dsv?)`)
  if (data.length !== block.rawLength) throw new RangeError(`${where} has the wrong length`)
  return data
}

/** The entries of a decompressed block, in order. */
export function* blockEntries(data: Buffer, packId: string, blockOffset: number): Generator<PackEntry> {
  let at = 0
  while (at < data.length) {
    const e = parseEntry(data, {packId, blockOffset, entryOffset: at})
    yield e
    at = e.entryOffset + entrySize(e)
  }
}

interface CachedBlock {
  key: string
  data: Buffer
  /** the whole buffer `data` lives in, when it came from the reader's pool */
  pooled?: Buffer
}

/** Memory a cached block holds: its whole pooled buffer, or its bytes. */
function heldBytes(b: CachedBlock): number {
  return b.pooled?.length ?? b.data.length
}

/**
 * Block cache of a recycling reader on a worker thread: room for the few blocks a worker
 * uses at once (a leaf's block, its delta's block, the delta base's block). Measured on a
 * 1M-example diff: with 16 MiB the workers decompressed at ~570 MB/s, with 6-8 MiB at
 * 650-920 MB/s (fewer buffers in rotation stay in the CPU's caches); 4 MiB re-read blocks.
 */
export const WORKER_BLOCK_CACHE = 8 << 20

/** Size of a pooled block buffer: a block closes at 1 MiB plus at most one entry. */
const POOLED_BLOCK = 2 << 20

/**
 * Reads blocks of pack files, keeping the most recently used decompressed blocks.
 *
 * With `recycle`, the memory of a block that leaves the cache is reused for the next one
 * (fresh memory costs a page fault per 4 KiB, which on these VMs made decompression 3x
 * slower): an entry read from such a reader is valid only until `cacheLimit` bytes of
 * other blocks have been read. For callers that use each entry at once (checkout and
 * ingestion workers); the default keeps every block's memory as long as anyone holds it.
 */
export class PackReader {
  private fds = new Map<string, number>()
  private cache = new Map<string, CachedBlock>()
  private cacheBytes = 0
  private readonly pool: Buffer[] = []
  private scratch?: Buffer

  constructor(private readonly packDir: string, private readonly cacheLimit = 32 << 20, private readonly recycle = false) {}

  private fd(packId: string): number {
    let fd = this.fds.get(packId)
    if (fd === undefined) {
      fd = openSync(packPath(this.packDir, packId), 'r')
      this.fds.set(packId, fd)
    }
    return fd
  }

  /**
   * Reads one block as stored (still compressed): its header, bytes, and where the next
   * block starts. With `scratch`, the bytes are read into it when they fit (valid until
   * the next call that passes it).
   */
  readStoredBlock(packId: string, blockOffset: number, scratch?: Buffer): StoredBlock {
    const fd = this.fd(packId)
    const head = Buffer.alloc(21)
    const got = readSync(fd, head, 0, head.length, blockOffset)
    const r = new ByteReader(head.subarray(0, got))
    const codec = r.byte()
    const rawLength = r.varint()
    const storedLength = r.varint()
    const stored = scratch && scratch.length >= storedLength ? scratch.subarray(0, storedLength) : Buffer.allocUnsafe(storedLength)
    const n = readSync(fd, stored, 0, storedLength, blockOffset + r.pos)
    if (n !== storedLength) throw new RangeError(`pack ${packId} is truncated at block ${blockOffset}`)
    return {codec, rawLength, header: Buffer.from(head.subarray(0, r.pos)), stored, next: blockOffset + r.pos + storedLength}
  }

  /**
   * Reads one block: returns its decompressed bytes and where the next block starts.
   * `scratch` and `into` are memory to reuse (see readStoredBlock and decodeBlock).
   */
  readBlockAt(packId: string, blockOffset: number, scratch?: Buffer, into?: Buffer): {data: Buffer; next: number} {
    const block = this.readStoredBlock(packId, blockOffset, scratch)
    return {data: decodeBlock(block, `pack ${packId} block ${blockOffset}`, into), next: block.next}
  }

  block(packId: string, blockOffset: number): Buffer {
    const key = `${packId}:${blockOffset}`
    const hit = this.cache.get(key)
    if (hit) {
      this.cache.delete(key)
      this.cache.set(key, hit)
      return hit.data
    }
    if (this.recycle) this.scratch ??= Buffer.allocUnsafe(POOLED_BLOCK)
    const pooled = this.recycle ? (this.pool.pop() ?? Buffer.allocUnsafe(POOLED_BLOCK)) : undefined
    let {data} = this.readBlockAt(packId, blockOffset, this.scratch, pooled)
    // a raw block comes back as read, in the scratch buffer: keep a copy
    if (this.scratch && data.buffer === this.scratch.buffer) data = Buffer.from(data)
    const cached: CachedBlock = {key, data, pooled: pooled && data.buffer === pooled.buffer ? pooled : undefined}
    if (pooled && !cached.pooled) this.pool.push(pooled)
    this.cache.set(key, cached)
    this.cacheBytes += heldBytes(cached)
    for (const [k, v] of this.cache) {
      if (this.cacheBytes <= this.cacheLimit || k === key) break
      this.cache.delete(k)
      this.cacheBytes -= heldBytes(v)
      if (v.pooled) this.pool.push(v.pooled)
    }
    return data
  }

  entry(loc: PackLocation): PackEntry {
    return parseEntry(this.block(loc.packId, loc.blockOffset), loc)
  }

  /** Every entry of a pack, block by block (for fsck and re-indexing). */
  *scan(packId: string): Generator<PackEntry> {
    const size = statSync(packPath(this.packDir, packId)).size
    const magic = Buffer.alloc(PACK_MAGIC.length)
    readSync(this.fd(packId), magic, 0, magic.length, 0)
    if (!magic.equals(PACK_MAGIC)) throw new RangeError(`pack ${packId} has a bad header`)
    let offset = PACK_MAGIC.length
    while (offset < size) {
      const {data, next} = this.readBlockAt(packId, offset)
      yield* blockEntries(data, packId, offset)
      offset = next
    }
  }

  close(): void {
    for (const fd of this.fds.values()) closeSync(fd)
    this.fds.clear()
    this.cache.clear()
    this.cacheBytes = 0
    this.pool.length = 0
  }
}

function entrySize(e: PackEntry): number {
  return 32 + 2 + (e.base ? 32 : 0) + varintSize(e.length) + e.length
}

function varintSize(n: number): number {
  let size = 1
  while (n >= 0x80) {
    n = Math.floor(n / 0x80)
    size++
  }
  return size
}

export function parseEntry(block: Buffer, loc: PackLocation): PackEntry {
  const r = new ByteReader(block, loc.entryOffset)
  const oid = r.bytes(32)
  const kind = kindFromCode(r.byte())
  const flags = r.byte()
  const base = flags & 1 ? r.bytes(32) : undefined
  const length = r.varint()
  const data = r.bytes(length)
  // an explicit object: spreading `loc` (often a structured-cloned object with more
  // fields) made this the hottest line of a diff worker
  return {packId: loc.packId, blockOffset: loc.blockOffset, entryOffset: loc.entryOffset, oid, kind, base, length, data}
}
