/**
 * Checking one committed table: its examples, read from the packs, fed to a `FileCheck`.
 * Synchronous and free of the index database, so it runs the same on a worker thread as
 * in the main thread.
 */
import {tableExamples, type TableSource} from '../table-examples.js'
import {FileCheck, type FileOutcome} from './file-check.js'
import type {FileRules} from './rules.js'
import type {PackReader} from '../pack.js'

export interface TableCheckJob extends TableSource {
  path: string
  rules: FileRules
  /** bytes of the table, for scheduling and progress */
  size: number
}

export function checkTable(job: TableCheckJob, reader: PackReader, allPaths: Set<string>, collectFailing: boolean, onBytes?: (n: number) => void): FileOutcome {
  const check = new FileCheck(job.path, job.rules, job.format !== 'jsonl', allPaths, collectFailing)
  for (const {example, line, bytes} of tableExamples(job, reader, onBytes)) check.add(example, line, bytes)
  return check.outcome()
}
