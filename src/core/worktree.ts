/**
 * The working directory: every regular file below the root except `.dsv/`, `.git/`,
 * what `.dsvignore` (gitignore syntax, at the root) names, and dsv's own temp files
 * (`NAME.dsv-XXXXXXXX.tmp`, left by a checkout that was killed). Paths use `/` separators.
 */
import {readdirSync, readFileSync, statSync, type BigIntStats} from 'node:fs'
import {join} from 'node:path'
import ignore, {type Ignore} from 'ignore'
import {DSV_TEMP_FILE} from './atomic-file.js'

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
        if (ig.ignores(path) || DSV_TEMP_FILE.test(d.name)) continue // a half-written file of a killed checkout is not data
        files.push({path, abs, stat: statSync(abs, {bigint: true})})
      } else if (!ig.ignores(path)) skipped.push(path) // symlinks, sockets: not versioned
    }
  }
  walk(root, '')
  return {files, skipped}
}
