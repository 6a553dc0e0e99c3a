/**
 * References: `HEAD` (symbolic `ref: refs/heads/main` or a detached commit id),
 * `refs/heads/*`, `refs/tags/*`, `refs/remotes/*`, each a small file holding an oid.
 * A ref moves only by compare-and-swap: take `<ref>.lock` exclusively, check the current
 * value is the expected one, write the new value, fsync, rename over the ref.
 * Every move is appended to the reflog under `logs/`.
 */
import {appendFileSync, closeSync, existsSync, fsyncSync, lstatSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmdirSync, rmSync, unlinkSync, writeSync} from 'node:fs'
import {dirname, join} from 'node:path'
import {acquireLockFile} from './lock-file.js'
import {fsyncDir} from './atomic-file.js'
import {DsvError} from '../errors/index.js'
import {OID_HEX} from './object-kinds.js'

export type Head = {symbolic: true; ref: string} | {symbolic: false; oid: string}

const ZERO = '0'.repeat(64)

/**
 * What is wrong with `name` as a name below refs/heads or refs/tags (git check-ref-format
 * rules; any other character, unicode included, is fine), or null when nothing is.
 * Creating a ref and resolving a revision share this rule, so every name made resolves.
 */
export function refNameProblem(name: string): string | null {
  if (name.length === 0) return 'empty'
  if (name.length > 200) return 'too long'
  if (name.startsWith('-')) return 'starts with "-"'
  if (name.startsWith('/') || name.endsWith('/') || name.includes('//')) return 'leading, trailing or double "/"'
  if (name.includes('..')) return 'contains ".."'
  if (name.includes('@{') || name === '@') return 'contains "@{"'
  if (/[\x00-\x20\x7f~^:?*[\\]/.test(name)) return 'contains a space, control character or one of ~ ^ : ? * [ \\'
  for (const part of name.split('/')) {
    if (part.startsWith('.')) return 'a component starts with "."'
    if (part.endsWith('.lock')) return 'a component ends with ".lock"'
  }
  if (name.endsWith('.')) return 'ends with "."'
  if (name === 'HEAD') return 'HEAD is reserved'
  return null
}

/** git check-ref-format rules, for one name below refs/heads or refs/tags. */
export function checkRefName(name: string, what = 'name'): void {
  const why = refNameProblem(name)
  if (why !== null)
    throw new DsvError('E_BAD_REF_NAME', `invalid ${what} '${name}': ${why}`, {name},
      'use letters, digits, and . _ - / (no "..", no leading "-" or "/", no trailing "." or ".lock")')
}

export class Refs {
  /** Damaged refs that listings skipped, with what is wrong: the CLI warns about them (as git does). */
  private readonly broken = new Map<string, string>()

  constructor(readonly dsvDir: string) {}

  private path(ref: string): string {
    return join(this.dsvDir, ...ref.split('/'))
  }

  /** HEAD is `ref: refs/heads/NAME` or a commit id; anything else (a tag, a path) is damage, never followed. */
  readHead(): Head {
    let text: string
    try {
      text = readFileSync(join(this.dsvDir, 'HEAD'), 'utf8').trim()
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error
      text = '(no HEAD file)'
    }
    const branch = text.startsWith('ref: refs/heads/') ? text.slice('ref: refs/heads/'.length) : null
    if (branch !== null && refNameProblem(branch) === null) return {symbolic: true, ref: `refs/heads/${branch}`}
    if (OID_HEX.test(text)) return {symbolic: false, oid: text}
    throw new DsvError('E_CORRUPT', `HEAD is damaged: '${text.slice(0, 80)}' is neither "ref: refs/heads/NAME" nor a commit id`, {ref: 'HEAD'},
      'write "ref: refs/heads/main" (or a commit id from `dsv fsck` or the reflog in .dsv/logs) into .dsv/HEAD')
  }

  /** The commit HEAD points at, or null on an unborn branch. */
  headCommit(): string | null {
    const head = this.readHead()
    return head.symbolic ? this.read(head.ref) : head.oid
  }

  read(ref: string): string | null {
    const text = this.readText(ref)
    if (text === null || OID_HEX.test(text)) return text
    throw new DsvError('E_CORRUPT', `ref ${ref} is ${damage(text)}`, {ref},
      `delete it (\`dsv tag -d NAME\` for a tag) or write a commit id into .dsv/${ref}`)
  }

  /** What the ref's file holds, or null when there is no such ref. */
  private readText(ref: string): string | null {
    try {
      return readFileSync(this.path(ref), 'utf8').trim()
    } catch (error) {
      // EISDIR: a folder of refs (refs/tags/rel when rel/1.0 exists) is not a ref
      if (['ENOENT', 'ENOTDIR', 'EISDIR'].includes((error as NodeJS.ErrnoException).code ?? '')) return null
      throw error
    }
  }

  /** Records a ref a listing skipped because it is damaged (see takeBroken). */
  noteBroken(ref: string, message: string): void {
    this.broken.set(ref, message)
  }

  /** The damaged refs listings skipped since the last call, each once. */
  takeBroken(): Array<{ref: string; message: string}> {
    const out = [...this.broken].map(([ref, message]) => ({ref, message}))
    this.broken.clear()
    return out
  }

  list(prefix: 'refs/heads' | 'refs/tags' | 'refs/remotes'): Array<{name: string; ref: string; oid: string}> {
    const out: Array<{name: string; ref: string; oid: string}> = []
    const walk = (dir: string, rel: string) => {
      let names: string[]
      try {
        names = readdirSync(dir)
      } catch {
        return
      }
      for (const n of names.sort()) {
        if (n.endsWith('.lock') || n.endsWith('.tmp') || n.includes('~')) continue // "~": a lock's takeover guard, never a ref name
        const p = join(dir, n)
        const r = rel ? `${rel}/${n}` : n
        if (existsSync(p) && readdirSafe(p)) walk(p, r)
        else {
          // one damaged ref must not hide the others: it is skipped and noted (git's "ignoring broken ref")
          const text = this.readText(`${prefix}/${r}`)
          if (text !== null && OID_HEX.test(text)) out.push({name: r, ref: `${prefix}/${r}`, oid: text})
          else if (text !== null) this.noteBroken(`${prefix}/${r}`, damage(text))
        }
      }
    }
    walk(this.path(prefix), '')
    return out
  }

  /**
   * Moves `ref` from `expected` (null: must not exist; undefined: any value) to `next`
   * (null: delete). Fails with E_REF_CONFLICT if someone else moved it first.
   */
  update(ref: string, expected: string | null | undefined, next: string | null, reason: string): void {
    // refs are written below .dsv/refs only, whatever a caller (or a damaged file) names
    if (!ref.startsWith('refs/') || ref.split('/').some((part) => part === '' || part === '.' || part === '..'))
      throw new DsvError('E_BAD_REF_NAME', `cannot write '${ref}': not a ref below refs/`, {ref})
    const target = this.path(ref)
    if (next !== null) this.assertNoFolderConflict(ref)
    mkdirSync(dirname(target), {recursive: true})
    const lockPath = `${target}.lock`
    const fd = acquireLockFile(lockPath)
    let renamed = false
    try {
      let current: string | null
      try {
        current = this.read(ref)
      } catch (error) {
        // a damaged ref can still be deleted unconditionally: that is how it is repaired
        if (!(error instanceof DsvError && error.code === 'E_CORRUPT' && next === null && expected === undefined)) throw error
        current = null
      }
      if (expected !== undefined && current !== expected)
        throw new DsvError('E_REF_CONFLICT', `${ref} moved to ${current ?? 'nothing'} while this command ran (expected ${expected ?? 'nothing'})`, {ref, current, expected})
      if (next === null) {
        rmSync(target, {force: true})
        // as git does, a deleted ref's log goes with it (else its folder would keep a
        // later ref of the folder's name from having a log)
        rmSync(this.logPath(ref), {force: true, recursive: true})
      } else {
        // the lock file becomes the new ref: rewrite it with just the oid
        closeSync(fd)
        const wfd = openSync(lockPath, 'w') // the lock we own: replace our pid line with the value
        writeSync(wfd, `${next}\n`)
        fsyncSync(wfd)
        closeSync(wfd)
        renameSync(lockPath, target)
        renamed = true
        fsyncDir(dirname(target))
      }
      if (next !== null) this.appendLog(ref, current, next, reason)
    } finally {
      if (!renamed) {
        try {
          closeSync(fd)
        } catch {}
        try {
          unlinkSync(lockPath)
        } catch {}
      }
    }
    if (next === null) this.removeEmptyFolders(ref) // once the lock beside it is gone
  }

  /**
   * A ref is a file, so `a` and `a/b` cannot both be refs (git's rule): creating one
   * where the other exists is refused by name, not left to fail in mkdir.
   */
  private assertNoFolderConflict(ref: string): void {
    const parts = ref.split('/')
    const conflict = (other: string) => {
      throw new DsvError('E_BAD_REF_NAME', `cannot create ${ref}: ${other} exists`, {ref, conflict: other},
        'a name cannot be both a ref and a folder of refs (as in git); delete one, or choose another name')
    }
    for (let i = 3; i < parts.length; i++) {
      const prefix = parts.slice(0, i).join('/')
      if (this.read(prefix) !== null) conflict(prefix)
    }
    const below = this.refsBelow(this.path(ref), ref)
    if (below) conflict(below)
    // what refs deleted below this name left (folders only: the ref and its log, when it
    // exists, are files): empty folders, and logs of refs that no longer exist (earlier
    // versions of dsv kept the log of a deleted ref)
    for (const folder of [this.path(ref), this.logPath(ref)]) if (isFolder(folder)) rmSync(folder, {recursive: true})
  }

  /** The first ref (or lock file of a ref being written) in the folder `dir`, whose ref name is `name`, or below it. */
  private refsBelow(dir: string, name: string): string | null {
    let entries
    try {
      entries = readdirSync(dir, {withFileTypes: true})
    } catch {
      return null
    }
    for (const e of entries.sort((a, b) => (a.name < b.name ? -1 : 1))) {
      if (e.isDirectory()) {
        const found = this.refsBelow(join(dir, e.name), `${name}/${e.name}`)
        if (found) return found
      } else return `${name}/${e.name}`
    }
    return null
  }

  setHead(head: Head, reason: string): void {
    this.prepareHead(head, reason).commit()
    fsyncDir(this.dsvDir)
  }

  /**
   * Moves HEAD in two steps, for checkout: the new value is written and fsynced beside
   * HEAD (HEAD.lock, held until then) before the working directory is written, and
   * `commit` renames it into place afterwards, without a directory fsync: that fsync would
   * wait for every file the checkout just wrote (0.3 s of a 543 MB checkout here), files
   * that are themselves not fsynced. After a power cut HEAD names the old version or the
   * new one, never a half-written value.
   */
  prepareHead(head: Head, reason: string): {commit(): void; abort(): void} {
    const path = join(this.dsvDir, 'HEAD')
    const lockPath = `${path}.lock`
    const fd = acquireLockFile(lockPath)
    closeSync(fd)
    const wfd = openSync(lockPath, 'w') // the lock we own: replace our pid line with the value
    writeSync(wfd, head.symbolic ? `ref: ${head.ref}\n` : `${head.oid}\n`)
    fsyncSync(wfd)
    closeSync(wfd)
    return {
      commit: () => {
        const before = this.headCommit()
        renameSync(lockPath, path)
        this.appendLog('HEAD', before, head.symbolic ? this.read(head.ref) : head.oid, reason)
      },
      abort: () => rmSync(lockPath, {force: true}),
    }
  }

  private logPath(ref: string): string {
    return join(this.dsvDir, 'logs', ...ref.split('/'))
  }

  /** Removes the folders of `ref` and of its log that deleting it left empty (up to refs/KIND). */
  private removeEmptyFolders(ref: string): void {
    const parts = ref.split('/')
    for (let i = parts.length - 1; i >= 3; i--) {
      for (const base of [this.path(''), join(this.dsvDir, 'logs')]) {
        try {
          rmdirSync(join(base, ...parts.slice(0, i)))
        } catch {}
      }
    }
  }

  private appendLog(ref: string, before: string | null, after: string | null, reason: string): void {
    const logPath = this.logPath(ref)
    mkdirSync(dirname(logPath), {recursive: true})
    const when = Math.floor(Date.now() / 1000)
    appendFileSync(logPath, `${before ?? ZERO} ${after ?? ZERO} ${when} ${reason.replace(/\n/g, ' ')}\n`)
  }

  /** Every oid a reflog mentions (fsck keeps them reachable). */
  reflogOids(): string[] {
    const out = new Set<string>()
    const walk = (dir: string) => {
      let names: string[]
      try {
        names = readdirSync(dir)
      } catch {
        return
      }
      for (const n of names) {
        const p = join(dir, n)
        if (readdirSafe(p)) walk(p)
        else
          for (const line of readFileSync(p, 'utf8').split('\n')) {
            const [a, b] = line.split(' ')
            for (const o of [a, b]) if (o && OID_HEX.test(o) && o !== ZERO) out.add(o)
          }
      }
    }
    walk(join(this.dsvDir, 'logs'))
    return [...out]
  }
}

function damage(text: string): string {
  return `damaged: holds '${text.slice(0, 80)}', not an object id`
}

function readdirSafe(p: string): boolean {
  try {
    readdirSync(p)
    return true
  } catch {
    return false
  }
}

function isFolder(p: string): boolean {
  try {
    return lstatSync(p).isDirectory()
  } catch {
    return false
  }
}
