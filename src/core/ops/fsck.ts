/**
 * fsck: re-reads every object reachable from any ref, HEAD or reflog (each read re-hashes
 * it), checks the structure links up (trees, tables, nodes, leaves, chunks), and that
 * every ref names a commit.
 */
import {decodeLeaf} from '../table-nodes.js'
import {objectLinks} from '../object-links.js'
import {decodeJson, type Tree} from '../model.js'
import type {ProgressFn, Repository} from '../repository.js'
import type {Oid} from '../bytes.js'
import type {Link} from '../object-links.js'
import type {Head} from '../refs.js'
import {CorruptObjectError} from '../../errors/index.js'

export interface FsckProblem {
  kind: 'object' | 'ref' | 'pack'
  oid?: Oid
  ref?: string
  /** a pack `--reindex` could not read to the end */
  pack?: string
  /** a damaged object: the file that holds it and the commit where the walk first met it (what to put back to repair it) */
  path?: string
  commit?: Oid
  message: string
}

/** An object to check, and where the walk found it. */
type Found = Link & {commit?: Oid; path?: string}

export interface FsckResult {
  ok: boolean
  objects: number
  problems: FsckProblem[]
  /** worth knowing, not damage (ok stays true): HEAD on a branch that does not exist while commits do */
  warnings: Array<{ref: string; message: string}>
}

export async function fsck(repo: Repository, onProgress?: ProgressFn): Promise<FsckResult> {
  const problems: FsckProblem[] = []
  const seen = new Set<Oid>()
  const warnings: FsckResult['warnings'] = []
  const roots: Array<{oid: Oid; ref: string}> = []
  let head: Head | null = null
  try {
    // a symbolic HEAD's branch is checked below with the other branches (once, even when damaged)
    head = repo.head()
    if (!head.symbolic) roots.push({oid: head.oid, ref: 'HEAD'})
  } catch (error) {
    problems.push({kind: 'ref', ref: 'HEAD', message: (error as Error).message})
  }
  const branches = repo.refs.list('refs/heads')
  for (const prefix of ['refs/tags', 'refs/remotes'] as const) for (const r of repo.refs.list(prefix)) branches.push(r)
  for (const r of branches) roots.push({oid: r.oid, ref: r.ref})
  const broken = repo.refs.takeBroken()
  for (const b of broken) problems.push({kind: 'ref', ref: b.ref, message: b.message})
  for (const oid of repo.refs.reflogOids()) roots.push({oid, ref: 'reflog'})
  // as git notes an unborn branch: log and status would say "no commits yet"
  if (head?.symbolic && !branches.some((r) => r.ref === head.ref) && !broken.some((b) => b.ref === head.ref) && roots.length > 0)
    warnings.push({ref: 'HEAD', message: `points at ${head.ref}, which does not exist, while commits do (\`dsv checkout REV\` moves HEAD to one of them)`})

  const stack: Found[] = []
  for (const r of roots) {
    try {
      const obj = await repo.store.get(r.oid)
      if (obj.kind !== 'commit' && obj.kind !== 'tag') problems.push({kind: 'ref', ref: r.ref, oid: r.oid, message: `points at a ${obj.kind}, not a commit`})
      else stack.push({oid: r.oid})
    } catch (error) {
      problems.push({kind: 'ref', ref: r.ref, oid: r.oid, message: (error as Error).message})
    }
  }
  while (stack.length > 0) {
    const {oid, expect, records, ...at} = stack.pop()!
    if (seen.has(oid)) continue
    seen.add(oid)
    if (seen.size % 1000 === 0) onProgress?.({phase: 'checking objects', loaded: seen.size})
    try {
      const obj = await repo.store.get(oid)
      if (expect && obj.kind !== expect) throw new Error(`expected a ${expect}, found a ${obj.kind}`)
      const links = objectLinks(obj)
      if (obj.kind === 'node') {
        const total = links.reduce((sum, l) => sum + (l.records ?? 0), 0)
        if (records !== undefined && total !== records) throw new Error(`holds ${total} records, its parent says ${records}`)
      } else if (obj.kind === 'leaf') {
        const n = decodeLeaf(obj.content).length
        if (records !== undefined && n !== records) throw new Error(`holds ${n} records, its parent says ${records}`)
      }
      // what is below a commit is in that commit; below a tree entry, in that file or folder
      const commit = obj.kind === 'commit' ? oid : at.commit
      const names = obj.kind === 'tree' ? decodeJson<Tree>(obj.content).entries.map((e) => e.name) : undefined
      for (const [i, l] of links.entries()) {
        if (l.expect === 'commit' || obj.kind === 'tag') stack.push(l) // a commit is its own place
        else stack.push({...l, commit, path: names ? (at.path ? `${at.path}/${names[i]}` : names[i]) : at.path})
      }
    } catch (error) {
      // the problem names the object: its own error need not name it again
      problems.push({kind: 'object', oid, ...(at.path ? {path: at.path} : {}), ...(at.commit ? {commit: at.commit} : {}), message: error instanceof CorruptObjectError && error.oid === oid ? error.reason : (error as Error).message})
    }
  }
  return {ok: problems.length === 0, objects: seen.size, problems, warnings}
}
