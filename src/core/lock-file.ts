/**
 * Exclusive lock files (git's `<file>.lock`): created with O_EXCL, holding the owner's
 * pid. A lock left by a process that died (SIGKILL, power loss) is detected by its pid
 * and taken over, so a crash never wedges the repository.
 */
import {closeSync, fstatSync, openSync, readFileSync, rmSync, unlinkSync, writeSync} from 'node:fs'
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

/** A lock file as found: who holds it, and which file it is (a lock replaced meanwhile is another file). */
interface FoundLock {
  content: string
  ino: number
  mtimeMs: number
}

function inspectLock(path: string): FoundLock | undefined {
  let fd: number
  try {
    fd = openSync(path, 'r')
  } catch {
    return undefined // released meanwhile
  }
  try {
    const st = fstatSync(fd)
    return {content: readFileSync(fd, 'utf8'), ino: st.ino, mtimeMs: st.mtimeMs}
  } finally {
    closeSync(fd)
  }
}

/**
 * Whether the lock's holder is gone: a dead pid, or an empty file too old to be filled
 * still. A ref's lock that already holds the ref's new value (written just before the
 * rename) names no process and counts as left by a killed one: only processes holding the
 * repository lock write refs (push's update of its remote-tracking ref is the exception).
 */
function isStale(lock: FoundLock): boolean {
  return lock.content === '' ? Date.now() - lock.mtimeMs > EMPTY_LOCK_STALE_MS : !holderAlive(lock.content)
}

function sameLock(a: FoundLock, b: FoundLock | undefined): boolean {
  return b !== undefined && a.ino === b.ino && a.mtimeMs === b.mtimeMs && a.content === b.content
}

/** Blocks this thread for `ms` (lock waits are short and every caller is synchronous here). */
function pause(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms)
}

/** How long a process waits for another's takeover of the same stale lock (microseconds of work). */
const TAKEOVER_WAIT_MS = 2_000

/**
 * Removes the stale lock `found` unless it was replaced meanwhile; returns whether this
 * process may go on (false: another one is taking it over, try again shortly). Takeovers
 * go one at a time under `<path>~takeover`, created exclusively: two processes that both
 * judged the same lock stale would otherwise each unlink "it", the second removing the
 * lock the first had just created, and both would hold the lock.
 */
function removeStaleLock(path: string, found: FoundLock): boolean {
  const guardPath = takeoverGuard(path)
  let guard: number
  try {
    guard = openSync(guardPath, 'wx')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
    // a guard outlives its takeover only if its process was killed inside it (microseconds);
    // looked at twice, so that a guard just made by a live process is not the one removed
    const left = inspectLock(guardPath)
    if (left && isStale(left) && sameLock(left, inspectLock(guardPath))) rmSync(guardPath, {force: true})
    return false
  }
  try {
    writeSync(guard, `${process.pid} ${hostname()}\n`)
    if (sameLock(found, inspectLock(path))) unlinkSync(path)
    return true
  } finally {
    closeSync(guard)
    rmSync(guardPath, {force: true})
  }
}

/**
 * The guard of takeovers of the lock `path`: "~" cannot occur in a ref name, so no ref
 * (`refs/tags/a.lock~takeover`) can be mistaken for one, nor one for a ref.
 */
export function takeoverGuard(path: string): string {
  return `${path}~takeover`
}

/** Creates `path` exclusively; returns its fd. Throws LockedError if a live process holds it. */
export function acquireLockFile(path: string): number {
  const deadline = Date.now() + TAKEOVER_WAIT_MS
  for (let attempt = 0; ; attempt++) {
    if (attempt > 1_000) throw new LockedError(path, 'another process') // never spins for good
    try {
      const fd = openSync(path, 'wx')
      writeSync(fd, `${process.pid} ${hostname()}\n`)
      return fd
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
    }
    const found = inspectLock(path)
    if (!found) {
      if (attempt < 3) continue // released meanwhile: try again
      throw new LockedError(path, 'another process')
    }
    if (!isStale(found)) {
      if (found.content === '' && attempt < 3) {
        pause(1) // being written right now
        continue
      }
      throw new LockedError(path, /^\d+ /.test(found.content) ? `process ${found.content.split(/\s+/)[0]}` : 'another process')
    }
    if (!removeStaleLock(path, found)) {
      if (Date.now() > deadline) throw new LockedError(path, 'another process taking over a stale lock')
      pause(2)
    }
  }
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
