/**
 * The working directory: every regular file below the root except `.dsv/`, `.git/` and
 * what `.dsvignore` (gitignore syntax, at the root) names. Paths use `/` separators.
 */
import {readdirSync, readFileSync, statSync, type BigIntStats} from 'node:fs'
import {join} from 'node:path'
import ignore, {type Ignore} from 'ignore'

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
    const dirents = readdirSync(dir, {withFileTypes: true}).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    for (const d of dirents) {
      if (rel === '' && ALWAYS_SKIPPED.has(d.name)) continue
      const path = rel ? `${rel}/${d.name}` : d.name
      const abs = join(dir, d.name)
      if (d.isDirectory()) {
        if (ig.ignores(`${path}/`)) continue
        walk(abs, path)
      } else if (d.isFile()) {
        if (ig.ignores(path)) continue
        files.push({path, abs, stat: statSync(abs, {bigint: true})})
      } else if (!ig.ignores(path)) skipped.push(path) // symlinks, sockets: not versioned
    }
  }
  walk(root, '')
  return {files, skipped}
}
