/** Tags: lightweight (a ref to a commit) or annotated (a tag object with a message). */
import {refNamed, resolveRevision} from './revision.js'
import {resolveAuthor} from './author.js'
import {decodeJson, encodeTag, formatDate, type AnnotatedTag, type Person} from '../model.js'
import {checkRefName} from '../refs.js'
import {DsvError} from '../../errors/index.js'
import type {Repository} from '../repository.js'
import type {Oid} from '../bytes.js'

export interface TagInfo {
  name: string
  /** the commit the tag names */
  target: Oid
  /** the tag object, for annotated tags */
  object?: Oid
  message: string | null
}

export async function listTags(repo: Repository): Promise<TagInfo[]> {
  const out: TagInfo[] = []
  for (const t of repo.refs.list('refs/tags')) {
    let obj
    try {
      obj = await repo.store.get(t.oid)
    } catch (error) {
      // a tag naming an object that is gone or damaged: the others are still listed
      if (!(error instanceof DsvError && error.code === 'E_CORRUPT')) throw error
      repo.refs.noteBroken(t.ref, error.message)
      continue
    }
    if (obj.kind === 'tag') {
      const tag = decodeJson<AnnotatedTag>(obj.content)
      out.push({name: t.name, target: tag.object, object: t.oid, message: tag.message})
    } else out.push({name: t.name, target: t.oid, message: null})
  }
  return out
}

/** An annotated tag as `show` prints it. */
export interface TagDetails {
  name: string
  /** the tag object */
  object: Oid
  tagger: Person
  date: string
  timestamp: number
  message: string
}

/** The annotated tag that `rev` names as it is (`v1`, `refs/tags/v1`), or null (a lightweight tag, a commit, HEAD~1). */
export async function annotatedTag(repo: Repository, rev: string): Promise<TagDetails | null> {
  // the ref the revision resolves to, as resolution finds it (a tag wins over a branch)
  const named = refNamed(repo, rev)
  if (!named || !named.ref.startsWith('refs/tags/')) return null
  const {ref, oid} = named
  const obj = await repo.store.get(oid)
  if (obj.kind !== 'tag') return null
  const t = decodeJson<AnnotatedTag>(obj.content)
  return {name: ref.slice('refs/tags/'.length), object: oid, tagger: t.tagger, date: formatDate(t.timestamp, t.tzOffset), timestamp: t.timestamp, message: t.message}
}

export async function createTag(repo: Repository, name: string, rev = 'HEAD', opts: {message?: string; force?: boolean; author?: string} = {}): Promise<TagInfo> {
  checkRefName(name, 'tag name')
  const {commit} = await resolveRevision(repo, rev)
  return repo.locked(async () => {
    const ref = `refs/tags/${name}`
    const existing = repo.refs.read(ref)
    if (existing && !opts.force) throw new DsvError('E_TAG_EXISTS', `tag '${name}' already exists`, {name, target: existing}, 'pass --force to move it, or choose another name')
    let value = commit
    if (opts.message !== undefined) {
      const now = new Date()
      const tagger = await resolveAuthor(repo, opts.author)
      value = await repo.store.put('tag', encodeTag({object: commit, tag: name, tagger, timestamp: Math.floor(now.getTime() / 1000), tzOffset: -now.getTimezoneOffset(), message: opts.message}))
      await repo.store.flush()
    }
    repo.refs.update(ref, existing ?? null, value, `tag: ${name}`)
    return {name, target: commit, ...(value !== commit ? {object: value} : {}), message: opts.message ?? null}
  })
}

/** `target` is null when the tag was damaged (deleting it is the repair). */
export async function deleteTag(repo: Repository, name: string): Promise<{deleted: string; target: Oid | null}> {
  checkRefName(name, 'tag name')
  return repo.locked(async () => {
    const ref = `refs/tags/${name}`
    let existing: Oid | null
    try {
      existing = repo.refs.read(ref)
    } catch (error) {
      if (!(error instanceof DsvError && error.code === 'E_CORRUPT')) throw error
      repo.refs.update(ref, undefined, null, `tag: delete damaged ${name}`)
      return {deleted: name, target: null}
    }
    if (!existing) throw new DsvError('E_BAD_REVISION', `tag '${name}' does not exist`, {name}, 'see `dsv tag` for the list')
    repo.refs.update(ref, existing, null, `tag: delete ${name}`)
    return {deleted: name, target: existing}
  })
}
