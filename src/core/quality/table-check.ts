/**
 * Checking one committed table: its leaves are read from the packs (each verified against
 * its id), split into records, parsed and fed to a `FileCheck`. Synchronous and free of
 * the index database, so it runs the same on a worker thread as in the main thread.
 */
import {recordParser} from '../example-key.js'
import {decodeLeaf} from '../table-nodes.js'
import {readLeafAt, type LeafLocation} from '../table-write.js'
import {isBlankRecord, stripTerminator, type TableFormat} from '../table-format.js'
import {FileCheck, type FileOutcome} from './file-check.js'
import type {FileRules} from './rules.js'
import type {PackReader} from '../pack.js'

export interface TableCheckJob {
  path: string
  rules: FileRules
  format: TableFormat
  header: string
  leaves: LeafLocation[]
  /** bytes of the table, for scheduling and progress */
  size: number
}

export function checkTable(job: TableCheckJob, reader: PackReader, allPaths: Set<string>, collectFailing: boolean, onBytes?: (n: number) => void): FileOutcome {
  const check = new FileCheck(job.path, job.rules, job.format !== 'jsonl', allPaths, collectFailing)
  const parse = recordParser(job.format, job.header)
  let line = job.header ? 1 : 0
  for (const leaf of job.leaves) {
    const content = readLeafAt(reader, leaf)
    for (const record of decodeLeaf(content)) {
      line++
      if (isBlankRecord(record)) continue
      const example = parse(record)
      if (example) check.add(example, line, stripTerminator(record))
    }
    onBytes?.(content.length)
  }
  return check.outcome()
}
