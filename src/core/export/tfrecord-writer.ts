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
import {maskedCrc32c} from './crc32c.js'
import {exportDataError, shardName, TempFileSink, type ExportRow, type ExportWriter, type WriterOptions, type WrittenFile} from './writers.js'
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

// ---- protobuf wire format (only what tf.train.Example needs), sized first, then written
// into one buffer per record

function varintSize(v: number): number {
  let n = 1
  while (v >= 0x80) (v = Math.floor(v / 128)), n++
  return n
}

function putVarint(buf: Buffer, off: number, v: number): number {
  while (v >= 0x80) {
    buf[off++] = (v % 128) | 0x80
    v = Math.floor(v / 128)
  }
  buf[off++] = v
  return off
}

/** int64 as protobuf writes it: two's complement, so a negative value takes ten bytes. */
function int64Bytes(v: number | bigint): number[] {
  if (typeof v === 'number' && v >= 0 && v <= Number.MAX_SAFE_INTEGER) {
    const out: number[] = []
    while (v >= 0x80) (out.push((v % 128) | 0x80), (v = Math.floor(v / 128)))
    out.push(v)
    return out
  }
  let x = BigInt.asUintN(64, BigInt(v))
  const out: number[] = []
  while (x >= 0x80n) (out.push(Number(x & 0x7fn) | 0x80), (x >>= 7n))
  out.push(Number(x))
  return out
}

/** A feature's list message (BytesList, FloatList or Int64List) and its field in Feature. */
interface EncodedFeature {
  key: Buffer
  /** Feature's field: 1 bytes_list, 2 float_list, 3 int64_list */
  field: number
  /** the list message's content */
  items: Buffer[] | Buffer
  listSize: number
  featureSize: number
  entrySize: number
}

/**
 * Feature { oneof kind { BytesList bytes_list = 1; FloatList float_list = 2; Int64List int64_list = 3; } }
 * BytesList { repeated bytes value = 1; }  FloatList / Int64List { repeated ... value = 1 [packed = true]; }
 */
function encodeFeature(e: Encoder, key: Buffer, value: unknown, at: ExportRow): EncodedFeature {
  const items: unknown[] = e.json ? [JSON.stringify(value)] : Array.isArray(value) ? value : [value]
  if (items.some((x) => x === null || x === undefined)) throw exportDataError(at, `${e.name}: a list with a null item cannot be a TFRecord feature`, 'export as JSONL or Parquet, or drop the nulls from the list; nothing was written')
  let field: number
  let content: Buffer[] | Buffer
  let listSize: number
  if (e.kind === 'bytes') {
    field = 1
    content = items.map((x) => Buffer.from(String(x), 'utf8'))
    listSize = content.reduce((s, b) => s + 1 + varintSize(b.length) + b.length, 0)
  } else if (e.kind === 'float') {
    field = 2
    content = Buffer.alloc(4 * items.length)
    items.forEach((x, i) => (content as Buffer).writeFloatLE(Number(x), 4 * i))
    listSize = items.length === 0 ? 0 : 1 + varintSize(content.length) + content.length
  } else {
    field = 3
    const bytes: number[] = []
    for (const x of items) bytes.push(...int64Bytes(typeof x === 'boolean' ? (x ? 1 : 0) : typeof x === 'string' ? BigInt(x) : (x as number)))
    content = Buffer.from(bytes)
    listSize = items.length === 0 ? 0 : 1 + varintSize(content.length) + content.length
  }
  const featureSize = 1 + varintSize(listSize) + listSize
  const entrySize = 1 + varintSize(key.length) + key.length + 1 + varintSize(featureSize) + featureSize
  return {key, field, items: content, listSize, featureSize, entrySize}
}

/**
 * Example { Features features = 1; }  Features { map<string, Feature> feature = 1; },
 * a map entry being { string key = 1; Feature value = 2; }; framed as a TFRecord record:
 * uint64 length, masked CRC of the length, the data, masked CRC of the data.
 */
function encodeRecord(encoders: Encoder[], keys: Buffer[], row: ExportRow): Buffer {
  const features: EncodedFeature[] = []
  encoders.forEach((e, i) => {
    const v = row.example[e.name]
    if (v !== undefined && v !== null) features.push(encodeFeature(e, keys[i], v, row))
  })
  const featuresSize = features.reduce((s, f) => s + 1 + varintSize(f.entrySize) + f.entrySize, 0)
  const dataSize = 1 + varintSize(featuresSize) + featuresSize
  const out = Buffer.allocUnsafe(16 + dataSize)
  let o = 12
  out[o++] = 0x0a
  o = putVarint(out, o, featuresSize)
  for (const f of features) {
    out[o++] = 0x0a
    o = putVarint(out, o, f.entrySize)
    out[o++] = 0x0a // key
    o = putVarint(out, o, f.key.length)
    o += f.key.copy(out, o)
    out[o++] = 0x12 // value: Feature
    o = putVarint(out, o, f.featureSize)
    out[o++] = (f.field << 3) | 2
    o = putVarint(out, o, f.listSize)
    if (Array.isArray(f.items)) {
      for (const b of f.items) {
        out[o++] = 0x0a
        o = putVarint(out, o, b.length)
        o += b.copy(out, o)
      }
    } else if (f.items.length > 0) {
      out[o++] = 0x0a // packed
      o = putVarint(out, o, f.items.length)
      o += f.items.copy(out, o)
    }
  }
  out.writeBigUInt64LE(BigInt(dataSize), 0)
  out.writeUInt32LE(maskedCrc32c(out.subarray(0, 8)), 8)
  out.writeUInt32LE(maskedCrc32c(out.subarray(12, 12 + dataSize)), 12 + dataSize)
  return out
}

// ---- files

interface Shard {
  sink: TempFileSink
  rows: number
  final?: string
  name?: string
}

class TfRecordWriter implements ExportWriter {
  private readonly encoders: Encoder[]
  private readonly keys: Buffer[]
  private readonly shards: Shard[] = []

  constructor(private readonly opts: WriterOptions) {
    this.encoders = opts.columns.map((c) => encoderFor(c, opts.schema.get(c)?.type ?? {kind: 'json'}))
    this.keys = opts.columns.map((c) => Buffer.from(c, 'utf8'))
  }

  private current(): Shard {
    const last = this.shards.at(-1)
    if (last && !(this.opts.maxRowsPerFile && last.rows >= this.opts.maxRowsPerFile)) return last
    const shard: Shard = {sink: new TempFileSink(this.opts.dest, `.${this.shards.length}`), rows: 0}
    this.shards.push(shard)
    return shard
  }

  write(row: ExportRow): void {
    const shard = this.current()
    shard.sink.put(encodeRecord(this.encoders, this.keys, row))
    shard.rows++
  }

  async finish(): Promise<WrittenFile[]> {
    if (this.shards.length === 0) this.current() // an empty split is still a file
    const n = this.shards.length
    const sharded = this.opts.maxRowsPerFile !== undefined
    return this.shards.map((s, i) => {
      const {bytes, sha256} = s.sink.close()
      s.final = sharded ? shardName(this.opts.dest, '.tfrecord', i, n) : this.opts.dest
      s.name = sharded ? shardName(this.opts.name, '.tfrecord', i, n) : this.opts.name
      return {name: s.name, rows: s.rows, bytes, sha256}
    })
  }

  commit(): void {
    for (const s of this.shards) s.sink.moveTo(s.final!)
  }

  discard(): void {
    for (const s of this.shards) s.sink.remove()
  }
}

export function createWriter(opts: WriterOptions): ExportWriter {
  return new TfRecordWriter(opts)
}
