/**
 * Who is committing, and from which code: `--author`, then DSV_AUTHOR_NAME/EMAIL, then
 * `dsv config user.*`, then the enclosing git repository's config (read with
 * isomorphic-git, which also gives that repository's HEAD for code provenance).
 */
import fs from 'node:fs'
import {dirname, join} from 'node:path'
import {DsvError} from '../../errors/index.js'
import type {Person} from '../model.js'
import type {Repository} from '../repository.js'

export function parseAuthor(text: string): Person {
  const m = /^\s*([^<>]*?)\s*<([^<>]*)>\s*$/.exec(text)
  if (!m || !m[1]) throw new DsvError('E_USAGE', `--author must look like "Name <email>", not '${text}'`)
  return {name: m[1], email: m[2]}
}

// isomorphic-git is loaded on first use: most commands never need it
const loadGit = async () => (await import('isomorphic-git')).default

/**
 * The enclosing git repository's top folder: the nearest folder up from `root` with a
 * `.git` (a folder, or a file in worktrees and submodules). Looked up here, not with
 * isomorphic-git's findRoot, so that a dataset outside git never loads isomorphic-git.
 */
async function gitDir(root: string): Promise<string | null> {
  for (let dir = root; ; dir = dirname(dir)) {
    if (fs.existsSync(join(dir, '.git'))) return dir
    if (dirname(dir) === dir) return null
  }
}

export async function resolveAuthor(repo: Repository, flag?: string): Promise<Person> {
  if (flag) return parseAuthor(flag)
  let name = process.env.DSV_AUTHOR_NAME || repo.config.user?.name
  let email = process.env.DSV_AUTHOR_EMAIL || repo.config.user?.email
  if (!name || !email) {
    const dir = await gitDir(repo.root)
    if (dir) {
      const git = await loadGit()
      name ||= (await git.getConfig({fs, dir, path: 'user.name'}).catch(() => undefined)) as string | undefined
      email ||= (await git.getConfig({fs, dir, path: 'user.email'}).catch(() => undefined)) as string | undefined
    }
  }
  if (!name || !email)
    throw new DsvError('E_CONFIG', 'who are you? dsv needs an author name and email for commits', {},
      'run `dsv config user.name "Your Name"` and `dsv config user.email you@example.com`, set DSV_AUTHOR_NAME/DSV_AUTHOR_EMAIL, or pass --author "Name <email>"')
  return {name, email}
}

/** The HEAD commit of the git repository around the dataset, if any (code provenance). */
export async function gitProvenance(repo: Repository): Promise<{gitCommit: string} | null> {
  const dir = await gitDir(repo.root)
  if (!dir) return null
  const git = await loadGit()
  try {
    return {gitCommit: await git.resolveRef({fs, dir, ref: 'HEAD'})}
  } catch {
    return null
  }
}
