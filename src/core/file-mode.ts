/**
 * The one file mode dsv versions, as git does: whether a file is executable. A tree entry
 * carries `executable: true` for such a file (absent otherwise, so trees written before
 * modes were versioned keep their ids). Where the file system cannot keep the bit (FAT,
 * exFAT, WSL's drvfs, some network shares show every file as executable, or none),
 * `core.fileMode false` makes dsv take the bit from HEAD instead of from the disk; it is
 * found out on first use, by trying (`probeFileMode`), unless set.
 */
import {chmodSync, closeSync, openSync, statSync, unlinkSync} from 'node:fs'
import {join} from 'node:path'
import {randomBytes} from 'node:crypto'
import type {TreeEntry} from './model.js'

/** Whether a file of this mode counts as executable: its owner may run it (git's rule). */
export function isExecutable(mode: number | bigint): boolean {
  return (Number(mode) & 0o100) !== 0
}

/** `mode` with the executable bits set (each where the matching read bit is) or cleared. */
export function withExecutable(mode: number, executable: boolean): number {
  const perms = mode & 0o7777
  return executable ? perms | ((perms & 0o444) >> 2) : perms & ~0o111
}

/** A change of the executable bit between two entries of a path, as status and diff report it (undefined: none). */
export function modeChange(a: TreeEntry | undefined, b: TreeEntry | undefined): {from: boolean; to: boolean} | undefined {
  if (a === undefined || b === undefined) return undefined
  const [from, to] = [a.executable === true, b.executable === true]
  return from === to ? undefined : {from, to}
}

/** Two entries hold the same file: the same content and the same mode. */
export function sameFile(a: TreeEntry | undefined, b: TreeEntry | undefined): boolean {
  return a !== undefined && b !== undefined && a.oid === b.oid && !modeChange(a, b)
}

/** Both absent, or the same file (sameFile): what three-way comparisons need. */
export function sameOrBothAbsent(a: TreeEntry | undefined, b: TreeEntry | undefined): boolean {
  return (a === undefined && b === undefined) || sameFile(a, b)
}

/** Only the mode differs between the two entries. */
export function modeOnlyChange(a: TreeEntry | undefined, b: TreeEntry | undefined): boolean {
  return a !== undefined && b !== undefined && a.oid === b.oid && modeChange(a, b) !== undefined
}

/** `entry` marked executable or not (the flag is left out when false). */
export function withMode<E extends TreeEntry>(entry: E, executable: boolean): E {
  const {executable: _, ...rest} = entry
  return (executable ? {...rest, executable: true} : rest) as E
}

/**
 * Whether files made in `dir` keep the executable bit as set: a file is made, marked
 * executable, then not, and read back each time. Undefined when the trial itself failed
 * (no room, no write access): the caller keeps its default rather than guess.
 */
export function probeFileMode(dir: string): boolean | undefined {
  const path = join(dir, `filemode-probe-${randomBytes(4).toString('hex')}.tmp`)
  try {
    closeSync(openSync(path, 'wx', 0o644))
  } catch {
    return undefined
  }
  try {
    chmodSync(path, 0o755)
    const set = isExecutable(statSync(path).mode)
    chmodSync(path, 0o644)
    return set && !isExecutable(statSync(path).mode)
  } catch {
    return false // the file system refuses modes
  } finally {
    try {
      unlinkSync(path)
    } catch {}
  }
}
