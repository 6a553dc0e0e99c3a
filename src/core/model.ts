/**
 * Value objects stored as canonical JSON: trees (directories), tables, commits and
 * annotated tags. Canonical means fixed key order by construction, no whitespace, so
 * equal values always get equal ids.
 */
import type {Oid} from './bytes.js'
import type {TableFormat} from './table-format.js'

export interface TreeEntry {
  name: string
  type: 'table' | 'file' | 'dir'
  oid: Oid
  /** bytes of the file; for a directory, of everything below it */
  size: number
  /** examples in a table */
  examples?: number
  /** the file is executable (see file-mode.ts); absent when it is not */
  executable?: boolean
}

export interface Tree {
  entries: TreeEntry[]
}

export interface Table {
  format: TableFormat
  /** the header line of a CSV/TSV file, terminator included */
  header: string
  /** root of the record tree, null for a table with no records */
  root: Oid | null
  /** height of the root: 0 is a leaf */
  height: number
  records: number
  examples: number
  bytes: number
  /** column names (CSV/TSV) or the first example's fields (JSONL): what key detection looks at */
  fields: string[]
  /** how its records are grouped into leaves (see chunking.ts); absent: rule 1 */
  chunking?: number
}

export interface Person {
  name: string
  email: string
}

export interface ChangeCounts {
  added: number
  removed: number
  modified: number
}

export interface Commit {
  tree: Oid
  parents: Oid[]
  author: Person
  /** seconds since the epoch */
  timestamp: number
  /** minutes east of UTC */
  tzOffset: number
  message: string
  files: ChangeCounts
  examples: ChangeCounts
  /** the enclosing git repository's HEAD when the commit was made (code provenance) */
  code: {gitCommit: string} | null
  /** the quality check of this version, when the dataset has a rules file (absent otherwise) */
  quality?: QualitySummary
}

export interface QualitySummary {
  /** overall score 0..100 */
  overall: number
  passed: boolean
  examples: number
  /** each dataset check's score 0..100 */
  checks: Record<string, number>
  tiers: {gold: number; silver: number; bronze: number; rejected: number}
  silverOrBetter: number
}

export interface AnnotatedTag {
  object: Oid
  tag: string
  tagger: Person
  timestamp: number
  tzOffset: number
  message: string
}

export function encodeTree(tree: Tree): Buffer {
  const entries = [...tree.entries].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
  return Buffer.from(JSON.stringify({entries: entries.map((e) => ({name: e.name, type: e.type, oid: e.oid, size: e.size, ...(e.examples === undefined ? {} : {examples: e.examples}), ...(e.executable === true ? {executable: true} : {})}))}))
}

export function encodeTable(t: Table): Buffer {
  // rule 1 is left out: tables written before rules existed keep their ids
  const chunking = t.chunking !== undefined && t.chunking !== 1 ? {chunking: t.chunking} : {}
  return Buffer.from(JSON.stringify({format: t.format, header: t.header, root: t.root, height: t.height, records: t.records, examples: t.examples, bytes: t.bytes, fields: t.fields, ...chunking}))
}

export function encodeCommit(c: Commit): Buffer {
  return Buffer.from(JSON.stringify({tree: c.tree, parents: c.parents, author: {name: c.author.name, email: c.author.email}, timestamp: c.timestamp, tzOffset: c.tzOffset, message: c.message, files: counts(c.files), examples: counts(c.examples), code: c.code, ...(c.quality ? {quality: c.quality} : {})}))
}

export function encodeTag(t: AnnotatedTag): Buffer {
  return Buffer.from(JSON.stringify({object: t.object, tag: t.tag, tagger: {name: t.tagger.name, email: t.tagger.email}, timestamp: t.timestamp, tzOffset: t.tzOffset, message: t.message}))
}

function counts(c: ChangeCounts): ChangeCounts {
  return {added: c.added, removed: c.removed, modified: c.modified}
}

export function decodeJson<T>(content: Buffer): T {
  return JSON.parse(content.toString('utf8')) as T
}

export function formatDate(timestamp: number, tzOffset: number): string {
  const local = new Date((timestamp + tzOffset * 60) * 1000).toISOString().slice(0, 19)
  const sign = tzOffset >= 0 ? '+' : '-'
  const abs = Math.abs(tzOffset)
  return `${local}${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`
}
