/**
 * Chunking rules: which records end a table's leaves. A leaf ends after a record whose
 * boundary byte has its low 4 bits zero (isLeafBoundary: about 16 records a leaf). The
 * rule belongs to the table (its `chunking` field; absent means 1), and a new version of
 * a table keeps the rule of the version before it, so that its unchanged records fall into
 * the leaves they were in, whichever dsv wrote them; tables new to the repository take
 * the newest rule.
 *   1: the last byte of the record's SHA-256 (tables first committed before 2026-12-03)
 *   2: the low byte of the record's XXH32, seed 0 (as evenly spread; SHA-256 of every
 *      record was a tenth of a commit's time)
 * Equal content gives equal leaves under one rule; nothing reading a table depends on it.
 */
import {hashToString} from './bytes.js'
import {recordsWasm} from './records-wasm.js'

export type ChunkingRule = 1 | 2

export const NEWEST_CHUNKING: ChunkingRule = 2

/** The rule a new version of `table` is chunked with (a rule this dsv does not know: the newest). */
export function chunkingOf(table: {chunking?: number} | null): ChunkingRule {
  if (!table) return NEWEST_CHUNKING
  const rule = table.chunking ?? 1
  return rule === 1 || rule === 2 ? rule : NEWEST_CHUNKING
}

/** The record's boundary byte under `rule`. */
export function boundaryByte(rule: ChunkingRule): (record: Uint8Array) => number {
  return rule === 1 ? (record) => hashToString('sha256', record).charCodeAt(31) : (record) => xxh32(record) & 0xff
}

/** XXH32 (seed 0) of `bytes`, as an unsigned 32-bit number. */
export function xxh32(bytes: Uint8Array): number {
  const wasm = recordsWasm()
  return wasm.exports.xxh32(wasm.place(bytes), bytes.length, 0) >>> 0
}
