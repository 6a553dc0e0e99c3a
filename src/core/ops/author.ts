/**
 * Who is committing, and from which code: `--author`, then DSV_AUTHOR_NAME/EMAIL, then
 * `dsv config user.*`, then git's config: the enclosing git repository's (read with
 * isomorphic-git, which also gives that repository's HEAD for code provenance), then the
 * user's global files (~/.gitconfig, $XDG_CONFIG_HOME/git/config). Each of name and email
 * comes from the first source that has it; both are needed, trimmed, and may not hold a
 * control character (a newline in a name would forge an extra line in `dsv log`).
 */
import fs from 'node:fs'
import {dirname, join} from 'node:path'
import {DsvError} from '../../errors/index.js'
import {globalGitConfigFiles, readGitUser, type GitUser} from '../git-config.js'
import type {Person} from '../model.js'
import type {Repository} from '../repository.js'

// C0 and C1 controls, DEL and the Unicode line separators: nothing a name or email needs
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/

/** Why `value` cannot be an author's name or email, or null when it can. */
export function personProblem(value: string): string | null {
  const c = CONTROL.exec(value)
  return c ? `holds a control character (U+${c[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')})` : null
}

export function parseAuthor(text: string): Person {
  const shown = JSON.stringify(text)
  const m = /^\s*([^<>]*?)\s*<([^<>]*)>\s*$/.exec(text)
  if (!m || !m[1].trim()) throw new DsvError('E_USAGE', `--author must look like "Name <email>", not ${shown}`)
  const person = {name: m[1].trim(), email: m[2].trim()}
  if (!person.email) throw new DsvError('E_USAGE', `--author needs an email between < and >, not ${shown}`, {}, 'dsv records an email with every commit, whichever way the author is given')
  for (const field of ['name', 'email'] as const) {
    const problem = personProblem(person[field])
    if (problem) throw new DsvError('E_USAGE', `--author: the ${field} ${problem}: ${shown}`)
  }
  return person
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

/** The enclosing git repository's own user.name/user.email. */
async function repoGitUser(root: string): Promise<GitUser> {
  const dir = await gitDir(root)
  if (!dir) return {}
  const git = await loadGit()
  const get = async (path: string) => ((await git.getConfig({fs, dir, path}).catch(() => undefined)) as string | undefined)?.trim()
  return {name: await get('user.name'), email: await get('user.email')}
}

/** git's global identity: ~/.gitconfig wins over $XDG_CONFIG_HOME/git/config, as in git. */
function globalGitUser(): GitUser {
  const out: GitUser = {}
  for (const file of globalGitConfigFiles()) {
    const u = readGitUser(file)
    if (u.name) out.name = u.name
    if (u.email) out.email = u.email
  }
  return out
}

export async function resolveAuthor(repo: Repository, flag?: string): Promise<Person> {
  if (flag) return parseAuthor(flag)
  const sources: Array<{from: string; user: () => Promise<GitUser>}> = [
    {from: 'DSV_AUTHOR_NAME/DSV_AUTHOR_EMAIL', user: async () => ({name: process.env.DSV_AUTHOR_NAME?.trim(), email: process.env.DSV_AUTHOR_EMAIL?.trim()})},
    {from: '`dsv config user.name/user.email`', user: async () => ({name: repo.config.user?.name?.trim(), email: repo.config.user?.email?.trim()})},
    {from: "the git repository's config", user: () => repoGitUser(repo.root)},
    {from: 'git config --global', user: async () => globalGitUser()},
  ]
  const found: {name?: string; email?: string} = {}
  for (const source of sources) {
    if (found.name && found.email) break
    const u = await source.user()
    for (const field of ['name', 'email'] as const) {
      const value = u[field]
      if (found[field] || !value) continue
      const problem = personProblem(value)
      if (problem) throw new DsvError('E_CONFIG', `the author ${field} from ${source.from} ${problem}: ${JSON.stringify(value)}`, {field, source: source.from}, 'set a name and email without control characters')
      found[field] = value
    }
  }
  if (!found.name || !found.email)
    throw new DsvError('E_CONFIG', 'who are you? dsv needs an author name and email for commits', {},
      'run `dsv config user.name "Your Name"` and `dsv config user.email you@example.com`, set DSV_AUTHOR_NAME/DSV_AUTHOR_EMAIL, or pass --author "Name <email>"')
  return {name: found.name, email: found.email}
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
