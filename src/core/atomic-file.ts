/**
 * Crash-safe file writes: write a temp file beside the target, fsync it, rename it over
 * the target, fsync the directory. Readers see the old file or the new one, never half.
 */
import {closeSync, fsyncSync, openSync, renameSync, unlinkSync, writeSync} from 'node:fs'
import {dirname} from 'node:path'
import {randomBytes} from 'node:crypto'

export function fsyncDir(dir: string): void {
  let fd: number | undefined
  try {
    fd = openSync(dir, 'r')
    fsyncSync(fd)
  } catch {
    // some file systems refuse fsync on directories; the rename is still atomic
  } finally {
    if (fd !== undefined) closeSync(fd)
  }
}

export function writeFileAtomic(path: string, data: string | Uint8Array, durable = true): void {
  const tmp = `${path}.${randomBytes(4).toString('hex')}.tmp`
  const fd = openSync(tmp, 'wx')
  try {
    writeSync(fd, typeof data === 'string' ? Buffer.from(data) : data)
    if (durable) fsyncSync(fd)
  } catch (error) {
    closeSync(fd)
    unlinkSync(tmp)
    throw error
  }
  closeSync(fd)
  renameSync(tmp, path)
  if (durable) fsyncDir(dirname(path))
}
