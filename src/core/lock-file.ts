/**
 * Exclusive lock files (git's `<file>.lock`): created with O_EXCL, holding the owner's
 * pid. A lock left by a process that died (SIGKILL, power loss) is detected by its pid
 * and taken over, so a crash never wedges the repository.
 */
import {closeSync, openSync, readFileSync, statSync, unlinkSync, writeSync} from 'node:fs'
import {hostname} from 'node:os'
import {LockedError} from '../errors/index.js'

/**
 * How old an empty lock file must be to count as left by a killed process: a lock is empty
 * only between its creation and the write of the pid (or of a ref's new value), which
 * takes microseconds, so an empty lock this old was never going to be filled.
 */
export const EMPTY_LOCK_STALE_MS = 5_000

function holderAlive(content: string): boolean {
  const [pidText, host] = content.split(/\s+/)
  const pid = Number(pidText)
  if (!Number.isInteger(pid) || pid <= 0) return false
  if (host && host !== hostname()) return true // cannot tell for another machine: assume alive
  try {
    process.kill(pid, 0)
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
  return !exited(pid)
}

/** A process that ended but was not reaped yet (a zombie): it holds nothing any more. */
function exited(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3)
    return state === 'Z' || state === 'X'
  } catch {
    return false // no /proc (macOS): the kill(0) answer stands
  }
}

/** An empty lock file old enough to have been left by a process killed while creating it. */
function emptyAndStale(path: string): boolean {
  try {
    return Date.now() - statSync(path).mtimeMs > EMPTY_LOCK_STALE_MS
  } catch {
    return false
  }
}

/** Creates `path` exclusively; returns its fd. Throws LockedError if a live process holds it. */
export function acquireLockFile(path: string): number {
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fd = openSync(path, 'wx')
      writeSync(fd, `${process.pid} ${hostname()}\n`)
      return fd
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
      let content = ''
      try {
        content = readFileSync(path, 'utf8')
      } catch {
        continue // released meanwhile
      }
      const stale = content === '' ? emptyAndStale(path) : !holderAlive(content)
      if (!stale) {
        if (content === '' && attempt < 2) continue // being written right now
        throw new LockedError(path, content ? `process ${content.split(/\s+/)[0]}` : 'another process')
      }
      try {
        unlinkSync(path) // stale: its owner is gone
      } catch {}
    }
  }
  throw new LockedError(path, 'another process')
}

export class RepoLock {
  private fd: number | null

  private constructor(readonly path: string, fd: number) {
    this.fd = fd
  }

  static acquire(path: string): RepoLock {
    return new RepoLock(path, acquireLockFile(path))
  }

  release(): void {
    if (this.fd === null) return
    closeSync(this.fd)
    this.fd = null
    try {
      unlinkSync(this.path)
    } catch {}
  }
}
