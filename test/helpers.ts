/**
 * Helpers for the end-to-end CLI tests: run the real `dsv` binary in a temp dir, build
 * repositories from the fixtures, hash and compare directory trees byte for byte, and
 * edit JSONL / TSV / CSV files record by record without touching the other bytes.
 */
import assert from 'node:assert/strict'
import {AsyncLocalStorage} from 'node:async_hooks'
import {spawn, spawnSync} from 'node:child_process'
import {createHash} from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
export const binPath = path.join(repoRoot, 'bin', 'run.js')
export const fixturesDir = path.join(repoRoot, 'fixtures')
/** Real datasets shared next to the repository (not always present). */
export const sharedDatasets = path.resolve(repoRoot, '..', 'shared', 'datasets')

export const AUTHOR = {name: 'Test Author', email: 'test.author@example.com'}

export const isRoot = process.getuid?.() === 0

// ---------------------------------------------------------------- running dsv

export interface RunResult {
  code: number
  stdout: string
  stderr: string
  /** stdout parsed as one JSON document (fails the test with the output when it is not). */
  json<T = any>(): T
}

/**
 * The environment every run gets: the caller's PATH etc., but no DSV_*, GIT_* or
 * author variables leaking in from outside, HOME in the temp dir, CI=true (no progress).
 */
export function cleanEnv(extra: Record<string, string | undefined> = {}, home?: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {}
  for (const [k, v] of Object.entries(process.env)) {
    if (k.startsWith('DSV_') || k.startsWith('GIT_') || k === 'NODE_OPTIONS' || k === 'DEBUG' || k === 'NODE_ENV') continue
    env[k] = v
  }
  env.CI = 'true'
  env.NO_COLOR = '1'
  // every commit and status also runs the diff's scan and fails if the example counts
  // worked out while ingesting differ from it (see src/core/ingest-counts.ts)
  env.DSV_VERIFY_COUNTS = '1'
  env.GIT_CONFIG_NOSYSTEM = '1'
  if (home) {
    env.HOME = home
    env.XDG_CONFIG_HOME = path.join(home, '.config')
  }
  for (const [k, v] of Object.entries(extra)) {
    if (v === undefined) delete env[k]
    else env[k] = v
  }
  return env
}

/** The default environment: a fixed author through DSV_AUTHOR_NAME/EMAIL. */
export function defaultEnv(): NodeJS.ProcessEnv {
  return cleanEnv({DSV_AUTHOR_NAME: AUTHOR.name, DSV_AUTHOR_EMAIL: AUTHOR.email})
}

/** How many times the binary ran (DSV_TEST_STATS=1 prints it when the run ends). */
let runs = 0
if (process.env.DSV_TEST_STATS) process.on('exit', () => process.stderr.write(`dsv ran ${runs} times\n`))

function result(cmd: string, code: number | null, signal: string | null, stdout: string, stderr: string): RunResult {
  runs++
  return {
    code: code ?? (signal ? 128 : -1),
    stdout,
    stderr,
    json<T = any>(): T {
      try {
        return JSON.parse(stdout) as T
      } catch (error) {
        throw new assert.AssertionError({
          message: `\`${cmd}\` did not print one JSON document (${(error as Error).message}).\nexit ${code}, signal ${signal}\nstdout:\n${stdout}\nstderr:\n${stderr}`,
        })
      }
    },
  }
}

/** Runs `dsv ...args` in `cwd` with `env` (default: defaultEnv()). */
export function dsvEnv(cwd: string, env: NodeJS.ProcessEnv, ...args: string[]): RunResult {
  const r = spawnSync(process.execPath, [binPath, ...args], {cwd, env, encoding: 'utf8', maxBuffer: 256 << 20})
  if (r.error) throw r.error
  return result(`dsv ${args.join(' ')}`, r.status, r.signal, r.stdout, r.stderr)
}

export function dsv(cwd: string, ...args: string[]): RunResult {
  return dsvEnv(cwd, defaultEnv(), ...args)
}

/** Like dsv(), without blocking: independent runs can go in parallel with Promise.all. */
export function dsvAsync(cwd: string, ...args: string[]): Promise<RunResult> {
  return dsvEnvAsync(cwd, defaultEnv(), ...args)
}

/** At most this many dsv processes started by dsvAsync run at once (each is mostly CPU). */
const MAX_PARALLEL = Math.max(2, os.availableParallelism?.() ?? os.cpus().length) + 1
let running = 0
/** Runs asked for by tests go before runs asked for by Prepared set-ups (background work). */
const waiting: {now: Array<() => void>; background: Array<() => void>} = {now: [], background: []}
const background = new AsyncLocalStorage<boolean>()

async function slot<T>(fn: () => Promise<T>): Promise<T> {
  if (running >= MAX_PARALLEL) await new Promise<void>((resolve) => waiting[background.getStore() ? 'background' : 'now'].push(resolve))
  running++
  try {
    return await fn()
  } finally {
    running--
    ;(waiting.now.shift() ?? waiting.background.shift())?.()
  }
}

export function dsvEnvAsync(cwd: string, env: NodeJS.ProcessEnv, ...args: string[]): Promise<RunResult> {
  return slot(() => spawnDsv(cwd, env, args))
}

function spawnDsv(cwd: string, env: NodeJS.ProcessEnv, args: string[]): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [binPath, ...args], {cwd, env, stdio: ['ignore', 'pipe', 'pipe']})
    const out: Buffer[] = []
    const err: Buffer[] = []
    child.stdout.on('data', (b: Buffer) => out.push(b))
    child.stderr.on('data', (b: Buffer) => err.push(b))
    child.on('error', reject)
    child.on('close', (code, signal) =>
      resolve(result(`dsv ${args.join(' ')}`, code, signal, Buffer.concat(out).toString('utf8'), Buffer.concat(err).toString('utf8'))))
  })
}

/** Runs dsv as another user (root only: to test permission errors that root would bypass). */
export function dsvAsUser(cwd: string, env: NodeJS.ProcessEnv, uid: number, ...args: string[]): RunResult {
  const r = spawnSync(process.execPath, [binPath, ...args], {cwd, env, uid, gid: uid, encoding: 'utf8', maxBuffer: 256 << 20})
  if (r.error) throw r.error
  return result(`dsv ${args.join(' ')} (uid ${uid})`, r.status, r.signal, r.stdout, r.stderr)
}

/** Runs `dsv ...args --json`, asserts the exit code, returns the parsed document. */
export function dsvJson<T = any>(cwd: string, expectCode: number, ...args: string[]): T {
  const r = dsv(cwd, ...args, '--json')
  assertExit(r, expectCode, `dsv ${args.join(' ')} --json`)
  return r.json<T>()
}

/** dsvJson() without blocking. */
export async function dsvJsonAsync<T = any>(cwd: string, expectCode: number, ...args: string[]): Promise<T> {
  const r = await dsvAsync(cwd, ...args, '--json')
  assertExit(r, expectCode, `dsv ${args.join(' ')} --json`)
  return r.json<T>()
}

export function assertExit(r: RunResult, code: number, what = 'dsv'): void {
  // (no "X: expected" in the message: mocha would cut it down to X)
  assert.equal(r.code, code, `${what} exited with ${r.code} instead of ${code}\nstdout:\n${r.stdout.slice(0, 4000)}\nstderr:\n${r.stderr.slice(0, 4000)}`)
}

/** Asserts a --json failure: exit code, one JSON document `{"error": {code, message, ...}}`. */
export function assertJsonError(r: RunResult, exitCode: number, errorCode: string): Record<string, any> {
  assertExit(r, exitCode)
  const doc = r.json<{error: Record<string, any>}>()
  assert.ok(doc && typeof doc === 'object' && doc.error, `expected {"error": ...}, got ${r.stdout}`)
  assert.equal(doc.error.code, errorCode, `error code: ${r.stdout}`)
  assert.equal(typeof doc.error.message, 'string')
  assert.ok(doc.error.message.length > 0)
  return doc.error
}

/** Runs git (for the author / provenance tests). */
export function git(cwd: string, ...args: string[]): string {
  const r = spawnSync('git', args, {cwd, encoding: 'utf8', env: cleanEnv({}, cwd)})
  if (r.status !== 0) throw new Error(`git ${args.join(' ')} failed: ${r.stderr}`)
  return r.stdout.trim()
}

// ---------------------------------------------------------------- temp dirs and repos

/** Temp dirs made by one test file, removed in its `after` hook. */
export class TempDirs {
  private dirs: string[] = []

  make(prefix = 'dsv-test-'): string {
    const d = fs.mkdtempSync(path.join(os.tmpdir(), prefix))
    this.dirs.push(d)
    return fs.realpathSync(d)
  }

  cleanup(): void {
    for (const d of this.dirs.splice(0)) {
      try {
        restorePermissions(d)
      } catch {}
      fs.rmSync(d, {recursive: true, force: true})
    }
  }
}

function restorePermissions(dir: string): void {
  for (const e of fs.readdirSync(dir, {withFileTypes: true})) {
    const p = path.join(dir, e.name)
    if (e.isSymbolicLink()) continue
    fs.chmodSync(p, e.isDirectory() ? 0o755 : 0o644)
    if (e.isDirectory()) restorePermissions(p)
  }
}

/** Copies fixture paths (files or folders, relative to fixtures/) into `dir`, keeping their paths. */
export function copyFixtures(dir: string, subset: string[]): void {
  for (const rel of subset) {
    const from = path.join(fixturesDir, rel)
    const to = path.join(dir, rel)
    fs.mkdirSync(path.dirname(to), {recursive: true})
    fs.cpSync(from, to, {recursive: true})
  }
}

export interface MadeRepo {
  dir: string
  /** the first commit's id, when `commit` was asked for */
  first?: string
}

/**
 * A fresh temp dir holding `subset` of the fixtures (['.'] for all), `dsv init`ed, and
 * committed once with message `commit` unless `commit` is false.
 */
export function makeRepoFrom(tmp: TempDirs, subset: string[], opts: {commit?: string | false} = {}): MadeRepo {
  const dir = tmp.make()
  copyFixtures(dir, subset)
  assertExit(dsv(dir, 'init', '--quiet'), 0, 'dsv init')
  if (opts.commit === false) return {dir}
  const c = dsvJson<{id: string}>(dir, 0, 'commit', '-m', opts.commit ?? 'initial import')
  return {dir, first: c.id}
}

/** makeRepoFrom() without blocking, so that several repositories can be prepared at once. */
export async function makeRepoFromAsync(tmp: TempDirs, subset: string[], opts: {commit?: string | false; files?: Record<string, string | Buffer>} = {}): Promise<MadeRepo> {
  const dir = tmp.make()
  copyFixtures(dir, subset)
  for (const [rel, content] of Object.entries(opts.files ?? {})) {
    fs.mkdirSync(path.dirname(path.join(dir, rel)), {recursive: true})
    fs.writeFileSync(path.join(dir, rel), content)
  }
  assertExit(await dsvAsync(dir, 'init', '--quiet'), 0, 'dsv init')
  if (opts.commit === false) return {dir}
  const r = await dsvAsync(dir, 'commit', '-m', opts.commit ?? 'initial import', '--json')
  assertExit(r, 0, 'dsv commit')
  return {dir, first: r.json<{id: string}>().id}
}

/**
 * Work (usually making a repository) that a describe needs, started early so that the
 * set-ups of several describes overlap: `prepareAll()` starts them all in a root `before`,
 * each describe awaits its own with `get()`. A failure surfaces where it is awaited.
 */
export class Prepared<T> {
  private promise?: Promise<T>

  constructor(private readonly fn: () => Promise<T>) {}

  start(): Promise<T> {
    if (!this.promise) {
      this.promise = background.run(true, this.fn)
      this.promise.catch(() => {}) // reported by get()
    }
    return this.promise
  }

  get(): Promise<T> {
    return this.start()
  }
}

export function prepared<T>(fn: () => Promise<T>): Prepared<T> {
  return new Prepared(fn)
}

/** Starts every Prepared in `all` (an object or array of them) before the first test. */
export function prepareAll(all: Record<string, Prepared<unknown>> | Array<Prepared<unknown>>): void {
  before(() => {
    for (const p of Object.values(all)) p.start()
  })
}

// ---------------------------------------------------------------- hashing and comparing

export function sha256(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex')
}

export function sha256File(file: string): string {
  return sha256(fs.readFileSync(file))
}

/** Every regular file below `dir` (skipping `.dsv/` at the top), by relative path. */
export function listFiles(dir: string, skip: string[] = ['.dsv']): string[] {
  const out: string[] = []
  const walk = (d: string, rel: string) => {
    for (const e of fs.readdirSync(d, {withFileTypes: true}).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const r = rel ? `${rel}/${e.name}` : e.name
      if (!rel && skip.includes(e.name)) continue
      if (e.isDirectory()) walk(path.join(d, e.name), r)
      else out.push(r)
    }
  }
  walk(dir, '')
  return out
}

/** path → sha256 of every file below `dir` (without `.dsv/`). */
export function treeHashes(dir: string, skip: string[] = ['.dsv']): Map<string, string> {
  return new Map(listFiles(dir, skip).map((p) => [p, sha256File(path.join(dir, p))]))
}

/** Asserts two directory trees hold the same files with the same bytes (`.dsv/` aside). */
export function assertSameTree(actual: string, expected: string, skip: string[] = ['.dsv']): void {
  const a = listFiles(actual, skip)
  const b = listFiles(expected, skip)
  assert.deepEqual(a, b, `file lists differ between ${actual} and ${expected}`)
  const differ = b.filter((p) => !fs.readFileSync(path.join(actual, p)).equals(fs.readFileSync(path.join(expected, p))))
  assert.deepEqual(differ, [], `files whose bytes differ: ${differ.join(', ')}`)
}

/** Asserts `dir` holds exactly the files of a hash map from treeHashes(). */
export function assertTreeHashes(dir: string, expected: Map<string, string>, skip: string[] = ['.dsv']): void {
  const actual = treeHashes(dir, skip)
  assert.deepEqual([...actual.keys()], [...expected.keys()], `file lists differ in ${dir}`)
  const differ = [...expected].filter(([p, h]) => actual.get(p) !== h).map(([p]) => p)
  assert.deepEqual(differ, [], `files whose bytes differ: ${differ.join(', ')}`)
}

/** A copy of a working tree (without `.dsv/`) to compare against later. */
export function copyTree(from: string, to: string): void {
  for (const p of listFiles(from)) {
    fs.mkdirSync(path.dirname(path.join(to, p)), {recursive: true})
    fs.copyFileSync(path.join(from, p), path.join(to, p))
  }
}

// ---------------------------------------------------------------- editing data files

/** Splits text into lines, remembering whether it ended with a newline. */
function splitLines(text: string): {lines: string[]; finalNewline: boolean} {
  const finalNewline = text.endsWith('\n')
  const lines = (finalNewline ? text.slice(0, -1) : text).split('\n')
  return {lines, finalNewline}
}

/**
 * Rewrites a JSONL file line by line. `fn` returns undefined to keep the line's bytes,
 * null to delete it, or an object to write instead (compact JSON). `append` adds records.
 * Keeps the presence or absence of the final newline. Returns how many lines changed.
 */
export function editJsonl(file: string, fn: (rec: any, index: number) => any, append: any[] = []): {modified: number; removed: number; added: number} {
  const {lines, finalNewline} = splitLines(fs.readFileSync(file, 'utf8'))
  const out: string[] = []
  let modified = 0
  let removed = 0
  lines.forEach((line, i) => {
    if (line.trim() === '') return void out.push(line)
    const next = fn(JSON.parse(line), i)
    if (next === undefined) out.push(line)
    else if (next === null) removed++
    else {
      const text = JSON.stringify(next)
      if (text !== line) modified++
      out.push(text)
    }
  })
  for (const rec of append) out.push(JSON.stringify(rec))
  fs.writeFileSync(file, out.join('\n') + (finalNewline ? '\n' : ''))
  return {modified, removed, added: append.length}
}

/** Rewrites the lines of a line-based file (TSV, JSONL kept raw); `fn` returns the new line, or null to drop it. */
export function editLines(file: string, fn: (line: string, index: number) => string | null): number {
  const {lines, finalNewline} = splitLines(fs.readFileSync(file, 'utf8'))
  let changed = 0
  const out: string[] = []
  lines.forEach((line, i) => {
    const next = fn(line, i)
    if (next !== line) changed++
    if (next !== null) out.push(next)
  })
  fs.writeFileSync(file, out.join('\n') + (finalNewline ? '\n' : ''))
  return changed
}

/** Replaces the n-th column of TSV rows whose `keyColumn` value is in `keys`. */
export function editTsvByKey(file: string, keyColumn: string, keys: string[], column: string, value: (old: string) => string): number {
  const {lines} = splitLines(fs.readFileSync(file, 'utf8'))
  const header = lines[0].split('\t')
  const ki = header.indexOf(keyColumn)
  const ci = header.indexOf(column)
  assert.ok(ki >= 0 && ci >= 0, `columns ${keyColumn}/${column} not in ${file}`)
  const wanted = new Set(keys)
  return editLines(file, (line, i) => {
    if (i === 0 || line === '') return line
    const cells = line.split('\t')
    if (!wanted.has(cells[ki])) return line
    cells[ci] = value(cells[ci])
    return cells.join('\t')
  })
}

/** Replaces the one occurrence of `from` in a file (bytes kept as they are: CRLF, quotes). */
export function replaceOnce(file: string, from: string, to: string): void {
  const text = fs.readFileSync(file, 'latin1')
  const parts = text.split(from)
  assert.equal(parts.length, 2, `${JSON.stringify(from)} occurs exactly once in ${file}`)
  fs.writeFileSync(file, Buffer.from(parts.join(to), 'latin1'))
}

/** The JSONL file's records, parsed. */
export function readJsonl(file: string): any[] {
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l))
}

/** Reads a LogEntry list etc. with a concrete type where tests want one. */
export interface Counts {
  added: number
  removed: number
  modified: number
}

export interface LogEntry {
  id: string
  parents: string[]
  author: {name: string; email: string}
  date: string
  timestamp: number
  message: string
  tags: string[]
  refs: string[]
  examples: Counts
  files: Counts
  code: {gitCommit: string} | null
}

export interface StatusDoc {
  branch: string | null
  head: string | null
  clean: boolean
  files: Array<{path: string; status: 'added' | 'removed' | 'modified'; kind: 'table' | 'blob'; examples?: Counts; ignored?: true}>
  examples: Counts
  skipped: string[]
}

export function counts(added: number, removed: number, modified: number): Counts {
  return {added, removed, modified}
}

/** Awaits a dsv run and asserts it exited 0. */
export async function expectOk(p: Promise<RunResult>, what = 'dsv'): Promise<RunResult> {
  const r = await p
  assertExit(r, 0, what)
  return r
}

/** `dsv commit -m MESSAGE` in `dir`, asserted to succeed; the new commit's id. */
export async function commitAsync(dir: string, message: string): Promise<string> {
  const r = await expectOk(dsvAsync(dir, 'commit', '-m', message, '--json'), `dsv commit -m ${message}`)
  return r.json<{id: string}>().id
}

/** The codec byte of every block of every pack in `packDir` (0 raw, 2 brotli, 3 zstd). */
export function packBlockCodecs(packDir: string): Set<number> {
  const codecs = new Set<number>()
  for (const name of fs.readdirSync(packDir).filter((n) => n.endsWith('.pack'))) {
    const bytes = fs.readFileSync(path.join(packDir, name))
    let at = 8 // "DSVPACK1"
    const varint = () => {
      let n = 0
      for (let shift = 1; ; shift *= 128) {
        const b = bytes[at++]
        n += (b & 0x7f) * shift
        if (b < 0x80) return n
      }
    }
    while (at < bytes.length) {
      codecs.add(bytes[at++])
      varint() // raw length
      const stored = varint() // read before `at +=` reads `at`
      at += stored
    }
  }
  return codecs
}
