/**
 * The examples of a committed table, in file order, read synchronously from the packs
 * (each leaf verified against its id): what quality checks and exports iterate over.
 */
import {recordParser} from './example-key.js'
import {decodeLeaf} from './table-nodes.js'
import {readLeafAt, type LeafLocation} from './table-write.js'
import {isBlankRecord, stripTerminator, type TableFormat} from './table-format.js'
import type {PackReader} from './pack.js'

export interface TableSource {
  format: TableFormat
  header: string
  leaves: LeafLocation[]
}

export interface TableExample {
  example: Record<string, unknown>
  /** 1-based line where the example starts (the header line counts) */
  line: number
  /** the record's bytes without its line terminator */
  bytes: Buffer
}

/** `parse: false` yields every example with an empty `example` (for byte-for-byte copies). */
export function* tableExamples(table: TableSource, reader: PackReader, onLeaf?: (bytes: number) => void, parse = true): Generator<TableExample> {
  const parseRecord = recordParser(table.format, table.header)
  const unparsed = {}
  let line = table.header ? 1 : 0
  for (const leaf of table.leaves) {
    const content = readLeafAt(reader, leaf)
    for (const record of decodeLeaf(content)) {
      line++
      if (isBlankRecord(record)) continue
      const example = parse ? parseRecord(record) : unparsed
      if (example) yield {example, line, bytes: stripTerminator(record)}
    }
    onLeaf?.(content.length)
  }
}
