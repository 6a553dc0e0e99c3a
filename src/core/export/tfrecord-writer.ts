/**
 * TFRecord export: one `tf.train.Example` per example, in TensorFlow's record framing
 * (length, masked CRC-32C of the length, data, masked CRC-32C of the data), sharded as
 * `name-00000-of-0000N.tfrecord` with --max-rows-per-file.
 *
 * tf.train.Example is flat, so each top-level field is one feature, typed from the
 * schema inferred over the export: integers and booleans are an Int64List, numbers with
 * a fraction a FloatList (32-bit, as TensorFlow stores them), strings a BytesList (UTF-8),
 * lists of one of those the same list; objects, mixed values and lists of objects are a
 * BytesList holding JSON text. A missing or null field is left out of that example, as
 * TensorFlow expects of an absent feature.
 */
import {closeSync, openSync, renameSync, rmSync, writeSync} from 'node:fs'
import {createHash, type Hash} from 'node:crypto'
import {maskedCrc32c} from './crc32c.js'
import {exportDataError, type ExportRow, type ExportWriter, type WriterOptions, type WrittenFile} from './writers.js'
import type {FieldType} from './schema.js'

type FeatureKind = 'int64' | 'float' | 'bytes'

interface Encoder {
  name: string
  kind: FeatureKind
  /** JSON text of the value instead of its items */
  json: boolean
}

/** The feature a field becomes, by its inferred type. */
function encoderFor(name: string, t: FieldType): Encoder {
  const scalar = (k: FieldType['kind']): FeatureKind | null => (k === 'int' || k === 'bool' ? 'int64' : k === 'float' ? 'float' : k === 'string' ? 'bytes' : null)
  const direct = scalar(t.kind)
  if (direct) return {name, kind: direct, json: false}
  if (t.kind === 'list') {
    const item = t.item.kind === 'null' ? 'bytes' : scalar(t.item.kind)
    if (item) return {name, kind: item, json: false}
  }
  return {name, kind: 'bytes', json: true}
}

// ---- protobuf wire format (only what tf.train.Example needs)

class ProtoWriter {
  private parts: Buffer[] = []
  private size = 0

  private push(b: Buffer): void {
    this.parts.push(b)
    this.size += b.length
  }

  varint(v: bigint | number): this {
    // int64 is two's complement on the wire: negative values take ten bytes
    let x = BigInt.asUintN(64, BigInt(v))
    const out: number[] = []
    while (x >= 0x80n) {
      out.push(Number(x & 0x7fn) | 0x80)
      x >>= 7n
    }
    out.push(Number(x))
    this.push(Buffer.from(out))
    return this
  }

  tag(field: number, wireType: number): this {
    return this.varint((field << 3) | wireType)
  }

  bytes(field: number, data: Buffer): this {
    this.tag(field, 2).varint(data.length)
    this.push(data)
    return this
  }

  raw(data: Buffer): this {
    this.push(data)
    return this
  }

  toBuffer(): Buffer {
    return Buffer.concat(this.parts, this.size)
  }
}

/** Feature { oneof kind { BytesList bytes_list = 1; FloatList float_list = 2; Int64List int64_list = 3; } } */
function encodeFeature(e: Encoder, value: unknown, at: ExportRow): Buffer {
  const items: unknown[] = e.json ? [JSON.stringify(value)] : Array.isArray(value) ? value : [value]
  if (items.some((x) => x === null || x === undefined)) throw exportDataError(at, `${e.name}: a list with a null item cannot be a TFRecord feature`, 'export as JSONL or Parquet, or drop the nulls from the list; nothing was written')
  const list = new ProtoWriter()
  if (e.kind === 'bytes') {
    for (const x of items) list.bytes(1, Buffer.from(String(x), 'utf8')) // BytesList { repeated bytes value = 1; }
    return new ProtoWriter().bytes(1, list.toBuffer()).toBuffer()
  }
  if (e.kind === 'float') {
    const packed = Buffer.alloc(4 * items.length) // FloatList { repeated float value = 1 [packed = true]; }
    items.forEach((x, i) => packed.writeFloatLE(Number(x), 4 * i))
    return new ProtoWriter().bytes(2, new ProtoWriter().bytes(1, packed).toBuffer()).toBuffer()
  }
  const ints = new ProtoWriter() // Int64List { repeated int64 value = 1 [packed = true]; }
  for (const x of items) ints.varint(typeof x === 'boolean' ? (x ? 1 : 0) : typeof x === 'string' ? BigInt(x) : BigInt(x as number))
  return new ProtoWriter().bytes(3, new ProtoWriter().bytes(1, ints.toBuffer()).toBuffer()).toBuffer()
}

/** Example { Features features = 1; }  Features { map<string, Feature> feature = 1; } */
function encodeExample(encoders: Encoder[], row: ExportRow): Buffer {
  const features = new ProtoWriter()
  for (const e of encoders) {
    const v = row.example[e.name]
    if (v === undefined || v === null) continue
    // a map entry is a message { string key = 1; Feature value = 2; }
    const entry = new ProtoWriter().bytes(1, Buffer.from(e.name, 'utf8')).bytes(2, encodeFeature(e, v, row)).toBuffer()
    features.bytes(1, entry)
  }
  return new ProtoWriter().bytes(1, features.toBuffer()).toBuffer()
}

/** One record: uint64 length, masked CRC of the length, the data, masked CRC of the data. */
function frame(data: Buffer): Buffer {
  const out = Buffer.alloc(16 + data.length)
  out.writeBigUInt64LE(BigInt(data.length), 0)
  out.writeUInt32LE(maskedCrc32c(out.subarray(0, 8)), 8)
  data.copy(out, 12)
  out.writeUInt32LE(maskedCrc32c(data), 12 + data.length)
  return out
}

// ---- files

interface Shard {
  tmp: string
  fd: number
  hash: Hash
  rows: number
  bytes: number
  final?: string
  name?: string
}

class TfRecordWriter implements ExportWriter {
  private readonly encoders: Encoder[]
  private readonly shards: Shard[] = []

  constructor(private readonly opts: WriterOptions) {
    this.encoders = opts.columns.map((c) => encoderFor(c, opts.schema.get(c)?.type ?? {kind: 'json'}))
  }

  private current(): Shard {
    const last = this.shards.at(-1)
    if (last && !(this.opts.maxRowsPerFile && last.rows >= this.opts.maxRowsPerFile)) return last
    const tmp = `${this.opts.dest}.${this.shards.length}.dsv-tmp-${process.pid}`
    const shard = {tmp, fd: openSync(tmp, 'w'), hash: createHash('sha256'), rows: 0, bytes: 0}
    this.shards.push(shard)
    return shard
  }

  write(row: ExportRow): void {
    const shard = this.current()
    const record = frame(encodeExample(this.encoders, row))
    shard.hash.update(record)
    let off = 0
    while (off < record.length) off += writeSync(shard.fd, record, off)
    shard.bytes += record.length
    shard.rows++
  }

  async finish(): Promise<WrittenFile[]> {
    if (this.shards.length === 0) this.current() // an empty split is still a file
    const n = this.shards.length
    const sharded = this.opts.maxRowsPerFile !== undefined
    const base = (p: string) => p.replace(/\.tfrecord$/, '')
    return this.shards.map((s, i) => {
      closeSync(s.fd)
      const suffix = sharded ? `-${String(i).padStart(5, '0')}-of-${String(n).padStart(5, '0')}.tfrecord` : '.tfrecord'
      s.final = sharded ? `${base(this.opts.dest)}${suffix}` : this.opts.dest
      s.name = sharded ? `${base(this.opts.name)}${suffix}` : this.opts.name
      return {name: s.name, rows: s.rows, bytes: s.bytes, sha256: s.hash.digest('hex')}
    })
  }

  commit(): void {
    for (const s of this.shards) renameSync(s.tmp, s.final!)
  }

  discard(): void {
    for (const s of this.shards) {
      try {
        closeSync(s.fd)
      } catch {
        // closed by finish()
      }
      rmSync(s.tmp, {force: true})
    }
  }
}

export function createWriter(opts: WriterOptions): ExportWriter {
  return new TfRecordWriter(opts)
}
