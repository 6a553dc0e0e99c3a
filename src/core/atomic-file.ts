/**
 * Crash-safe file writes: write a temp file beside the target, fsync it, rename it over
 * the target, fsync the directory. Readers see the old file or the new one, never half.
 * Working-directory files (AtomicFileWriter) are not fsynced and replace an old file in
 * two renames (see replaceFile).
 */
import {closeSync, fsyncSync, lstatSync, openSync, readSync, renameSync, unlinkSync, writeSync} from 'node:fs'
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

/** Writes b[start, end) to `fd`; a failure (disk full) names `path`, which writeSync's errors do not. */
export function writeAll(fd: number, b: Uint8Array, start: number, end: number, path?: string): void {
  try {
    while (start < end) start += writeSync(fd, b, start, end - start)
  } catch (error) {
    if (path && error && typeof error === 'object' && !('path' in error)) (error as NodeJS.ErrnoException).path = path
    throw error
  }
}

/** The temp files AtomicFileWriter makes: a killed checkout can leave one behind. */
export const DSV_TEMP_FILE = /\.dsv-[0-9a-f]{8}\.(tmp|old)$/

/** An old file moved aside while its replacement is renamed into place (see replaceFile): `name` is what it replaces. */
export const DSV_ASIDE_FILE = /^(?<name>.+)\.dsv-[0-9a-f]{8}\.old$/

function tempBeside(path: string, suffix = 'tmp'): string {
  return `${path}.dsv-${randomBytes(4).toString('hex')}.${suffix}`
}

/**
 * Write buffers of finished writers, for the next file written on this thread: a fresh
 * 4 MiB buffer per file cost a thousand page faults (a checkout writes a table per file).
 */
const spareBuffers: Buffer[] = []
/**
 * A file written in pieces that appears only when complete: buffered writes to a temp
 * file beside `path`, put in place by `commit()`; `abort()` leaves nothing behind.
 * Not fsynced: for working-directory files, which the store can always write again.
 */
export class AtomicFileWriter {
  private readonly tmp: string
  private readonly fd: number
  private readonly aside: boolean
  /** small writes are copied into one reusable buffer: a table is a million small records */
  private buffer?: Buffer
  private pending = 0

  /**
   * `executable`: made with mode 0777 instead of 0666, less the umask (as git does).
   * `aside`: an existing file is moved aside first (working files; see replaceFile), else
   * renamed over (outputs, such as exports, that nothing would put back after a crash).
   */
  constructor(readonly path: string, {executable = false, aside = true}: {executable?: boolean; aside?: boolean} = {}, private readonly bufferSize = 4 << 20) {
    this.tmp = tempBeside(path)
    this.aside = aside
    this.fd = openSync(this.tmp, 'wx', executable ? 0o777 : 0o666)
  }

  private writeBuffer(): Buffer {
    if (!this.buffer) {
      const spare = spareBuffers.findIndex((b) => b.length === this.bufferSize)
      this.buffer = spare >= 0 ? spareBuffers.splice(spare, 1)[0] : Buffer.allocUnsafe(this.bufferSize)
    }
    return this.buffer
  }

  /** Hands the write buffer on to the next writer (this one writes no more). */
  private releaseBuffer(): void {
    if (this.buffer && spareBuffers.length < 4) spareBuffers.push(this.buffer)
    this.buffer = undefined
  }

  /** Writes b[start, end). */
  write(b: Uint8Array, start = 0, end = b.length): void {
    const length = end - start
    if (this.pending + length > this.bufferSize) this.flush()
    // a large piece goes straight to the file (a binary file is written in one piece)
    if (this.pending === 0 && length >= this.bufferSize / 4) {
      writeAll(this.fd, b, start, end, this.tmp)
      return
    }
    this.writeBuffer().set(start === 0 && end === b.length ? b : b.subarray(start, end), this.pending)
    this.pending += length
  }

  /** Copies `length` bytes of the file `fd` from `position`, read straight into the buffer. */
  copyRange(fd: number, position: number, length: number): void {
    const buffer = this.writeBuffer()
    while (length > 0) {
      if (this.pending === this.bufferSize) this.flush()
      const got = readSync(fd, buffer, this.pending, Math.min(length, this.bufferSize - this.pending), position)
      if (got === 0) throw new RangeError(`${this.path} ended before byte ${position}: it changed while being rewritten`)
      this.pending += got
      position += got
      length -= got
    }
  }

  private flush(): void {
    if (this.pending === 0) return
    writeAll(this.fd, this.buffer!, 0, this.pending, this.tmp)
    this.pending = 0
  }

  commit(): void {
    this.flush()
    this.releaseBuffer()
    closeSync(this.fd)
    if (this.aside) replaceFile(this.tmp, this.path)
    else renameSync(this.tmp, this.path)
  }

  abort(): void {
    this.pending = 0
    this.releaseBuffer()
    try {
      closeSync(this.fd)
    } catch {}
    try {
      unlinkSync(this.tmp)
    } catch {}
  }
}

/**
 * Renames `tmp` to `path`. A file already at `path` is first renamed aside (NAME.dsv-
 * XXXXXXXX.old), and unlinked once the new one stands: renaming over an existing file
 * makes ext4 (auto_da_alloc) start writing the new file to disk inside the rename, which
 * cost a 1M-example checkout a quarter of its time (git's checkout unlinks first, for the
 * same reason). Readers never see a partial file. For the instant between the two renames
 * `path` is missing: a crash there leaves the old file aside, and the next scan of the
 * working directory puts it back (scanWorktree), so every path holds the old file or the
 * new one, and the checkout run again finishes. As with git, a power cut soon after can
 * leave new files empty (nothing in the working directory is fsynced; the store is).
 */
function replaceFile(tmp: string, path: string): void {
  const aside = tempBeside(path, 'old')
  // a folder is left where it is: renaming the file over it fails, as it should
  const moved = lstatSync(path, {throwIfNoEntry: false})?.isDirectory() === false
  if (moved) renameSync(path, aside)
  try {
    renameSync(tmp, path)
  } catch (error) {
    if (moved) {
      try {
        renameSync(aside, path)
      } catch {} // the scan puts it back
    }
    throw error
  }
  if (moved) {
    try {
      unlinkSync(aside)
    } catch {} // the next checkout of this folder removes it
  }
}
