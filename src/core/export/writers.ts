/**
 * Output formats of `dsv export` that are text: JSONL, JSON, CSV and TSV. Each writer
 * streams rows into a temp file next to its destination, hashing what it writes; the
 * export renames every file into place only when all of them are complete.
 *
 * Rows keep their source bytes when the format allows it (a JSONL record into JSONL or
 * JSON, a TSV row into a TSV with the same columns), so numbers keep their spelling and
 * a Common Voice table round-trips unchanged. Otherwise nested values become JSON text
 * in CSV/TSV cells, and CSV/TSV cells become strings in JSON.
 */
import {closeSync, openSync, renameSync, rmSync, writeSync} from 'node:fs'
import {createHash, type Hash} from 'node:crypto'
import {stringify} from 'csv-stringify/sync'
import {DsvError} from '../../errors/index.js'
import type {TableFormat} from '../table-format.js'
import type {Field} from './schema.js'

export const TEXT_FORMATS = ['jsonl', 'json', 'csv', 'tsv'] as const
export type TextFormat = (typeof TEXT_FORMATS)[number]

export interface ExportRow {
  example: Record<string, unknown>
  /** the record's source bytes (no terminator) and their format */
  bytes: Buffer
  format: TableFormat
  /** the source table's header line (CSV/TSV), without its terminator */
  header: string
  path: string
  line: number
}

export interface WrittenFile {
  /** path relative to the output (a file name, or `train.jsonl` in a folder) */
  name: string
  rows: number
  bytes: number
  sha256: string
}

/**
 * One output stream of an export (a file, or a split's shards). Writers put everything
 * under temp names; `commit` moves the files into place, `discard` removes them.
 */
export interface ExportWriter {
  write(row: ExportRow): void
  /** completes the temp files; what they will be once committed */
  finish(): Promise<WrittenFile[]>
  commit(): void
  discard(): void
}

export interface WriterOptions {
  /** the file to write, or for sharded formats the folder and the base name of the shards */
  dest: string
  /** `dest` relative to the export's output (what the manifest lists) */
  name: string
  /** top-level fields in first-seen order (the CSV/TSV header) */
  columns: string[]
  /** the inferred shape of every field (typed formats) */
  schema: Map<string, Field>
  /** shard after this many rows (formats that shard) */
  maxRowsPerFile?: number
}

const FLUSH_AT = 1 << 20

/** The k-th of n shards of `path` (`train.parquet` → `train-00002-of-00005.parquet`), as Hugging Face names them. */
export function shardName(path: string, ext: string, k: number, n: number): string {
  const width = Math.max(5, String(n).length)
  const stem = path.endsWith(ext) ? path.slice(0, -ext.length) : path
  return `${stem}-${String(k).padStart(width, '0')}-of-${String(n).padStart(width, '0')}${ext}`
}

/**
 * A temp file beside its destination that hashes what is written and batches small writes
 * into 1 MiB ones; `close` completes it, `moveTo` puts it in place, `remove` deletes it.
 */
export class TempFileSink {
  readonly tmp: string
  private readonly fd: number
  private readonly hash: Hash = createHash('sha256')
  private pending: Buffer[] = []
  private pendingBytes = 0
  private open = true
  bytes = 0

  constructor(near: string, tag = '') {
    this.tmp = `${near}${tag}.dsv-tmp-${process.pid}`
    this.fd = openSync(this.tmp, 'w')
  }

  put(data: Buffer | string): void {
    const b = typeof data === 'string' ? Buffer.from(data) : data
    this.pending.push(b)
    this.pendingBytes += b.length
    if (this.pendingBytes >= FLUSH_AT) this.flush()
  }

  /** Writes what is pending, closes the file; its size and SHA-256. */
  close(): {bytes: number; sha256: string} {
    this.flush()
    closeSync(this.fd)
    this.open = false
    return {bytes: this.bytes, sha256: this.hash.digest('hex')}
  }

  moveTo(dest: string): void {
    renameSync(this.tmp, dest)
  }

  remove(): void {
    if (this.open) closeSync(this.fd)
    this.open = false
    rmSync(this.tmp, {force: true})
  }

  private flush(): void {
    if (this.pendingBytes === 0) return
    const all = Buffer.concat(this.pending, this.pendingBytes)
    this.hash.update(all)
    let off = 0
    while (off < all.length) off += writeSync(this.fd, all, off)
    this.bytes += all.length
    this.pending = []
    this.pendingBytes = 0
  }
}

export class RowWriter implements ExportWriter {
  private readonly sink: TempFileSink
  rows = 0

  /** `columns`: the CSV/TSV header (ignored for JSON formats). */
  constructor(readonly dest: string, readonly name: string, private readonly format: TextFormat, private readonly columns: string[]) {
    this.sink = new TempFileSink(dest)
    if (format === 'json') this.put('[')
    if (format === 'csv') this.put(stringify([columns], {record_delimiter: 'unix'}))
    if (format === 'tsv') this.put(`${columns.map((c) => tsvCell(c, {path: '(header)', line: 0})).join('\t')}\n`)
  }

  write(row: ExportRow): void {
    switch (this.format) {
      case 'jsonl':
        this.put(row.format === 'jsonl' ? row.bytes : Buffer.from(JSON.stringify(row.example)))
        this.put('\n')
        break
      case 'json':
        this.put(this.rows === 0 ? '\n' : ',\n')
        this.put(row.format === 'jsonl' ? row.bytes : Buffer.from(JSON.stringify(row.example)))
        break
      case 'csv':
        this.put(stringify([this.columns.map((c) => cellText(row.example[c]))], {record_delimiter: 'unix'}))
        break
      case 'tsv':
        // a TSV row with the same columns is copied as it is: Common Voice tables round-trip
        if (row.format === 'tsv' && row.header === this.columns.join('\t')) this.put(row.bytes)
        else this.put(this.columns.map((c) => tsvCell(cellText(row.example[c]), row)).join('\t'))
        this.put('\n')
        break
    }
    this.rows++
  }

  /** Completes the temp file; `commit` then moves it into place. */
  async finish(): Promise<WrittenFile[]> {
    if (this.format === 'json') this.put(this.rows === 0 ? ']\n' : '\n]\n')
    return [{name: this.name, rows: this.rows, ...this.sink.close()}]
  }

  commit(): void {
    this.sink.moveTo(this.dest)
  }

  discard(): void {
    this.sink.remove()
  }

  private put(data: Buffer | string): void {
    this.sink.put(data)
  }
}

/** A field as CSV/TSV cell text: strings as they are, nested values as JSON, null as empty. */
function cellText(v: unknown): string {
  if (v === undefined || v === null) return ''
  if (typeof v === 'string') return v
  return JSON.stringify(v)
}

/** TSV is never quoted (as Common Voice writes it): a tab or line break cannot be kept. */
function tsvCell(text: string, at: {path: string; line: number}): string {
  if (/[\t\r\n]/.test(text)) throw exportDataError(at, 'a value holds a tab or a line break, which unquoted TSV cannot represent', 'export as CSV, JSON or JSONL, which can hold it; nothing was written')
  return text
}

/** An example the format cannot hold: where it is, what is wrong, what to do instead. */
export function exportDataError(at: {path: string; line: number}, reason: string, hint: string): DsvError {
  return new DsvError('E_INVALID_DATA', `${at.path}:${at.line}: ${reason}`, {file: at.path, line: at.line, reason}, hint)
}
