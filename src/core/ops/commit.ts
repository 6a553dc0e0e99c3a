/** Recording a snapshot as a commit on the current branch (or detached HEAD). */
import {snapshot} from './snapshot.js'
import {diffFileMaps, type KnownChanges, type TreeChanges} from './tree-diff.js'
import {headTree, readCommit} from './history.js'
import {gitProvenance, resolveAuthor} from './author.js'
import {flattenTree, type FileMap} from '../tree-ops.js'
import {encodeCommit, type Commit, type QualitySummary} from '../model.js'
import {RULES_FILES} from '../quality/rules-files.js'
import type {QualityReport} from '../quality/report.js'
import {DsvError} from '../../errors/index.js'
import type {ProgressFn, Repository} from '../repository.js'
import type {Oid} from '../bytes.js'

export interface CommitOptions {
  message: string
  author?: string
  allowEmpty?: boolean
  /** skip the quality check (and the gate) of the rules file, as git's --no-verify */
  noVerify?: boolean
  onProgress?: ProgressFn
}

export interface CommitResult {
  id: Oid
  branch: string | null
  parents: Oid[]
  tree: Oid
  files: TreeChanges['fileCounts']
  examples: TreeChanges['examples']
  changes: TreeChanges['files']
  /** the recorded quality summary (when the dataset has a rules file and it was run) */
  quality?: QualitySummary
}

/** A commit records a message: refused before anything is done when it is empty or blank. */
export function checkMessage(message: string): void {
  if (!message.trim()) throw new DsvError('E_USAGE', 'empty commit message', {}, 'pass -m "what changed and why"')
}

export async function commit(repo: Repository, opts: CommitOptions): Promise<CommitResult> {
  checkMessage(opts.message)
  return repo.locked(async () => {
    const author = await resolveAuthor(repo, opts.author)
    const snap = await snapshot(repo, opts.onProgress).catch((error: unknown) => {
      // (a worker's error arrives as a plain DsvError: the code says what it is)
      if (error instanceof DsvError && error.code === 'E_INVALID_DATA' && error.hint)
        throw new DsvError(error.code, error.message, error.data, `${error.hint}; nothing was written`)
      throw error
    })
    const unchanged = snap.tree === (await headTree(repo)) && !opts.allowEmpty
    const quality = opts.noVerify || unchanged ? undefined : await qualityGate(repo, snap.files, opts.onProgress)
    return recordCommit(repo, snap.tree, opts.message, author, opts.allowEmpty ?? false, opts.onProgress, quality, snap.changes)
  })
}

/**
 * Runs the rules file's checks on what is about to be committed. A failing check stops
 * the commit when the rules ask for a gate; otherwise the result is only recorded.
 */
async function qualityGate(repo: Repository, files: FileMap, onProgress?: ProgressFn): Promise<QualitySummary | undefined> {
  if (!RULES_FILES.some((name) => files.has(name))) return undefined
  // the quality system (ajv, yaml) is loaded only for datasets that have rules
  const {checkFiles, loadRules, summarise} = await import('./quality.js')
  const {failedChecks} = await import('../quality/report.js')
  const rules = await loadRules(repo, files, true)
  if (rules.files.length === 0) return undefined
  const report = await checkFiles(repo, files, rules, {onProgress})
  if (rules.gate && !report.passed) throw new QualityGateError(report, failedChecks(report))
  return summarise(report)
}

export class QualityGateError extends DsvError {
  constructor(readonly report: QualityReport, failed: string[]) {
    super('E_QUALITY_FAILED', `quality gate: ${failed.join(', ')}; nothing was committed`, {report},
      'fix the examples listed above (see `dsv quality check`), or commit anyway with --no-verify')
    this.name = 'QualityGateError'
  }
}

/** Writes a commit of `tree` on top of HEAD and moves the branch by compare-and-swap. */
/** `known`: example counts of tables already worked out (the snapshot's, see tree-diff.ts). */
export async function recordCommit(repo: Repository, tree: Oid, message: string, author: Commit['author'], allowEmpty: boolean, onProgress?: ProgressFn, quality?: QualitySummary, known?: KnownChanges): Promise<CommitResult> {
  const parent = repo.headCommit()
  const parentTree = await headTree(repo)
  if (tree === parentTree && !allowEmpty)
    throw new DsvError('E_NOTHING_TO_COMMIT', 'nothing to commit, working tree clean', {}, 'change some files first, or pass --allow-empty')
  // read while the comparison runs (loading isomorphic-git takes a while)
  const code = gitProvenance(repo)
  code.catch(() => {}) // awaited below; a failure must not go unhandled meanwhile
  onProgress?.({phase: 'comparing with HEAD', loaded: 0})
  const changes = await diffFileMaps(repo, await flattenTree(repo.store, parentTree), await flattenTree(repo.store, tree), false, known)
  if (parent === null && changes.files.length === 0 && !allowEmpty)
    throw new DsvError('E_NOTHING_TO_COMMIT', 'nothing to commit: the working directory has no files to version', {}, 'add dataset files first')
  const now = new Date()
  const c: Commit = {
    tree,
    parents: parent ? [parent] : [],
    author,
    timestamp: Math.floor(now.getTime() / 1000),
    tzOffset: -now.getTimezoneOffset(),
    message: message.trim(),
    files: changes.fileCounts,
    examples: changes.examples,
    code: await code,
    ...(quality ? {quality} : {}),
  }
  const id = await repo.store.put('commit', encodeCommit(c))
  await repo.store.flush()
  const head = repo.head()
  const summary = message.trim().split('\n')[0]
  if (head.symbolic) repo.refs.update(head.ref, parent, id, `commit${parent ? '' : ' (initial)'}: ${summary}`)
  else repo.refs.setHead({symbolic: false, oid: id}, `commit (detached): ${summary}`)
  return {id, branch: repo.currentBranch(), parents: c.parents, tree, files: changes.fileCounts, examples: changes.examples, changes: changes.files, ...(quality ? {quality} : {})}
}

export async function commitTree(repo: Repository, commitOid: Oid): Promise<Oid> {
  return (await readCommit(repo, commitOid)).tree
}
