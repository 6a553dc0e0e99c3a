/**
 * The working directory: every regular file below the root except `.dsv` and `.git` (at
 * any depth), what `.dsvignore` (gitignore syntax, at the root) names, and dsv's own temp
 * files and folders (`NAME.dsv-XXXXXXXX.tmp`, left by a checkout that was killed). Paths use `/`
 * separators. A file name that is not UTF-8 is refused (unless ignored): the store keeps
 * names as text, and such a name would not come back byte for byte.
 */
import {readdirSync, readFileSync, renameSync, statSync, type BigIntStats} from 'node:fs'
import {join} from 'node:path'
import ignore, {type Ignore} from 'ignore'
import {DSV_ASIDE_FILE, DSV_TEMP_FILE} from './atomic-file.js'
import {DsvError} from '../errors/index.js'

export interface WorkFile {
  path: string
  abs: string
  stat: BigIntStats
}

export const IGNORE_FILE = '.dsvignore'
const ALWAYS_SKIPPED = new Set(['.dsv', '.git'])

export function loadIgnore(root: string): Ignore {
  const ig = ignore()
  try {
    ig.add(readFileSync(join(root, IGNORE_FILE), 'utf8'))
  } catch {}
  return ig
}

export function scanWorktree(root: string): {files: WorkFile[]; skipped: string[]} {
  const ig = loadIgnore(root)
  const files: WorkFile[] = []
  const skipped: string[] = []
  const walk = (dir: string, rel: string) => {
    const listed = unreadableAs(rel || '.', 'folder', () => readdirSync(dir, {withFileTypes: true, encoding: 'buffer'}))
    if (!listed) return
    const dirents = listed
      .map((d) => ({d, name: d.name.toString('utf8')}))
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    const names = new Set(dirents.map((x) => x.name))
    for (const {d, name} of dirents) {
      if (ALWAYS_SKIPPED.has(name)) continue // at any depth: a repository nested in the dataset keeps its own history
      const path = rel ? `${rel}/${name}` : name
      if (!Buffer.from(name).equals(d.name)) {
        // the store names files in UTF-8: this name would not come back as it is
        if (ig.ignores(path) || ig.ignores(`${path}/`)) continue
        const shown = (rel ? `${rel}/` : '') + escapeBytes(d.name)
        throw new DsvError('E_UNREADABLE_FILE', `${shown}: the file name is not valid UTF-8`, {file: shown}, 'rename it, or add it to .dsvignore (a pattern such as a wildcard in place of the bad byte matches it)')
      }
      const abs = join(dir, name)
      if (d.isDirectory()) {
        if (ig.ignores(`${path}/`) || DSV_TEMP_FILE.test(name)) continue // a killed checkout --to's folder is not data
        walk(abs, path)
      } else if (d.isFile()) {
        if (DSV_TEMP_FILE.test(name)) {
          // a half-written file of a killed checkout is not data; an old file it had moved
          // aside, with nothing in its place yet, goes back (see replaceFile)
          const base = DSV_ASIDE_FILE.exec(name)?.groups!.name
          if (base === undefined || names.has(base)) continue
          renameSync(abs, join(dir, base))
          names.add(base)
          const basePath = rel ? `${rel}/${base}` : base
          const stat = ig.ignores(basePath) ? undefined : unreadableAs(basePath, 'file', () => statSync(join(dir, base), {bigint: true}))
          if (stat) files.push({path: basePath, abs: join(dir, base), stat})
          continue
        }
        if (ig.ignores(path)) continue
        const stat = unreadableAs(path, 'file', () => statSync(abs, {bigint: true}))
        if (stat) files.push({path, abs, stat})
      } else if (!ig.ignores(path)) skipped.push(path) // symlinks, sockets: not versioned
    }
  }
  walk(root, '')
  return {files, skipped}
}

/**
 * `read()`, or undefined when the file or folder vanished meanwhile (deleted during the
 * scan: as if never seen). Any other failure stops the scan: skipping a folder that cannot
 * be read would commit its files as deleted.
 */
function unreadableAs<T>(path: string, what: 'file' | 'folder', read: () => T): T | undefined {
  try {
    return read()
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    if (code === 'ENOENT') return undefined
    const why = code === 'EACCES' || code === 'EPERM' ? 'permission denied' : code === 'ENAMETOOLONG' ? 'its path is too long for the file system' : code === 'ELOOP' ? 'too many levels of symbolic links' : ((error as Error).message ?? String(error))
    throw new DsvError('E_UNREADABLE_FILE', `${path}: cannot read this ${what}: ${why}`, {file: path}, `make it readable${code === 'ENAMETOOLONG' ? ' (a shorter path)' : ''}, or add it to ${IGNORE_FILE}`)
  }
}

/**
 * A version's files without those inside a `.dsv` or `.git` folder: versions committed
 * before these were skipped at every depth may hold a nested repository's files, which
 * checkout and status leave to that repository.
 */
export function withoutNestedRepositories<T>(files: Map<string, T>): Map<string, T> {
  const nested = (path: string) => path.split('/').some((part) => ALWAYS_SKIPPED.has(part))
  if (![...files.keys()].some(nested)) return files
  return new Map([...files].filter(([path]) => !nested(path)))
}

/** A file name's bytes as text: valid UTF-8 as it is, other bytes as \xHH. */
function escapeBytes(name: Buffer): string {
  let out = ''
  let i = 0
  while (i < name.length) {
    const len = name[i] < 0x80 ? 1 : name[i] >= 0xf0 ? 4 : name[i] >= 0xe0 ? 3 : name[i] >= 0xc0 ? 2 : 0
    const piece = len > 0 ? name.subarray(i, i + len) : undefined
    if (piece && piece.length === len && Buffer.from(piece.toString('utf8')).equals(piece)) {
      out += piece.toString('utf8')
      i += len
    } else out += `\\x${name[i++].toString(16).padStart(2, '0')}`
  }
  return out
}
