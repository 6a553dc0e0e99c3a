/** Writing committed files back to disk, byte for byte, each through temp file + rename. */
import {closeSync, existsSync, lstatSync, mkdirSync, openSync, renameSync, rmSync, writeSync} from 'node:fs'
import {dirname, join} from 'node:path'
import {randomBytes} from 'node:crypto'
import {readTable, streamTable} from '../table-read.js'
import {decodeChunks} from '../blob.js'
import type {TreeEntry} from '../model.js'
import type {ObjectStore} from '../object-store.js'

const FLUSH_AT = 4 << 20

export async function writeEntry(store: ObjectStore, entry: TreeEntry, abs: string): Promise<void> {
  const dir = dirname(abs)
  clearPathFor(dir)
  mkdirSync(dir, {recursive: true})
  if (existsSync(abs) && lstatSync(abs).isDirectory()) rmSync(abs, {recursive: true, force: true})
  const tmp = `${abs}.dsv-${randomBytes(4).toString('hex')}.tmp`
  const fd = openSync(tmp, 'wx')
  let parts: Buffer[] = []
  let pending = 0
  const flush = () => {
    if (pending === 0) return
    writeSync(fd, parts.length === 1 ? parts[0] : Buffer.concat(parts, pending))
    parts = []
    pending = 0
  }
  const write = (b: Buffer) => {
    parts.push(b)
    pending += b.length
    if (pending >= FLUSH_AT) flush()
  }
  try {
    if (entry.type === 'table') await streamTable(store, await readTable(store, entry.oid), write)
    else {
      const obj = await store.get(entry.oid)
      if (obj.kind === 'blob') write(obj.content)
      else for (const c of decodeChunks(obj.content)) write((await store.get(c.oid, 'blob')).content)
    }
    flush()
    closeSync(fd)
    renameSync(tmp, abs)
  } catch (error) {
    try {
      closeSync(fd)
    } catch {}
    rmSync(tmp, {force: true})
    throw error
  }
}

/** A file standing where a directory must go (a path changed from file to folder). */
function clearPathFor(dir: string): void {
  let d = dir
  const chain: string[] = []
  while (!existsSync(d)) {
    chain.push(d)
    const up = dirname(d)
    if (up === d) break
    d = up
  }
  if (existsSync(d) && !lstatSync(d).isDirectory()) rmSync(d, {force: true})
}

export function removeFileAndEmptyDirs(root: string, path: string): void {
  const abs = join(root, path)
  rmSync(abs, {force: true})
  let dir = dirname(abs)
  while (dir.startsWith(root) && dir !== root) {
    try {
      rmSync(dir, {recursive: false})
    } catch {
      break
    }
    dir = dirname(dir)
  }
}
