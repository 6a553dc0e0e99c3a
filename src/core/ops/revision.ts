/**
 * Revisions as users type them: HEAD, branch and tag names, full refs (or short ones:
 * tags/v1, heads/main), full or abbreviated (4+ hex) ids, each optionally followed by
 * ~N / ^ / ^N.
 */
import {readCommit, peel} from './history.js'
import {refNameProblem} from '../refs.js'
import {decodeJson, type AnnotatedTag} from '../model.js'
import {BadRevisionError, DsvError} from '../../errors/index.js'
import type {Repository} from '../repository.js'
import type {Oid} from '../bytes.js'

export interface ResolvedRev {
  commit: Oid
  /** set when the revision named a branch exactly (checkout attaches HEAD to it) */
  branch?: string
}

export async function resolveRevision(repo: Repository, rev: string): Promise<ResolvedRev> {
  const m = /^(.*?)((?:[~^]\d*)*)$/.exec(rev.trim())
  if (!m || !m[1]) throw new BadRevisionError(rev)
  const [, base, suffix] = m
  let {commit, branch} = await resolveBase(repo, base, rev)
  for (const op of suffix.match(/[~^]\d*/g) ?? []) {
    branch = undefined
    const n = op.length > 1 ? Number(op.slice(1)) : 1
    if (op[0] === '~') {
      for (let i = 0; i < n; i++) commit = await parentOf(repo, commit, 0, rev)
    } else if (n > 0) commit = await parentOf(repo, commit, n - 1, rev)
  }
  return {commit, branch}
}

async function parentOf(repo: Repository, oid: Oid, which: number, rev: string): Promise<Oid> {
  const p = (await readCommit(repo, oid)).parents[which]
  if (!p) throw new BadRevisionError(rev, 'revision goes past the first commit')
  return p
}

async function resolveBase(repo: Repository, base: string, rev: string): Promise<ResolvedRev> {
  if (base === 'HEAD' || base === '@') {
    const head = repo.headCommit()
    if (!head) throw new BadRevisionError(rev, 'HEAD has no commits yet')
    return {commit: head}
  }
  const named = refNamed(repo, base)
  if (named) return {commit: await toCommit(repo, named.oid, rev), branch: named.ref.startsWith('refs/heads/') ? named.ref.slice(11) : undefined}
  if (/^[0-9a-f]{4,64}$/i.test(base)) {
    const hex = base.toLowerCase()
    const found = (await repo.db.objectsWithPrefix(hex, 20)).filter(([, e]) => e.kind === 'commit' || e.kind === 'tag')
    if (found.length === 1) return {commit: await toCommit(repo, found[0][0], rev)}
    if (found.length > 1)
      throw new DsvError('E_AMBIGUOUS_REVISION', `ambiguous revision '${rev}': ${found.length} objects start with ${hex}`, {rev, candidates: found.map(([o, e]) => ({oid: o, kind: e.kind}))},
        `use more digits: ${found.map(([o]) => o.slice(0, hex.length + 4)).join(', ')}`)
  }
  throw new BadRevisionError(rev)
}

/**
 * The ref a name stands for, in git's order: refs/NAME (so tags/v1 and heads/main work),
 * then tags, branches, remotes; null when none exists.
 */
export function refNamed(repo: Repository, base: string): {ref: string; oid: Oid} | null {
  const candidates = base.startsWith('refs/') ? [base] : [`refs/${base}`, `refs/tags/${base}`, `refs/heads/${base}`, `refs/remotes/${base}`]
  for (const ref of candidates) {
    // the rule refs are created by, on the name below refs/KIND/: a name it refuses is no
    // ref (and never a path outside refs/)
    if (refNameProblem(ref.replace(/^refs\/((tags|heads|remotes)\/)?/, '')) !== null) continue
    const oid = repo.refs.read(ref)
    if (oid) return {ref, oid}
  }
  return null
}

async function toCommit(repo: Repository, oid: Oid, rev: string): Promise<Oid> {
  const peeled = await peel(repo, oid)
  const obj = await repo.store.get(peeled)
  if (obj.kind !== 'commit') throw new BadRevisionError(rev, `not a commit (a ${obj.kind})`)
  return peeled
}

export async function readAnnotatedTag(repo: Repository, oid: Oid): Promise<AnnotatedTag | null> {
  const obj = await repo.store.get(oid)
  return obj.kind === 'tag' ? decodeJson<AnnotatedTag>(obj.content) : null
}
