/**
 * An example's identity across versions: its key fields. Configured per file pattern
 * (`dsv config keys.<pattern> field[,field]`, gitignore-style patterns); otherwise the
 * first of `id`, `example_id`, `uuid` present, `path` for Common Voice clip tables, or
 * none (keyless: identity by content, edits paired by position).
 */
import ignore from 'ignore'
import {parseCsvRecord, splitHeader, stripTerminator, type TableFormat} from './table-format.js'

const AUTO_KEYS = ['id', 'example_id', 'uuid']

/**
 * The key of a file whose two versions are compared: the new version's, or when it has
 * none, the old one's. A file emptied, or one whose new first record lacks the key, keeps
 * the key its other version has (else its examples could not be matched, and examples
 * moved out of an emptied file would not show as moves).
 */
export function chooseKeyOfVersions(path: string, after: string[] | undefined, before: string[] | undefined, configured: Record<string, string>): string[] | null {
  return chooseKey(path, after ?? [], configured) ?? chooseKey(path, before ?? [], configured)
}

export function chooseKey(path: string, fields: string[], configured: Record<string, string>): string[] | null {
  for (const [pattern, value] of Object.entries(configured)) {
    if (ignore().add(pattern).ignores(path)) {
      const key = value.split(',').map((s) => s.trim()).filter(Boolean)
      return key.length > 0 ? key : null
    }
  }
  for (const k of AUTO_KEYS) if (fields.includes(k)) return [k]
  if (fields.includes('path') && fields.includes('client_id')) return ['path']
  return null
}

/** Parses one record into a field map (top-level fields; nested values stay nested). */
export function parseRecord(rec: Buffer, format: TableFormat, header: string): Record<string, unknown> | null {
  return recordParser(format, header)(rec)
}

/**
 * `parseRecord` for many records of one table: the header is split once. `exactIntegers`
 * (keys and diffs): a JSON integer too large for a double (snowflake ids) becomes the
 * string of its digits, so distinct ids stay distinct.
 */
export function recordParser(format: TableFormat, header: string, exactIntegers = false): (rec: Buffer) => Record<string, unknown> | null {
  if (format === 'jsonl') {
    const parse = exactIntegers ? parseJsonExactIntegers : JSON.parse
    return (rec) => {
      const text = stripTerminator(rec).toString('utf8')
      return text.trim() === '' ? null : (parse(text) as Record<string, unknown>)
    }
  }
  const columns = distinctNames(splitHeader(stripTerminator(Buffer.from(header)).toString('utf8'), format))
  return (rec) => {
    const text = stripTerminator(rec).toString('utf8')
    if (text.trim() === '') return null
    const values = format === 'tsv' ? text.split('\t') : parseCsvRecord(text, true)
    const out: Record<string, unknown> = {}
    columns.forEach((c, i) => {
      // a column named __proto__ would set the prototype: define it, as JSON.parse does
      if (c === '__proto__') Object.defineProperty(out, c, {value: values[i] ?? '', enumerable: true, writable: true, configurable: true})
      else out[c] = values[i] ?? ''
    })
    return out
  }
}

/**
 * Column names made distinct: a repeated name gets `#2`, `#3`, ... (`a`, `a#2`), so a
 * header that names a column twice keeps both cells as fields (one overwrote the other,
 * and a change to it was "formatting only").
 */
export function distinctNames(columns: string[]): string[] {
  const taken = new Set<string>()
  return columns.map((c) => {
    let name = c
    for (let n = 2; taken.has(name); n++) name = `${c}#${n}`
    taken.add(name)
    return name
  })
}

const splitPaths = new Map<string, string[]>()

/**
 * The value at a dotted path (`expected_output.tier`), or undefined. Own fields only: an
 * example without a `constructor` field has none, whatever its prototype holds.
 */
export function getPath(obj: Record<string, unknown>, path: string): unknown {
  if (!path.includes('.')) return Object.hasOwn(obj, path) ? obj[path] : undefined
  let parts = splitPaths.get(path)
  if (!parts) splitPaths.set(path, (parts = path.split('.')))
  let cur: unknown = obj
  for (const part of parts) {
    if (cur === null || typeof cur !== 'object' || !Object.hasOwn(cur, part)) return undefined
    cur = (cur as Record<string, unknown>)[part]
  }
  return cur
}

/** The key of a parsed example as a string, or null when a key field is missing. */
export function keyOf(example: Record<string, unknown>, key: string[]): string | null {
  const parts: unknown[] = []
  for (const k of key) {
    const v = getPath(example, k)
    if (v === undefined || v === null || v === '') return null
    parts.push(v)
  }
  return parts.length === 1 ? (typeof parts[0] === 'string' ? parts[0] : JSON.stringify(parts[0])) : JSON.stringify(parts)
}

/** 16 or more digits in a row, not after a decimal point or digit: an integer that may not fit a double exactly (a float's long fraction, as in embeddings, is not one). */
const LONG_DIGITS = /(?<![.\d])\d{16}/

/** JSON.parse, except that integers beyond 2^53 come back as strings of their exact digits. */
export function parseJsonExactIntegers(text: string): unknown {
  if (!LONG_DIGITS.test(text)) return JSON.parse(text)
  let out = ''
  let from = 0
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (c === 0x22) {
      // skip the string, escapes included
      for (i++; i < text.length && text.charCodeAt(i) !== 0x22; i++) if (text.charCodeAt(i) === 0x5c) i++
    } else if (c === 0x2d || (c >= 0x30 && c <= 0x39)) {
      let end = i + 1
      while (end < text.length && isNumberChar(text.charCodeAt(end))) end++
      const token = text.slice(i, end)
      if (/^-?\d{16,}$/.test(token) && !Number.isSafeInteger(Number(token))) {
        out += `${text.slice(from, i)}"${token}"`
        from = end
      }
      i = end - 1
    }
  }
  return JSON.parse(out + text.slice(from))
}

/** A character of a JSON number after its first: a digit, `.`, `e`/`E`, `+` or `-`. */
function isNumberChar(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || c === 0x2e || c === 0x65 || c === 0x45 || c === 0x2b || c === 0x2d
}
