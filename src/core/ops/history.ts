/** Reading history: commits, the HEAD tree, log walks and tags by target. */
import {decodeJson, formatDate, type AnnotatedTag, type Commit, type QualitySummary} from '../model.js'
import type {Repository} from '../repository.js'
import type {Oid} from '../bytes.js'

export async function readCommit(repo: Repository, oid: Oid): Promise<Commit> {
  return decodeJson<Commit>((await repo.store.get(oid, 'commit')).content)
}

export async function headTree(repo: Repository): Promise<Oid | null> {
  const head = repo.headCommit()
  return head ? (await readCommit(repo, head)).tree : null
}

/** Follows annotated tags to the commit they name. */
export async function peel(repo: Repository, oid: Oid): Promise<Oid> {
  for (let i = 0; i < 10; i++) {
    const obj = await repo.store.get(oid)
    if (obj.kind !== 'tag') return oid
    oid = decodeJson<AnnotatedTag>(obj.content).object
  }
  return oid
}

export interface LogEntry {
  id: Oid
  parents: Oid[]
  author: {name: string; email: string}
  date: string
  timestamp: number
  message: string
  tags: string[]
  refs: string[]
  /** whether HEAD points at this commit (on a branch or detached) */
  head: boolean
  files: Commit['files']
  examples: Commit['examples']
  code: Commit['code']
  /** the quality summary recorded with the commit, or null */
  quality: QualitySummary | null
  tree: Oid
}

export interface Decorations {
  tags: Map<Oid, string[]>
  branches: Map<Oid, string[]>
  head: Oid | null
}

export async function decorations(repo: Repository): Promise<Decorations> {
  const tags = new Map<Oid, string[]>()
  for (const t of repo.refs.list('refs/tags')) {
    const target = await peel(repo, t.oid).catch(() => t.oid)
    tags.set(target, [...(tags.get(target) ?? []), t.name])
  }
  const branches = new Map<Oid, string[]>()
  for (const b of [...repo.refs.list('refs/heads'), ...repo.refs.list('refs/remotes').map((r) => ({...r, name: `remotes/${r.name}`}))])
    branches.set(b.oid, [...(branches.get(b.oid) ?? []), b.name])
  return {tags, branches, head: repo.headCommit()}
}

export function toLogEntry(id: Oid, c: Commit, deco: Decorations): LogEntry {
  return {id, parents: c.parents, author: c.author, date: formatDate(c.timestamp, c.tzOffset), timestamp: c.timestamp, message: c.message,
    tags: deco.tags.get(id) ?? [], refs: deco.branches.get(id) ?? [], head: id === deco.head, files: c.files, examples: c.examples, code: c.code, quality: c.quality ?? null, tree: c.tree}
}

/** Commits reachable from `start`, newest first (by commit time, then discovery order). */
export async function walkLog(repo: Repository, start: Oid, max = Infinity, minQuality?: number): Promise<LogEntry[]> {
  const deco = await decorations(repo)
  const out: LogEntry[] = []
  const seen = new Set<Oid>([start])
  const queue: Array<{id: Oid; c: Commit}> = [{id: start, c: await readCommit(repo, start)}]
  while (queue.length > 0 && out.length < max) {
    queue.sort((a, b) => b.c.timestamp - a.c.timestamp)
    const {id, c} = queue.shift()!
    if (minQuality === undefined || (c.quality && c.quality.overall >= minQuality)) out.push(toLogEntry(id, c, deco))
    for (const p of c.parents) {
      if (seen.has(p)) continue
      seen.add(p)
      queue.push({id: p, c: await readCommit(repo, p)})
    }
  }
  return out
}

/** Every commit reachable from `start` (itself included), stopping early at `stopAt`. */
export async function ancestors(repo: Repository, start: Oid, stopAt?: Oid): Promise<Set<Oid>> {
  const seen = new Set<Oid>([start])
  const stack = [start]
  while (stack.length > 0) {
    const id = stack.pop()!
    if (id === stopAt) break
    for (const p of (await readCommit(repo, id)).parents) if (!seen.has(p)) seen.add(p) && stack.push(p)
  }
  return seen
}

/**
 * Commits reachable from `start` but from no branch, tag, remote branch or `also`: what a
 * detached HEAD at `start` leaves behind when it moves (git warns about them too).
 */
export async function unreferencedCommits(repo: Repository, start: Oid, also: Oid[] = []): Promise<Array<{id: Oid; message: string}>> {
  const roots = [...also]
  for (const kind of ['refs/heads', 'refs/tags', 'refs/remotes'] as const) for (const r of repo.refs.list(kind)) roots.push(await peel(repo, r.oid))
  const referenced = new Set<Oid>()
  for (const root of roots) if (!referenced.has(root)) for (const id of await ancestors(repo, root)) referenced.add(id)
  const out: Array<{id: Oid; message: string}> = []
  const stack = referenced.has(start) ? [] : [start]
  const seen = new Set(stack)
  while (stack.length > 0) {
    const id = stack.pop()!
    const c = await readCommit(repo, id)
    out.push({id, message: c.message.split('\n')[0]})
    for (const p of c.parents) if (!referenced.has(p) && !seen.has(p)) seen.add(p) && stack.push(p)
  }
  return out
}

/** Whether `ancestor` is `descendant` or one of its ancestors (a fast-forward from one to the other). */
export async function isAncestor(repo: Repository, ancestor: Oid, descendant: Oid): Promise<boolean> {
  if (ancestor === descendant) return true
  if (!(await repo.store.has(ancestor))) return false
  return (await ancestors(repo, descendant, ancestor)).has(ancestor)
}

/** Commits on `local` that `upstream` lacks (ahead) and the reverse (behind). */
export async function aheadBehind(repo: Repository, local: Oid, upstream: Oid): Promise<{ahead: number; behind: number}> {
  if (local === upstream) return {ahead: 0, behind: 0}
  const a = await ancestors(repo, local)
  const b = await ancestors(repo, upstream)
  let ahead = 0
  let behind = 0
  for (const id of a) if (!b.has(id)) ahead++
  for (const id of b) if (!a.has(id)) behind++
  return {ahead, behind}
}
