/**
 * Exclusive lock files (git's `<file>.lock`): created with O_EXCL, holding the owner's
 * pid. A lock left by a process that died (SIGKILL, power loss) is detected by its pid
 * and taken over, so a crash never wedges the repository.
 */
import {closeSync, openSync, readFileSync, unlinkSync, writeSync} from 'node:fs'
import {hostname} from 'node:os'
import {LockedError} from '../errors/index.js'

function holderAlive(content: string): boolean {
  const [pidText, host] = content.split(/\s+/)
  const pid = Number(pidText)
  if (!Number.isInteger(pid) || pid <= 0) return false
  if (host && host !== hostname()) return true // cannot tell for another machine: assume alive
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
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
      if (content === '' || holderAlive(content)) {
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
