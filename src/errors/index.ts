/**
 * Every failure the library reports is a DsvError with a stable `code` (never changes
 * between versions), an `exitCode` the CLI uses, and `data` for scripts (`--json`).
 */
export type ErrorCode =
  | 'E_USAGE'
  | 'E_NOT_A_REPO'
  | 'E_ALREADY_INITIALISED'
  | 'E_UNSUPPORTED_FORMAT'
  | 'E_NOTHING_TO_COMMIT'
  | 'E_BAD_REVISION'
  | 'E_AMBIGUOUS_REVISION'
  | 'E_BAD_REF_NAME'
  | 'E_INVALID_DATA'
  | 'E_UNREADABLE_FILE'
  | 'E_DIRTY_WORKTREE'
  | 'E_TAG_EXISTS'
  | 'E_REF_CONFLICT'
  | 'E_LOCKED'
  | 'E_CORRUPT'
  | 'E_CONFIG'
  | 'E_PATH_NOT_FOUND'
  | 'E_QUALITY_FAILED'
  | 'E_RULES'
  | 'E_OUTPUT_EXISTS'
  | 'E_BAD_URL'
  | 'E_NO_REMOTE'
  | 'E_REMOTE_EXISTS'
  | 'E_REMOTE_EMPTY'
  | 'E_NON_FAST_FORWARD'
  | 'E_DIVERGED'
  | 'E_MERGE_CONFLICT'
  | 'E_REMOTE_NOT_FOUND'
  | 'E_REMOTE_AUTH'
  | 'E_REMOTE_UNAVAILABLE'
  | 'E_REMOTE_FORMAT'
  | 'E_IO'

export const EXIT_CODES: Record<ErrorCode, number> = {
  E_USAGE: 2,
  E_NOT_A_REPO: 3,
  E_ALREADY_INITIALISED: 3,
  E_UNSUPPORTED_FORMAT: 3,
  E_NOTHING_TO_COMMIT: 1,
  E_BAD_REVISION: 4,
  E_AMBIGUOUS_REVISION: 4,
  E_BAD_REF_NAME: 4,
  E_INVALID_DATA: 5,
  E_UNREADABLE_FILE: 5,
  E_DIRTY_WORKTREE: 6,
  E_TAG_EXISTS: 6,
  E_REF_CONFLICT: 6,
  E_LOCKED: 7,
  E_CORRUPT: 8,
  E_CONFIG: 2,
  E_PATH_NOT_FOUND: 4,
  E_QUALITY_FAILED: 9,
  E_RULES: 10,
  E_OUTPUT_EXISTS: 6,
  E_BAD_URL: 2,
  E_NO_REMOTE: 4,
  E_REMOTE_EXISTS: 6,
  E_REMOTE_EMPTY: 4,
  E_NON_FAST_FORWARD: 6,
  E_DIVERGED: 6,
  E_MERGE_CONFLICT: 6,
  E_REMOTE_NOT_FOUND: 11,
  E_REMOTE_AUTH: 11,
  E_REMOTE_UNAVAILABLE: 11,
  E_REMOTE_FORMAT: 3,
  E_IO: 12,
}

export class DsvError extends Error {
  readonly code: ErrorCode
  readonly data: Record<string, unknown>
  /** What the user can do about it, shown under the message. */
  readonly hint?: string

  constructor(code: ErrorCode, message: string, data: Record<string, unknown> = {}, hint?: string) {
    super(message)
    this.name = 'DsvError'
    this.code = code
    this.data = data
    this.hint = hint
  }

  get exitCode(): number {
    return EXIT_CODES[this.code]
  }

  toJSON(): Record<string, unknown> {
    return {code: this.code, message: this.message, ...(this.hint ? {hint: this.hint} : {}), ...this.data}
  }
}

/**
 * A data file that cannot be versioned as it is: names the file and the line. The hint
 * fits every command that reads the working tree (status, diff, quality check); commit
 * adds that nothing was written.
 */
export class InvalidDataError extends DsvError {
  constructor(file: string, line: number, reason: string) {
    super('E_INVALID_DATA', `${file}:${line}: ${reason}`, {file, line, reason},
      'fix the file (or add it to .dsvignore) and run the command again')
    this.name = 'InvalidDataError'
  }
}

export class CorruptObjectError extends DsvError {
  /** what is wrong, without the object's id (for reports that name the object already) */
  readonly reason: string

  constructor(readonly oid: string, message: string) {
    super('E_CORRUPT', `object ${oid}: ${message}`, {oid}, 'run `dsv fsck` to see everything that is damaged')
    this.name = 'CorruptObjectError'
    this.reason = message
  }
}

export class LockedError extends DsvError {
  /** `lockFile`: a lock file a killed process may have left (never LevelDB's, which the kernel releases) */
  constructor(lockPath: string, holder: string, lockFile = true) {
    super('E_LOCKED', `repository is locked by ${holder} (${lockPath})`, {lockPath, holder},
      lockFile
        ? `wait for the other dsv command to finish, then run this one again (if no dsv command is running on any machine sharing this folder, delete ${lockPath})`
        : 'wait for the other dsv command to finish, then run this one again (the index is released when that process exits)')
    this.name = 'LockedError'
  }
}

export class BadRevisionError extends DsvError {
  constructor(rev: string, why = 'unknown revision') {
    super('E_BAD_REVISION', `${why}: '${rev}'`, {rev},
      'use a branch or tag name, HEAD, HEAD~N, or a commit id (see `dsv log --oneline`)')
    this.name = 'BadRevisionError'
  }
}

/** What the operating system says, for the errors a user can fix (space, permissions). */
const IO_REASONS: Record<string, string> = {
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  ENOSPC: 'no space left on device',
  EDQUOT: 'disk quota exceeded',
  EROFS: 'read-only file system',
  EIO: 'input/output error',
  EMFILE: 'too many open files',
  ENFILE: 'too many open files in the system',
}

/**
 * A file system failure the user can fix (disk full, permissions, read-only mount) as
 * E_IO, naming the file and the operation; undefined for anything else (a bug).
 */
export function ioError(error: unknown): DsvError | undefined {
  const e = error as NodeJS.ErrnoException
  const reason = e && typeof e.code === 'string' ? IO_REASONS[e.code] : undefined
  if (!reason) return undefined
  const what = e.path ? `${e.syscall ?? 'access'} ${e.path}` : (e.syscall ?? 'file access')
  return new DsvError('E_IO', `cannot ${what}: ${reason}`, {errno: e.code, syscall: e.syscall ?? null, path: e.path ?? null},
    'fix that (free some space, change the permissions), then run the command again: dsv writes files by temp file and rename, so what it wrote is whole, and a checkout or rollback cut short finishes when run again')
}
