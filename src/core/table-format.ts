/**
 * Data files as sequences of records. A record is the exact bytes of one example,
 * terminator included, so concatenating the records gives the file back byte for byte.
 *
 * - JSONL/NDJSON: one record per line; each non-blank line must be a JSON object.
 * - TSV: one record per line, never quoted (IANA TSV, as Common Voice writes it); the
 *   first line is the header and every row must have as many fields.
 * - CSV: RFC 4180; a record ends at a newline outside double quotes, so quoted fields
 *   may hold newlines; the first record is the header. A quote opens a quoted field only
 *   at the field's start: inside an unquoted field (`5" screen`) it is an ordinary
 *   character, as Python's csv module and csv-parse's relax_quotes read it.
 * Blank lines are kept (for byte-exact restore) but are not examples.
 */
import {isUtf8} from 'node:buffer'
import {createRequire} from 'node:module'
import {InvalidDataError} from '../errors/index.js'
import {isJsonObjectText} from './json-syntax.js'

export type TableFormat = 'jsonl' | 'csv' | 'tsv'

export function tableFormatOf(path: string): TableFormat | null {
  const lower = path.toLowerCase()
  if (lower.endsWith('.jsonl') || lower.endsWith('.ndjson')) return 'jsonl'
  if (lower.endsWith('.csv')) return 'csv'
  if (lower.endsWith('.tsv')) return 'tsv'
  return null
}

const NL = 0x0a
const QUOTE = 0x22
const COMMA = 0x2c

/** True when rec[start, end) holds only whitespace. */
export function isBlankRecord(rec: Buffer, start = 0, end = rec.length): boolean {
  for (let i = start; i < end; i++) {
    const b = rec[i]
    if (b !== 0x20 && b !== 0x09 && b !== 0x0d && b !== 0x0a) return false
  }
  return true
}

/** Where a CSV scan stands: at a field's start, in an unquoted field, in a quoted one, or just after a quote in a quoted one. */
const enum Csv {
  FieldStart,
  Unquoted,
  Quoted,
  QuoteInQuoted,
}

/** The CSV scan's state after byte `b` (the delimiter is a comma). */
function csvStep(state: Csv, b: number): Csv {
  switch (state) {
    case Csv.Quoted:
      return b === QUOTE ? Csv.QuoteInQuoted : Csv.Quoted
    case Csv.QuoteInQuoted: // "" is an escaped quote; anything else closed the quotes
      return b === QUOTE ? Csv.Quoted : b === COMMA || b === NL ? Csv.FieldStart : Csv.Unquoted
    case Csv.FieldStart:
      return b === QUOTE ? Csv.Quoted : b === COMMA || b === NL ? Csv.FieldStart : Csv.Unquoted
    default:
      return b === COMMA || b === NL ? Csv.FieldStart : Csv.Unquoted
  }
}

/** Counts the fields of one record (CSV: commas outside quoted fields; TSV: tabs). */
export function countFields(rec: Buffer, delimiter: number, quoted: boolean): number {
  let fields = 1
  if (!quoted) {
    for (let i = rec.indexOf(delimiter); i >= 0; i = rec.indexOf(delimiter, i + 1)) fields++
    return fields
  }
  let state = Csv.FieldStart
  for (let i = 0; i < rec.length; i++) {
    const b = rec[i]
    state = csvStep(state, b)
    if (b === delimiter && state === Csv.FieldStart) fields++
  }
  return fields
}

/** Whether a CSV record has a quoted field closed by a quote followed by more text (`"say "hi", ok"`): a quote not doubled. */
function hasUndoubledQuote(rec: Buffer): boolean {
  let state = Csv.FieldStart
  for (let i = 0; i < rec.length; i++) {
    const next = csvStep(state, rec[i])
    if (state === Csv.QuoteInQuoted && next === Csv.Unquoted) return true
    state = next
  }
  return false
}

export interface RecordSink {
  header(bytes: Buffer): void
  /** `line` is the 1-based line where the record starts. */
  record(bytes: Buffer, line: number, blank: boolean): void
}

/**
 * Splits a stream of chunks into records, validating each. Feed chunks with `push`,
 * then call `end`. Throws InvalidDataError naming the file and line.
 */
export class RecordSplitter {
  private carry: Buffer | null = null
  /** CSV: where the scan stands, carried from one chunk to the next */
  private csv = Csv.FieldStart
  private line = 1
  private headerFields = -1
  private sawHeader = false
  private readonly delimiter: number

  /**
   * `deferJson`: JSONL records are not parsed here; the caller validates them with
   * `checkJsonRecord` (ingestion does so only for leaves that are not already stored).
   */
  constructor(private readonly format: TableFormat, private readonly file: string, private readonly sink: RecordSink, private readonly deferJson = false) {
    this.delimiter = format === 'csv' ? 0x2c : 0x09
  }

  /**
   * Splits one chunk. Records are views into `chunk` (no copy) except the one that
   * straddles two chunks, so the caller may reuse a chunk's memory once every record
   * from it has been consumed.
   */
  push(chunk: Buffer): void {
    let start = 0
    if (this.carry) {
      // quote state carries over: the carried bytes were already scanned
      const end = this.findRecordEnd(chunk, 0)
      if (end < 0) {
        this.carry = Buffer.concat([this.carry, chunk])
        return
      }
      this.emit(Buffer.concat([this.carry, chunk.subarray(0, end + 1)]))
      this.carry = null
      start = end + 1
    }
    for (;;) {
      const end = this.findRecordEnd(chunk, start)
      if (end < 0) break
      this.emit(chunk.subarray(start, end + 1))
      start = end + 1
    }
    if (start < chunk.length) this.carry = Buffer.from(chunk.subarray(start))
  }

  end(): void {
    if (this.carry && this.carry.length > 0) {
      if (this.csv === Csv.Quoted) throw new InvalidDataError(this.file, this.line, 'a quoted field is never closed')
      this.emit(this.carry)
    }
    this.carry = null
  }

  /** Index of the newline that ends the record starting at the buffer's start, or -1. */
  private findRecordEnd(buf: Buffer, from: number): number {
    if (this.format !== 'csv') return buf.indexOf(NL, from)
    let state = this.csv
    for (let i = from; i < buf.length; i++) {
      const b = buf[i]
      state = csvStep(state, b)
      if (b === NL && state === Csv.FieldStart) {
        this.csv = Csv.FieldStart
        return i
      }
    }
    this.csv = state
    return -1
  }

  private emit(rec: Buffer): void {
    const line = this.line
    let lines = 0
    if (this.format === 'csv') {
      for (let i = rec.indexOf(NL); i >= 0; i = rec.indexOf(NL, i + 1)) lines++
    } else lines = 1
    this.line += lines
    if (!isUtf8(rec)) throw new InvalidDataError(this.file, line, 'invalid UTF-8 (tables must be UTF-8 text)')
    if (this.format === 'jsonl') {
      const blank = isBlankRecord(rec)
      if (!blank && !this.deferJson) checkJsonRecord(rec, this.file, line)
      this.sink.record(rec, line, blank)
      return
    }
    const body = stripTerminator(rec)
    if (!this.sawHeader) {
      this.sawHeader = true
      const bom = body[0] === 0xef && body[1] === 0xbb && body[2] === 0xbf ? 3 : 0 // not part of the first name
      this.headerFields = countFields(body.subarray(bom), this.delimiter, this.format === 'csv')
      this.sink.header(rec)
      return
    }
    const blank = body.length === 0
    if (!blank) {
      const n = countFields(body, this.delimiter, this.format === 'csv')
      if (n !== this.headerFields) {
        const quotes = this.format === 'csv' && hasUndoubledQuote(body) ? ' (in CSV, a quote inside a quoted field is written twice: "")' : ''
        throw new InvalidDataError(this.file, line, `row has ${n} fields but the header has ${this.headerFields}${quotes}`)
      }
    }
    this.sink.record(rec, line, blank)
  }
}

export function stripTerminator(rec: Buffer): Buffer {
  return rec.subarray(0, textEnd(rec, 0, rec.length))
}

/** Where the record rec[start, end) ends without its line terminator (\n or \r\n). */
export function textEnd(rec: Buffer, start: number, end: number): number {
  if (end > start && rec[end - 1] === NL) end--
  if (end > start && rec[end - 1] === 0x0d) end--
  return end
}

export function checkJsonRecord(rec: Buffer, file: string, line: number): void {
  if (isJsonObjectText(rec)) return
  // not a JSON object: JSON.parse says what is wrong
  let value: unknown
  // without its line end, so that the error's quote of the line stays on one line
  const text = stripTerminator(rec).toString('utf8')
  try {
    value = JSON.parse(text)
  } catch (error) {
    if (rec[0] === 0xef && rec[1] === 0xbb && rec[2] === 0xbf)
      throw new InvalidDataError(file, line, 'starts with a UTF-8 byte order mark (BOM), which JSON Lines does not allow: save the file without it')
    if (rec.indexOf(0x0d) >= 0 && rec.indexOf(0x0d) < rec.length - 2)
      throw new InvalidDataError(file, line, 'not valid JSON; the line holds a carriage return (CR) before its end: old Mac line endings? JSON Lines needs LF or CRLF')
    throw new InvalidDataError(file, line, `not valid JSON: ${jsonErrorReason(text, error as Error)}`)
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw new InvalidDataError(file, line, 'expected a JSON object (one example per line)')
}

/**
 * JSON.parse's complaint about `text`, said with a column and what is there: V8 gives
 * either a position ("... in JSON at position 7") or, for an unexpected token, a quote of
 * the text around it with no position; that one is found as the shortest prefix of the
 * text that already fails for a reason other than ending early.
 */
export function jsonErrorReason(text: string, error: Error): string {
  const positioned = /^(.*?) (in|after) JSON at position (\d+)/.exec(error.message)
  const token = /^Unexpected token '(.+?)', /s.exec(error.message)
  let what: string
  let at: number
  if (positioned) [what, at] = [positioned[2] === 'after' ? `${positioned[1]} after the JSON value` : positioned[1], Number(positioned[3])]
  else if (token) [what, at] = [`unexpected ${quoteChar(token[1])}`, firstFailure(text)]
  else return lowerFirst(error.message.split('\n')[0])
  if (at >= text.length) return `${lowerFirst(what)} at the end of the line`
  // a column counts characters, not UTF-16 units
  const column = [...text.slice(0, at)].length + 1
  return `${lowerFirst(what)} at column ${column}${token ? '' : ` (found ${quoteChar(String.fromCodePoint(text.codePointAt(at)!))})`}`
}

/** Where parsing `text` goes wrong: the shortest prefix that fails other than by ending early, less one. */
function firstFailure(text: string): number {
  const failsInside = (n: number): boolean => {
    try {
      JSON.parse(text.slice(0, n))
      return false
    } catch (error) {
      const m = /at position (\d+)/.exec((error as Error).message)
      return m ? Number(m[1]) < n : !/end of JSON input/.test((error as Error).message)
    }
  }
  let [lo, hi] = [1, text.length] // failsInside(hi) holds: the whole text fails
  while (lo < hi) {
    const mid = (lo + hi) >> 1
    if (failsInside(mid)) hi = mid
    else lo = mid + 1
  }
  return lo - 1
}

function quoteChar(c: string): string {
  return /^[\x20-\x7e]$/.test(c) ? `'${c}'` : `U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`
}

function lowerFirst(s: string): string {
  return s.charAt(0).toLowerCase() + s.slice(1)
}

// csv-parse (its CommonJS build) loads with the first CSV line parsed: datasets without
// CSV files, and the processes and workers that never look inside one, start without it
const load = createRequire(import.meta.url)
let csvParse: (typeof import('csv-parse/sync'))['parse'] | undefined

/** The fields of one CSV record (RFC 4180 quoting; `relaxQuotes` also takes a stray quote inside a field). */
export function parseCsvRecord(text: string, relaxQuotes = false): string[] {
  csvParse ??= (load('csv-parse/sync') as typeof import('csv-parse/sync')).parse
  return (csvParse(text, {relax_column_count: true, relax_quotes: relaxQuotes}) as string[][])[0] ?? []
}

/**
 * Column names from a header line (CSV quoting honoured by csv-parse, TSV never quoted).
 * A UTF-8 byte order mark (Excel writes one) is not part of the first name; the file's
 * bytes keep it.
 */
export function splitHeader(line: string, format: TableFormat): string[] {
  if (line.startsWith('\ufeff')) line = line.slice(1)
  if (format === 'tsv') return line.split('\t')
  if (format !== 'csv' || line.length === 0) return []
  return parseCsvRecord(line, true)
}

/**
 * Whether two versions of a CSV/TSV table have the same column names in the same order
 * (a byte order mark, quoting or line ending aside): only then are rows of equal bytes
 * equal examples.
 */
export function sameColumns(a: {format: string; header: string}, b: {format: string; header: string}): boolean {
  const columns = (t: {format: string; header: string}) => splitHeader(stripTerminator(Buffer.from(t.header)).toString('utf8'), t.format as TableFormat)
  return a.format === b.format && JSON.stringify(columns(a)) === JSON.stringify(columns(b))
}
