/**
 * Parquet output of `dsv export`, written with hyparquet-writer (pure JavaScript).
 *
 * The schema inferred in the first pass becomes the Parquet schema: bool BOOLEAN, int
 * INT64, float DOUBLE, string UTF8, objects groups (structs), arrays 3-level LISTs; a field
 * whose values disagree (`json`) is UTF8 holding the value as JSON text, and a field that
 * is only ever null is an all-null UTF8 column. Fields absent or null in some row are
 * OPTIONAL. Rows are buffered one row group at a time and each group is written to the
 * temp file as soon as it is full, so memory does not grow with the export. Files carry
 * no timestamp or random id: the same rows give the same bytes.
 */
import {closeSync, openSync, readdirSync, renameSync, rmSync, writeSync} from 'node:fs'
import {createHash, type Hash} from 'node:crypto'
import {basename, dirname, join} from 'node:path'
import {ByteWriter, ParquetWriter, type SchemaElement} from 'hyparquet-writer'
import {DsvError} from '../../errors/index.js'
import {shardName, type ExportRow, type ExportWriter, type WriterOptions, type WrittenFile} from './writers.js'
import type {Field, FieldType} from './schema.js'

/** a row group ends at this many rows, or earlier at this many source bytes */
const GROUP_ROWS = 10_000
const GROUP_BYTES = 64 << 20
/** the encoder's buffer goes to the file past this size (it may then hold one value more) */
const FLUSH_AT = 1 << 20
/** written into every file's footer instead of the library's name and version */
const CREATED_BY = 'dsv'

export function createWriter(opts: WriterOptions): ExportWriter {
  return new ParquetExportWriter(opts)
}

/** A top-level field with the type it is written as (see parquetType). */
type Column = {name: string; type: FieldType; nullable: boolean}

export class ParquetExportWriter implements ExportWriter {
  private readonly columns: Column[]
  private readonly schema: SchemaElement[]
  private readonly shards: Array<{tmp: string; rows: number; bytes: number; sha256: string}> = []
  private file: ShardFile | null = null
  private group: unknown[][] = []
  private groupRows = 0
  private groupBytes = 0
  private fileRows = 0

  /** `shardNames`: name the files `base-00000-of-0000N.parquet` even when not cut (the Hugging Face layout) */
  constructor(private readonly opts: WriterOptions, private readonly shardNames = Boolean(opts.maxRowsPerFile)) {
    this.columns = [...opts.schema].map(([name, f]) => ({name, type: parquetType(f.type), nullable: f.nullable}))
    this.schema = [{name: 'schema', num_children: this.columns.length}, ...this.columns.flatMap((c) => schemaOf(c.name, c.type, c.nullable))]
    this.group = this.columns.map(() => [])
  }

  write(row: ExportRow): void {
    if (!this.file) this.file = this.open()
    this.columns.forEach((c, i) => this.group[i].push(toParquet(row.example[c.name], c.type)))
    this.groupRows++
    this.groupBytes += row.bytes.length
    this.fileRows++
    if (this.groupRows >= GROUP_ROWS || this.groupBytes >= GROUP_BYTES) this.flushGroup()
    if (this.opts.maxRowsPerFile && this.fileRows >= this.opts.maxRowsPerFile) this.close()
  }

  async finish(): Promise<WrittenFile[]> {
    // only when no example matched: Parquet readers refuse a file without columns
    if (this.columns.length === 0) throw new DsvError('E_USAGE', 'no example to export: a Parquet file needs at least one column', {}, 'check --files and --where')
    // an export with no rows still writes one (empty) file, so every split has its file
    if (this.file || this.shards.length === 0) this.close()
    const n = this.shards.length
    return this.shards.map((s, k) => ({name: this.finalName(this.opts.name, k, n), rows: s.rows, bytes: s.bytes, sha256: s.sha256}))
  }

  commit(): void {
    const n = this.shards.length
    this.shards.forEach((s, k) => renameSync(s.tmp, this.finalName(this.opts.dest, k, n)))
    if (this.shardNames) this.removeStaleShards(n)
  }

  discard(): void {
    this.file?.abort()
    for (const s of this.shards) rmSync(s.tmp, {force: true})
  }

  /** Without shards the file is `dest`; with them, `base-00000-of-0000N.parquet`. */
  private finalName(path: string, k: number, n: number): string {
    return this.shardNames ? shardName(path, '.parquet', k, n) : path
  }

  /**
   * Shards of an earlier export into the same folder (`--force`) with another shard count
   * would be read with the new ones by a glob (`train-*.parquet`): they go.
   */
  removeStaleShards(n: number): void {
    const base = basename(this.opts.dest).replace(/\.parquet$/, '')
    const mine = new Set(this.shards.map((_, k) => basename(this.finalName(this.opts.dest, k, n))))
    const shard = new RegExp(`^${base.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}-\\d{5,}-of-\\d{5,}\\.parquet$`)
    for (const f of readdirSync(dirname(this.opts.dest))) if (shard.test(f) && !mine.has(f)) rmSync(join(dirname(this.opts.dest), f), {force: true})
  }

  private open(): ShardFile {
    // shards are numbered only once all are written: until then, temp names by position
    const tmp = `${this.opts.dest}.${this.shards.length}.dsv-tmp-${process.pid}`
    return new ShardFile(tmp, this.schema)
  }

  private flushGroup(): void {
    if (this.groupRows === 0) return
    this.file!.writeGroup(this.columns.map((c, i) => ({name: c.name, data: this.group[i]})), this.groupRows)
    this.group = this.columns.map(() => [])
    this.groupRows = 0
    this.groupBytes = 0
  }

  private close(): void {
    if (!this.file) this.file = this.open()
    this.flushGroup()
    this.shards.push({tmp: this.file.tmp, rows: this.fileRows, ...this.file.close()})
    this.file = null
    this.fileRows = 0
  }
}

/** One Parquet file being written: the encoder's bytes go to a temp file and a running hash. */
class ShardFile {
  private readonly fd: number
  private readonly out: ByteWriter
  private readonly parquet: ParquetWriter
  private readonly hash: Hash = createHash('sha256')
  private closed = false

  constructor(readonly tmp: string, schema: SchemaElement[]) {
    this.fd = openSync(tmp, 'w')
    const out = new ByteWriter()
    // the library's Writer: every byte it appends passes through `ensure`, so flushing
    // there keeps its buffer small; offsets it records are absolute (`out.offset`)
    const grow = out.ensure.bind(out)
    out.ensure = (size: number) => {
      if (out.index > FLUSH_AT) this.drain()
      grow(size)
    }
    ;(out as {flush?: () => void}).flush = () => this.drain()
    out.finish = () => this.drain()
    this.out = out
    this.parquet = new ParquetWriter({writer: out, schema, createdBy: CREATED_BY})
  }

  writeGroup(columnData: Array<{name: string; data: unknown[]}>, rows: number): void {
    // one call, one row group: the row count is the group size
    void this.parquet.write({columnData: columnData as never, rowGroupSize: rows})
  }

  close(): {bytes: number; sha256: string} {
    void this.parquet.finish()
    closeSync(this.fd)
    this.closed = true
    return {bytes: this.out.offset, sha256: this.hash.digest('hex')}
  }

  abort(): void {
    if (!this.closed) closeSync(this.fd)
    this.closed = true
    rmSync(this.tmp, {force: true})
  }

  private drain(): void {
    const chunk = new Uint8Array(this.out.buffer, 0, this.out.index)
    this.hash.update(chunk)
    let off = 0
    while (off < chunk.length) off += writeSync(this.fd, chunk, off)
    this.out.index = 0
  }
}

/** Types Parquet cannot hold as they are: an empty struct or a list of nothing but nulls is JSON text. */
function parquetType(t: FieldType): FieldType {
  if (t.kind === 'struct') {
    if (t.fields.size === 0) return {kind: 'json'}
    return {kind: 'struct', fields: new Map([...t.fields].map(([k, f]): [string, Field] => [k, {type: parquetType(f.type), nullable: f.nullable}]))}
  }
  if (t.kind === 'list') return {kind: 'list', item: t.item.kind === 'null' ? {kind: 'json'} : parquetType(t.item)}
  return t
}

/** The schema elements of one field, depth first, as Parquet's flattened schema lists them. */
function schemaOf(name: string, t: FieldType, nullable: boolean): SchemaElement[] {
  const repetition_type = nullable ? 'OPTIONAL' : 'REQUIRED'
  switch (t.kind) {
    case 'bool':
      return [{name, repetition_type, type: 'BOOLEAN'}]
    case 'int':
      return [{name, repetition_type, type: 'INT64'}]
    case 'float':
      return [{name, repetition_type, type: 'DOUBLE'}]
    case 'struct':
      return [{name, repetition_type, num_children: t.fields.size}, ...[...t.fields].flatMap(([k, f]) => schemaOf(k, f.type, f.nullable))]
    case 'list':
      // the standard 3-level list; items may be null (the schema does not track that)
      return [
        {name, repetition_type, converted_type: 'LIST', num_children: 1},
        {name: 'list', repetition_type: 'REPEATED', num_children: 1},
        ...schemaOf('element', t.item, true),
      ]
    default:
      // string, json, null: UTF8 text (json and null as JSON text, null as a null value)
      return [{name, repetition_type, type: 'BYTE_ARRAY', converted_type: 'UTF8'}]
  }
}

/** A JSON value as the writer takes it for a field of type `t`. */
function toParquet(v: unknown, t: FieldType): unknown {
  if (v === null || v === undefined) return null
  switch (t.kind) {
    case 'int':
      return BigInt(v as number)
    case 'struct': {
      const o = v as Record<string, unknown>
      const out: Record<string, unknown> = {}
      for (const [k, f] of t.fields) out[k] = toParquet(o[k], f.type)
      return out
    }
    case 'list':
      return (v as unknown[]).map((x) => toParquet(x, t.item))
    case 'json':
    case 'null':
      return JSON.stringify(v)
    default:
      return v
  }
}
