/**
 * Three-way merge of two histories at the level of files, for pull: each file is taken
 * from the side that changed it since the merge base. A file changed differently on
 * both sides is a conflict and nothing is merged (an example-level merge of such tables
 * is not built yet). Teammates who add or edit different files never conflict.
 */
import {ancestors, readCommit} from './history.js'
import {diffFileMaps} from './tree-diff.js'
import {gitProvenance} from './author.js'
import {buildTree, flattenTree, type FileMap} from '../tree-ops.js'
import {encodeCommit, type Commit, type Person, type TreeEntry} from '../model.js'
import {sameOrBothAbsent, withMode} from '../file-mode.js'
import type {Oid} from '../bytes.js'
import type {Repository} from '../repository.js'

/** The newest commit reachable from both `a` and `b` (null for unrelated histories). */
export async function mergeBase(repo: Repository, a: Oid, b: Oid): Promise<Oid | null> {
  const fromA = await ancestors(repo, a)
  // breadth-first from b: the first commit also reachable from a is the nearest common one
  const seen = new Set<Oid>([b])
  for (let queue = [b]; queue.length > 0; ) {
    const next: Oid[] = []
    for (const id of queue) {
      if (fromA.has(id)) return id
      for (const p of (await readCommit(repo, id)).parents) if (!seen.has(p)) seen.add(p) && next.push(p)
    }
    queue = next
  }
  return null
}

export interface TreeMerge {
  files: FileMap
  /** paths changed differently on both sides */
  conflicts: string[]
}

export async function mergeFiles(repo: Repository, base: Oid | null, ours: Oid, theirs: Oid): Promise<TreeMerge> {
  const tree = async (c: Oid | null) => flattenTree(repo.store, c ? (await readCommit(repo, c)).tree : null)
  const [b, o, t] = [await tree(base), await tree(ours), await tree(theirs)]
  const files: FileMap = new Map()
  const conflicts: string[] = []
  for (const path of [...new Set([...b.keys(), ...o.keys(), ...t.keys()])].sort()) {
    const [was, mine, other] = [b.get(path), o.get(path), t.get(path)]
    const pick = mergeEntry(was, mine, other)
    if (pick === 'conflict') conflicts.push(path)
    else if (pick) files.set(path, pick)
  }
  return {files, conflicts}
}

/**
 * One path's three-way merge, as git does it: content (the object id) and mode (the
 * executable bit) each taken from the side that changed it; both sides changing one of
 * them differently, or one side deleting what the other changed, is a conflict.
 */
function mergeEntry(was: TreeEntry | undefined, mine: TreeEntry | undefined, other: TreeEntry | undefined): TreeEntry | undefined | 'conflict' {
  if (!mine || !other) {
    // a deletion wins only over a side that left the file exactly as it was
    if (sameOrBothAbsent(mine, other)) return mine
    if (sameOrBothAbsent(mine, was)) return other
    if (sameOrBothAbsent(other, was)) return mine
    return 'conflict'
  }
  const pick = <T>(base: T | undefined, a: T, b: T): T | 'conflict' => (a === b ? a : a === base ? b : b === base ? a : 'conflict')
  const content = pick(was?.oid, mine.oid, other.oid)
  const executable = pick(was ? was.executable === true : undefined, mine.executable === true, other.executable === true)
  if (content === 'conflict' || executable === 'conflict') return 'conflict'
  return withMode(content === mine.oid ? mine : other, executable)
}

/** Writes the merge commit (parents: ours, then theirs); the caller moves the branch. */
export async function writeMergeCommit(repo: Repository, ours: Oid, theirs: Oid, files: FileMap, message: string, author: Person): Promise<{id: Oid; tree: Oid}> {
  const tree = await buildTree(repo.store, files)
  const changes = await diffFileMaps(repo, await flattenTree(repo.store, (await readCommit(repo, ours)).tree), files)
  const now = new Date()
  const c: Commit = {
    tree,
    parents: [ours, theirs],
    author,
    timestamp: Math.floor(now.getTime() / 1000),
    tzOffset: -now.getTimezoneOffset(),
    message,
    files: changes.fileCounts,
    examples: changes.examples,
    code: await gitProvenance(repo),
  }
  const id = await repo.store.put('commit', encodeCommit(c))
  await repo.store.flush()
  return {id, tree}
}
