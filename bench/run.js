#!/usr/bin/env node
// dsv vs git benchmark. See bench/README.md.
//
//   node bench/run.js [--n 100000] [--n 1000000] [--seed 42] [--keep]
//                     [--only core|git|dsv] [--save FILE] [--json] [--strict]
//                     [--dsv PATH] [--timeout SECONDS] [--compare FILE] [--repeat K]
//
// For each N: a fresh temp dir under os.tmpdir(); v1 generated once and copied,
// so git and dsv see byte-identical data; then git and dsv each commit v1, move
// to v2, commit, check v1 out again, report status, and (dsv) check v1 out
// into another directory; then diff v1 v2 (git diff --stat; dsv diff --stat and
// --json > file), go back to v2, modify 100 examples (v3), commit, and diff v2 v3.
// Every child process is timed (wall clock) and its peak RSS recorded. The
// table goes to stdout, progress to stderr; the results
// JSON is written to the temp dir (kept with --keep) and, with --save, to FILE.

import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {spawn, spawnSync} from 'node:child_process'
import {fileURLToPath} from 'node:url'
import {generateV1, applyV2, applyV3, v2Plan, compareToManifest, V3_COUNT} from './generate.js'

const BENCH_DIR = path.dirname(fileURLToPath(import.meta.url))
const REPO_ROOT = path.resolve(BENCH_DIR, '..')
const MB = 1e6 // sizes on disk are in decimal MB
const MiB = 1024 * 1024 // memory in MiB

// Targets (defined at N = 1,000,000).
const TARGET = {
  commitRatio: 0.75, // dsv commit v1 / v2 <= 0.75 x git add -A + commit
  checkoutRatio: 0.75, // dsv checkout v1 <= 0.75 x git checkout
  sizeV1Ratio: 1.0, // .dsv after v1 <= .git after v1
  growthV2: 1.05, // .dsv after v2 <= 1.05 x .dsv after v1
  statusSeconds: 1.0, // dsv status (nothing changed) < 1 s
  peakMB: 512, // every dsv process < 512 MiB peak RSS (all *MB fields for memory are MiB)
  diffRatio: 0.25, // dsv diff v1 v2 --stat, and --json > file, <= 0.25 x git diff --stat v1 v2
  diffScale: 2, // dsv diff of a 100-example change: time at N = 1M <= 2 x time at N = 100k
  qualityRatio: 2, // dsv quality check v1 <= 2 x dsv checkout v1 --to DIR (both read every example once)
}

// The rules the quality check runs on the benchmark data: the golden profile, with the
// generator's own status values allowed.
const BENCH_RULES = `thresholds: {completeness: 95, consistency: 90, validity: 95, overall: 90}
files:
  - pattern: "data/*.jsonl"
    profile: golden
    allowed: {validation_status: [validated, pending_review, rejected]}
    labels: [expected_output.tier]
`
const SCALE_PAIR = [100_000, 1_000_000] // the sizes the diffScale target compares
const TARGET_N = 1_000_000

// ---------------------------------------------------------------------------
// arguments

const USAGE = `usage: node bench/run.js [--n N]... [--seed S] [--keep] [--only core|git|dsv]...
                         [--save FILE] [--json] [--strict] [--dsv PATH] [--timeout SECONDS]
                         [--compare FILE] [--repeat K]
  --n N          dataset size (repeatable; default 100000)
  --keep         keep the temp dirs (default: removed at the end)
  --only core    only the operations that have targets (skips dsv checkout --to)
  --only git     only the git side;  --only dsv: only the dsv side
  --save FILE    also write the results JSON (all N) to FILE
  --json         print the results JSON on stdout instead of the table
  --strict       exit 1 when a target is missed (default: only on failures)
  --dsv PATH     dsv entry point (a .js file run with node, or an executable);
                 default ${path.join(REPO_ROOT, 'bin', 'run.js')}
  --timeout S    kill any single command after S seconds (default 1800)
  --compare FILE results saved earlier (--save) of other sizes, for the diff
                 scaling check (1M vs 100k) when this run has only one of them
  --repeat K     time each commit (v1, v2), checkout, status and diff K times (the
                 same on both sides) and report the median (default 1)
  --no-sync      do not run \`sync\` (untimed) before each timed command`

function parseArgs(argv) {
  const o = {ns: [], seed: 42, keep: false, only: new Set(), save: null, json: false, strict: false, dsv: null, timeout: 1800, compare: [], repeat: 1, sync: true}
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]
    const val = () => {
      if (i + 1 >= argv.length) throw new Error(`${a} needs a value`)
      return argv[++i]
    }
    const int = (s) => {
      const v = Number(String(s).replace(/[_,]/g, ''))
      if (!Number.isInteger(v) || v < 1) throw new Error(`${a}: not a positive integer: ${s}`)
      return v
    }
    if (a === '--n') o.ns.push(int(val()))
    else if (a === '--seed') o.seed = int(val())
    else if (a === '--keep') o.keep = true
    else if (a === '--only') {
      for (const v of val().split(',')) {
        if (!['core', 'git', 'dsv'].includes(v)) throw new Error(`--only: expected core, git or dsv, got ${v}`)
        o.only.add(v)
      }
    } else if (a === '--save') o.save = path.resolve(val())
    else if (a === '--json') o.json = true
    else if (a === '--strict') o.strict = true
    else if (a === '--dsv') o.dsv = path.resolve(val())
    else if (a === '--timeout') o.timeout = int(val())
    else if (a === '--repeat') o.repeat = int(val())
    else if (a === '--no-sync') o.sync = false
    else if (a === '--compare') o.compare.push(path.resolve(val()))
    else if (a === '-h' || a === '--help') o.help = true
    else throw new Error(`unknown argument ${a}`)
  }
  if (o.only.has('git') && o.only.has('dsv')) o.only.delete('git'), o.only.delete('dsv')
  if (!o.ns.length) o.ns.push(100_000)
  return o
}

const log = (msg) => process.stderr.write(`${msg}\n`)

// ---------------------------------------------------------------------------
// running and measuring child processes

/**
 * How peak memory is measured. Preferred: GNU time (`/usr/bin/time -f ...`),
 * which reports ru_maxrss from wait4() for the child, in KiB (for a process
 * tree: the largest single process among it and its waited-for descendants).
 * Fallback: sample VmHWM in /proc/<pid>/status of the child and its
 * descendants every 20 ms (VmHWM is the kernel's own high-water mark, so only
 * the last interval before exit and very short-lived grandchildren are missed).
 */
function detectMemoryMethod() {
  const t = '/usr/bin/time'
  if (process.env.DSV_BENCH_MEMORY === 'proc') return 'proc-vmhwm' // to test the fallback
  if (fs.existsSync(t)) {
    const tmp = path.join(os.tmpdir(), `dsv-bench-time-probe-${process.pid}`)
    const r = spawnSync(t, ['-f', '%e %M', '-o', tmp, 'true'])
    let ok = false
    try {
      ok = r.status === 0 && /^\d+\.\d+ \d+\s*$/.test(fs.readFileSync(tmp, 'utf8'))
      fs.rmSync(tmp, {force: true})
    } catch {}
    if (ok) return 'gnu-time'
  }
  if (fs.existsSync('/proc/self/status')) return 'proc-vmhwm'
  return 'none'
}

let MEMORY_METHOD = 'none'
let current = null // the running child, for Ctrl-C clean-up

function readVmHWM(pid) {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))
    return m ? Number(m[1]) : 0
  } catch {
    return 0
  }
}

function descendants(pid, acc = []) {
  let tasks = []
  try {
    tasks = fs.readdirSync(`/proc/${pid}/task`)
  } catch {
    return acc
  }
  for (const t of tasks) {
    let kids = ''
    try {
      kids = fs.readFileSync(`/proc/${pid}/task/${t}/children`, 'utf8')
    } catch {}
    for (const k of kids.split(/\s+/).filter(Boolean)) {
      acc.push(Number(k))
      descendants(Number(k), acc)
    }
  }
  return acc
}

/**
 * Run cmd with args in cwd. Resolves to {code, stdout, stderr, seconds,
 * peakKB, userSeconds, sysSeconds}; never rejects for a non-zero exit.
 */
function measure(cmd, args, {cwd, env, timeout, stdoutFile = null}) {
  return new Promise((resolve) => {
    const timeFile = path.join(os.tmpdir(), `dsv-bench-time-${process.pid}-${Date.now()}`)
    let argv0 = cmd
    let argv = args
    if (MEMORY_METHOD === 'gnu-time') {
      argv0 = '/usr/bin/time'
      argv = ['-f', '%e %M %U %S', '-o', timeFile, cmd, ...args]
    }
    const out = []
    const err = []
    let peakKB = 0
    let timedOut = false
    // stdoutFile: the child writes its stdout straight into that file (as `> FILE` in a
    // shell), so a large output is neither piped through nor held by the harness
    const outFd = stdoutFile ? fs.openSync(stdoutFile, 'w') : null
    const t0 = process.hrtime.bigint()
    const child = spawn(argv0, argv, {cwd, env, detached: true, stdio: ['ignore', outFd ?? 'pipe', 'pipe']})
    if (outFd !== null) fs.closeSync(outFd) // the child has its own copy
    current = {pid: child.pid, timeFile}
    if (child.stdout) child.stdout.on('data', (d) => out.push(d))
    child.stderr.on('data', (d) => err.push(d))
    let sampler = null
    if (MEMORY_METHOD === 'proc-vmhwm') {
      sampler = setInterval(() => {
        for (const p of [child.pid, ...descendants(child.pid)]) peakKB = Math.max(peakKB, readVmHWM(p))
      }, 20)
    }
    const killer = setTimeout(() => {
      timedOut = true
      try {
        process.kill(-child.pid, 'SIGKILL')
      } catch {}
    }, timeout * 1000)
    const finish = (code, signal, spawnError) => {
      const seconds = Number(process.hrtime.bigint() - t0) / 1e9
      clearTimeout(killer)
      if (sampler) clearInterval(sampler)
      current = null
      let userSeconds = null
      let sysSeconds = null
      if (MEMORY_METHOD === 'gnu-time') {
        try {
          // the last line is "%e %M %U %S"; a "Command exited with non-zero status" line may precede it
          const lines = fs.readFileSync(timeFile, 'utf8').trim().split('\n')
          const f = lines[lines.length - 1].trim().split(/\s+/).map(Number)
          if (f.length === 4 && f.every((x) => Number.isFinite(x))) [, peakKB, userSeconds, sysSeconds] = f
        } catch {}
        fs.rmSync(timeFile, {force: true})
      }
      let stdout = Buffer.concat(out).toString('utf8')
      // a failed command's --json error document is small: read it back for the report
      if (stdoutFile && code !== 0) stdout = readHead(stdoutFile, 64 * 1024)
      resolve({
        code: spawnError ? 127 : code === null ? 128 : code,
        signal,
        timedOut,
        spawnError: spawnError ? spawnError.message : null,
        stdout,
        stderr: Buffer.concat(err).toString('utf8'),
        seconds,
        peakKB: peakKB || null,
        userSeconds,
        sysSeconds,
      })
    }
    child.on('error', (e) => finish(null, null, e))
    child.on('close', (code, signal) => finish(code, signal, null))
  })
}

// ---------------------------------------------------------------------------
// helpers

/** The first `max` bytes of a file as text ('' when it cannot be read). */
function readHead(file, max) {
  try {
    const fd = fs.openSync(file, 'r')
    try {
      const buf = Buffer.allocUnsafe(max)
      return buf.toString('utf8', 0, fs.readSync(fd, buf, 0, max, 0))
    } finally {
      fs.closeSync(fd)
    }
  } catch {
    return ''
  }
}

/** The store's parts apart (packs, LevelDB index, the rest), to tell which one grew. */
function storeParts(dsvDir) {
  const packs = duBytes(path.join(dsvDir, 'packs'))
  const index = duBytes(path.join(dsvDir, 'index'))
  const packFiles = fs.readdirSync(path.join(dsvDir, 'packs')).filter((f) => f.endsWith('.pack')).length
  return {packs, index, other: duBytes(dsvDir) - packs - index, packFiles}
}

function describeParts(p) {
  return `packs ${fmtMB(p.packs)} MB in ${p.packFiles} files, index ${fmtMB(p.index)} MB, other ${fmtMB(p.other)} MB`
}

/** Apparent size of a tree in bytes, like `du -sb` (directories count their st_size; hard links once). */
function duBytes(root) {
  let total = 0
  const seen = new Set()
  const stack = [root]
  while (stack.length) {
    const p = stack.pop()
    let st
    try {
      st = fs.lstatSync(p)
    } catch {
      continue
    }
    if (st.nlink > 1 && !st.isDirectory()) {
      const key = `${st.dev}:${st.ino}`
      if (seen.has(key)) continue
      seen.add(key)
    }
    total += st.size
    if (st.isDirectory()) for (const e of fs.readdirSync(p)) stack.push(path.join(p, e))
  }
  return total
}

const fmtS = (s) => (s == null ? '-' : s < 10 ? s.toFixed(2) : s.toFixed(1))
const fmtMB = (b) => (b == null ? '-' : (b / MB).toFixed(1))
const fmtRatio = (r) => (r == null || !Number.isFinite(r) ? '-' : r.toFixed(2))
const fmtInt = (n) => (n == null ? '-' : n.toLocaleString('en-US'))
const kbToMB = (kb) => (kb == null ? null : kb / 1024)

class StepError extends Error {
  constructor(step, message, detail) {
    super(message)
    this.step = step
    this.detail = detail
  }
}

/** The useful part of a failed command's output: its --json error, else its first error line, else its tail. */
function failureDetail(r) {
  const parts = []
  try {
    const e = JSON.parse(r.stdout).error
    if (e) parts.push(`${e.code}: ${e.message}`)
  } catch {}
  const errLine = r.stderr.split('\n').find((l) => /\berror\b/i.test(l))
  if (errLine) parts.push(errLine.trim())
  else if (r.stderr.trim()) parts.push(tail(r.stderr, 4))
  if (!parts.length && r.stdout.trim()) parts.push(tail(r.stdout, 4))
  return parts.join('\n')
}

const lastLine = (s) => s.trim().split('\n').pop()?.trim() ?? ''

function tail(s, lines = 6) {
  const t = s.trim().split('\n')
  return t.slice(-lines).join('\n')
}

// ---------------------------------------------------------------------------
// the two sides

function gitEnv() {
  return {
    ...process.env,
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null', // the user's ~/.gitconfig must not change the figures
    GIT_AUTHOR_NAME: 'dsv bench',
    GIT_AUTHOR_EMAIL: 'bench@example.invalid',
    GIT_COMMITTER_NAME: 'dsv bench',
    GIT_COMMITTER_EMAIL: 'bench@example.invalid',
    GIT_TERMINAL_PROMPT: '0',
    LC_ALL: 'C',
  }
}

function dsvEnv() {
  return {
    ...process.env,
    DSV_AUTHOR_NAME: 'dsv bench',
    DSV_AUTHOR_EMAIL: 'bench@example.invalid',
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
    NO_COLOR: '1',
    FORCE_COLOR: '0',
  }
}

/** Timed steps of one side; each op is {seconds, peakMB, userSeconds, sysSeconds, steps: [...]}. */
/**
 * Runs the steps of the two sides one at a time, in the order they ask for them: with both
 * sides running at once, git's and dsv's commands alternate, so that each ratio compares
 * runs made minutes (not a quarter of an hour) apart. This machine's speed drifts by 10-30%
 * over minutes, and unevenly: two busy threads lose more than one.
 */
class Turns {
  #tail = Promise.resolve()

  run(step) {
    const done = this.#tail.then(step)
    this.#tail = done.catch(() => {})
    return done
  }
}

/** Both sides apply the same version change: the first records it, the second must agree. */
function agree(shared, key, m) {
  if (!shared[key]) shared[key] = m
  else if (JSON.stringify(shared[key].files) !== JSON.stringify(m.files)) throw new StepError(`apply ${key}`, `${key} differs between the git and the dsv copy (generator not deterministic?)`, '')
}

class Side {
  constructor(name, opts) {
    this.name = name
    this.opts = opts
    this.ops = {}
    this.sizes = {}
    this.processes = [] // every process run: {label, seconds, peakMB, code}
  }

  /** Runs `step` (file work of the harness: applying a version, checking files) in turn with the other side's commands. */
  step(step) {
    return this.opts.turns.run(step)
  }

  async run(op, label, cmd, args, {cwd, env, allowCodes = [0], stdoutFile = null}) {
    const r = await this.step(async () => {
      // the previous step's dirty pages are written back now, untimed, not during this step
      // (a command that fsyncs would wait for them; writeback competes with any command)
      if (op && this.opts.sync) spawnSync('sync')
      return measure(cmd, args, {cwd, env, timeout: this.opts.timeout, stdoutFile})
    })
    const peakMB = kbToMB(r.peakKB)
    this.processes.push({op, label, seconds: r.seconds, peakMB, code: r.code})
    if (op) {
      const o = (this.ops[op] ??= {seconds: 0, peakMB: null, userSeconds: null, sysSeconds: null, commands: []})
      o.seconds += r.seconds
      if (peakMB != null) o.peakMB = Math.max(o.peakMB ?? 0, peakMB)
      if (r.userSeconds != null) (o.userSeconds = (o.userSeconds ?? 0) + r.userSeconds), (o.sysSeconds = (o.sysSeconds ?? 0) + r.sysSeconds)
      o.commands.push(label)
    }
    if (!allowCodes.includes(r.code)) {
      if (op) this.ops[op].failed = true
      const why = r.timedOut ? `timed out after ${this.opts.timeout} s` : r.spawnError ? r.spawnError : `exit ${r.code}${r.signal ? ` (${r.signal})` : ''}`
      throw new StepError(label, `\`${label}\` failed: ${why}`, failureDetail(r))
    }
    log(`  ${this.name}: ${label}: ${fmtS(r.seconds)} s${peakMB != null ? `, ${peakMB.toFixed(0)} MiB peak` : ''}`)
    return r
  }

  /**
   * Times `op` opts.repeat times (`once` runs it; `reset`, untimed, puts things back before
   * each further run) and keeps the median: one run on a noisy machine can miss by 10%.
   * Returns the last run's result.
   */
  async repeated(op, once, reset = async () => {}) {
    const times = []
    let last
    for (let i = 0; i < this.opts.repeat; i++) {
      if (i > 0) await reset()
      const before = this.ops[op]?.seconds ?? 0
      last = await once()
      times.push(this.ops[op].seconds - before)
    }
    const o = this.ops[op]
    o.runs = times
    o.seconds = median(times)
    if (o.userSeconds != null) (o.userSeconds /= times.length), (o.sysSeconds /= times.length) // per run, on average
    if (times.length > 1) log(`  ${this.name}: ${op}: median of ${times.length}: ${fmtS(o.seconds)} s (${times.map(fmtS).join(', ')})`)
    return last
  }
}

/**
 * With --repeat, keeps a copy of a store (`.git` or `.dsv`) outside the working tree and
 * returns what puts it back, so that a commit can be timed again from the same state.
 */
async function snapshot(storeDir, side, opts) {
  if (opts.repeat <= 1) return async () => {}
  const copy = path.join(path.dirname(path.dirname(storeDir)), `${side.name}-${path.basename(storeDir).slice(1)}-snapshot`)
  await side.step(() => {
    fs.rmSync(copy, {recursive: true, force: true})
    fs.cpSync(storeDir, copy, {recursive: true, preserveTimestamps: true})
  })
  return () =>
    side.step(() => {
      fs.rmSync(storeDir, {recursive: true, force: true})
      fs.cpSync(copy, storeDir, {recursive: true, preserveTimestamps: true})
    })
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b)
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2
}

async function gitSide(dir, m1, shared, opts) {
  const s = new Side('git', opts)
  const env = gitEnv()
  const git = (op, args, extra = {}) => s.run(op, `git ${args.join(' ')}`, 'git', args, {cwd: dir, env, ...extra})
  try {
    const gitDir = path.join(dir, '.git')
    await git('init', ['-c', 'init.defaultBranch=main', 'init', '-q'])
    await s.repeated('commitV1', async () => {
      await git('commitV1', ['add', '-A'])
      await git('commitV1', ['commit', '-q', '-m', 'v1'])
    }, async () => {
      await s.step(() => fs.rmSync(gitDir, {recursive: true, force: true}))
      await git(null, ['-c', 'init.defaultBranch=main', 'init', '-q'])
    })
    s.sizes.v1 = duBytes(gitDir)
    const v1 = (await git(null, ['rev-parse', 'HEAD'])).stdout.trim()
    log(`  git: .git after v1: ${fmtMB(s.sizes.v1)} MB`)
    agree(shared, 'v2', await s.step(() => applyV2({n: opts.n, dir, seed: opts.seed})))
    const restoreV1 = await snapshot(gitDir, s, opts)
    await s.repeated('commitV2', async () => {
      await git('commitV2', ['add', '-A'])
      await git('commitV2', ['commit', '-q', '-m', 'v2'])
    }, restoreV1)
    s.sizes.v2 = duBytes(gitDir)
    log(`  git: .git after v2: ${fmtMB(s.sizes.v2)} MB`)
    await s.repeated('checkoutV1', () => git('checkoutV1', ['checkout', '-q', v1]), () => git(null, ['checkout', '-q', 'main']))
    const bad = await s.step(() => compareToManifest(dir, m1))
    s.checkoutOk = bad.length === 0
    if (bad.length) log(`  git: WARNING: after git checkout v1 the data differs from v1: ${bad.join('; ')}`)
    const st = await s.repeated('status', () => git('status', ['status']))
    s.statusClean = /nothing to commit/.test(st.stdout)
    // diff: the reference for dsv diff is `git diff --stat` between the two commits
    const v2 = (await git(null, ['rev-parse', 'main'])).stdout.trim()
    const d12 = await s.repeated('diffV1V2', () => git('diffV1V2', ['diff', '--stat', v1, v2]))
    s.diffStat = {v1v2: lastLine(d12.stdout)}
    // the small change: back to v2 on main, modify 100 examples, commit v3
    await git(null, ['checkout', '-q', 'main'])
    agree(shared, 'v3', await s.step(() => applyV3({n: opts.n, dir, seed: opts.seed})))
    await git('commitV3', ['add', '-A'])
    await git('commitV3', ['commit', '-q', '-m', 'v3'])
    const v3 = (await git(null, ['rev-parse', 'HEAD'])).stdout.trim()
    const d23 = await s.repeated('diffSmall', () => git('diffSmall', ['diff', '--stat', v2, v3]))
    s.diffStat.v2v3 = lastLine(d23.stdout)
  } catch (e) {
    if (!(e instanceof StepError)) throw e
    s.error = {step: e.step, message: e.message, detail: e.detail}
    log(`  git: ERROR ${e.message}\n${e.detail}`)
  }
  return s
}

/** Which shard (index) of a manifest holds v1 example `id` (shards hold contiguous id ranges). */
function shardOf(m, id) {
  let k = 0
  while (k + 1 < m.shards && Math.floor(((k + 1) * m.n) / m.shards) + 1 <= id) k++ // shard k starts at floor(k n / shards) + 1
  return k
}

/**
 * Time `dsv diff FROM TO --stat` (its text) and `dsv diff FROM TO --json > FILE`, and
 * check both. A failing diff is recorded (and fails the correctness checks) but does not
 * stop the rest of the run.
 */
async function dsvDiffs(s, {cmd, pre, dir, env}, {from, to, statOp, jsonOp, jsonFile, want}) {
  const out = {stat: null, json: null}
  const statArgs = ['diff', from, to, '--stat']
  try {
    const r = await s.repeated(statOp, () => s.run(statOp, `dsv ${statArgs.join(' ')}`, cmd, [...pre, ...statArgs], {cwd: dir, env}))
    const summary = r.stdout.trim().split('\n').filter((l) => /examples:/.test(l)).pop() ?? null
    const counts = parseStatTotals(r.stdout)
    const countsOk = counts ? counts.added === want.added && counts.removed === want.removed && counts.modified === want.modified : null
    out.stat = {code: r.code, summary, counts, countsOk}
    if (countsOk === false) log(`  dsv: diff --stat totals ${summary} differ from the generator's (+${want.added} -${want.removed} ~${want.modified})`)
  } catch (e) {
    if (!(e instanceof StepError)) throw e
    out.stat = {code: s.processes.at(-1)?.code ?? null, error: `${e.message}${e.detail ? `: ${e.detail}` : ''}`}
    log(`  dsv: ERROR ${e.message}${e.detail ? `\n${e.detail.replace(/^/gm, '    ')}` : ''}`)
  }
  const jsonArgs = ['diff', from, to, '--json']
  try {
    await s.repeated(jsonOp, () => s.run(jsonOp, `dsv ${jsonArgs.join(' ')} > ${path.basename(jsonFile)}`, cmd, [...pre, ...jsonArgs], {cwd: dir, env, stdoutFile: jsonFile}))
    out.json = {file: jsonFile, ...(await s.step(() => checkDiffJson(jsonFile, want)))}
    if (!out.json.ok) log(`  dsv: diff --json check FAILED:\n${out.json.problems.map((p) => `    ${p}`).join('\n')}`)
  } catch (e) {
    if (!(e instanceof StepError)) throw e
    out.json = {file: jsonFile, ok: false, problems: [`${e.message}${e.detail ? `: ${e.detail}` : ''}`]}
    log(`  dsv: ERROR ${e.message}${e.detail ? `\n${e.detail.replace(/^/gm, '    ')}` : ''}`)
  }
  out.want = {added: want.added, removed: want.removed, modified: want.modified, moved: 0}
  return out
}

function dsvCommand(opts) {
  const entry = opts.dsv ?? path.join(REPO_ROOT, 'bin', 'run.js')
  return entry.endsWith('.js') ? {cmd: process.execPath, pre: [entry]} : {cmd: entry, pre: []}
}

function parseJson(r, label) {
  try {
    return JSON.parse(r.stdout)
  } catch {
    throw new StepError(label, `\`${label}\` did not print one JSON document on stdout`, tail(r.stdout || r.stderr))
  }
}

/** Quick check that the dsv CLI can initialise a repository at all. */
async function dsvPreflight(root, opts) {
  const {cmd, pre} = dsvCommand(opts)
  const probe = path.join(root, 'dsv-probe')
  fs.mkdirSync(probe)
  const r = await measure(cmd, [...pre, 'init', '--json'], {cwd: probe, env: dsvEnv(), timeout: 120})
  fs.rmSync(probe, {recursive: true, force: true})
  if (r.code !== 0) {
    let hint = ''
    if (!opts.dsv && !fs.existsSync(path.join(REPO_ROOT, 'dist'))) hint = ' (no dist/ folder: run `npm run build` first, or `npm run bench`)'
    return `the dsv CLI is not ready: \`dsv init --json\` exited ${r.code}${hint}:\n${failureDetail(r)}`
  }
  return null
}

/**
 * Check a `dsv diff --json` document (in a file) against what the generator changed.
 * want: {from, to (commit ids), added, removed, modified, files (changed files), ids:
 * {added, removed, modified} (Sets of example numbers, or null)}. Returns {ok, bytes,
 * totals, problems}: the totals must equal the generator's counts, nothing may be
 * "moved", the per-file counts must add up to the totals, and every change listed must
 * be one the generator made (keys ex-0000123 -> 123), each exactly once.
 */
function checkDiffJson(file, want) {
  const problems = []
  const bytes = fs.statSync(file).size
  let doc
  try {
    doc = JSON.parse(fs.readFileSync(file, 'utf8'))
  } catch (e) {
    return {ok: false, bytes, totals: null, problems: [`not one JSON document (${e.message})`]}
  }
  if (doc.error) return {ok: false, bytes, totals: null, problems: [`error ${doc.error.code}: ${doc.error.message}`]}
  if (doc.from?.commit !== want.from) problems.push(`from.commit is ${doc.from?.commit}, expected ${want.from}`)
  if (doc.to?.commit !== want.to) problems.push(`to.commit is ${doc.to?.commit}, expected ${want.to}`)
  const totals = doc.totals?.examples ?? null
  const KINDS = ['added', 'removed', 'modified', 'moved']
  const expected = {added: want.added, removed: want.removed, modified: want.modified, moved: 0}
  if (!totals) problems.push('no totals.examples')
  else for (const k of KINDS) if (totals[k] !== expected[k]) problems.push(`totals.examples.${k} = ${totals[k]}, generator: ${expected[k]}`)
  const files = Array.isArray(doc.files) ? doc.files : []
  if (!Array.isArray(doc.files)) problems.push('no files[]')
  if (files.length !== want.files) problems.push(`${files.length} files listed, expected ${want.files} (the shards)`)
  const sum = {added: 0, removed: 0, modified: 0, moved: 0}
  const seen = {added: new Set(), removed: new Set(), modified: new Set(), moved: new Set()}
  let listed = 0
  for (const f of files) {
    if (f.kind !== 'table' || f.status !== 'modified') problems.push(`${f.path}: ${f.status} ${f.kind}, expected a modified table`)
    for (const k of KINDS) sum[k] += f.examples?.[k] ?? 0
    if (!Array.isArray(f.changes)) continue
    if (f.omitted) problems.push(`${f.path}: ${f.omitted} changes omitted although --json lists all`)
    const n = KINDS.reduce((a, k) => a + (f.examples?.[k] ?? 0), 0)
    if (f.changes.length + (f.omitted ?? 0) !== n) problems.push(`${f.path}: ${f.changes.length} changes listed, its counts add up to ${n}`)
    for (const c of f.changes) {
      listed++
      const m = /^ex-0*(\d+)$/.exec(c.key ?? '')
      const id = m ? Number(m[1]) : null
      if (id == null || !seen[c.change]) {
        if (problems.length < 20) problems.push(`${f.path}: unexpected change ${JSON.stringify({change: c.change, key: c.key})}`)
        continue
      }
      if (seen[c.change].has(id) && problems.length < 20) problems.push(`${f.path}: ${c.key} listed twice as ${c.change}`)
      seen[c.change].add(id)
      if (c.change === 'modified' && !(c.fields?.length > 0) && problems.length < 20) problems.push(`${f.path}: ${c.key} modified but no field listed`)
    }
  }
  if (totals) for (const k of KINDS) if (sum[k] !== totals[k]) problems.push(`files[].examples.${k} add up to ${sum[k]}, totals.examples.${k} = ${totals[k]}`)
  if (want.ids && listed > 0) {
    for (const k of ['added', 'removed', 'modified']) {
      const exp = want.ids[k]
      const got = seen[k]
      const missing = [...exp].filter((id) => !got.has(id))
      const extra = [...got].filter((id) => !exp.has(id))
      if (missing.length) problems.push(`${missing.length} ${k} examples not listed as ${k} (e.g. ${missing.slice(0, 3).join(', ')})`)
      if (extra.length) problems.push(`${extra.length} examples listed as ${k} that the generator did not ${{added: 'add', removed: 'remove', modified: 'modify'}[k]} (e.g. ${extra.slice(0, 3).join(', ')})`)
    }
  }
  return {ok: problems.length === 0, bytes, totals, keysChecked: listed > 0, problems}
}

/** The totals line of `dsv diff --stat` ("... examples: +5,000 -5,000 ~10,000"), parsed; null if not found. */
function parseStatTotals(text) {
  const m = /examples: \+([\d,]+) -([\d,]+) ~([\d,]+)/.exec(text)
  if (!m) return null
  const num = (x) => Number(x.replace(/,/g, ''))
  return {added: num(m[1]), removed: num(m[2]), modified: num(m[3])}
}

async function dsvSide(dir, toDir, m1, shared, opts) {
  const s = new Side('dsv', opts)
  const env = dsvEnv()
  const {cmd, pre} = dsvCommand(opts)
  const dsv = async (op, args, extra = {}) => {
    const label = `dsv ${args.join(' ')}`
    const r = await s.run(op, label, cmd, [...pre, ...args, '--json'], {cwd: dir, env, ...extra})
    return parseJson(r, label)
  }
  try {
    const dsvDir = path.join(dir, '.dsv')
    await dsv('init', ['init'])
    const c1 = await s.repeated('commitV1', () => dsv('commitV1', ['commit', '-m', 'v1']), async () => {
      await s.step(() => fs.rmSync(dsvDir, {recursive: true, force: true}))
      await dsv(null, ['init'])
    })
    s.sizes.v1 = duBytes(dsvDir)
    s.sizes.parts = {v1: storeParts(dsvDir)}
    log(`  dsv: .dsv after v1: ${fmtMB(s.sizes.v1)} MB (${describeParts(s.sizes.parts.v1)})`)
    const m2 = await s.step(() => applyV2({n: opts.n, dir, seed: opts.seed}))
    s.m2 = m2
    agree(shared, 'v2', m2)
    const restoreV1 = await snapshot(dsvDir, s, opts)
    const c2 = await s.repeated('commitV2', () => dsv('commitV2', ['commit', '-m', 'v2']), restoreV1)
    s.commitSummaries = {v1: {examples: c1.examples, files: c1.files}, v2: {examples: c2.examples, files: c2.files}}
    s.sizes.v2 = duBytes(dsvDir)
    s.sizes.parts.v2 = storeParts(dsvDir)
    log(`  dsv: .dsv after v2: ${fmtMB(s.sizes.v2)} MB (${describeParts(s.sizes.parts.v2)})`)
    const history = await dsv(null, ['log'])
    const entry = Array.isArray(history) ? history.find((e) => e.message?.trim() === 'v1') ?? history[history.length - 1] : null
    const v1 = entry?.id ?? c1.id
    if (c1.id && v1 !== c1.id) log(`  dsv: WARNING: dsv log gives v1 = ${v1}, dsv commit said ${c1.id}`)
    await s.repeated('checkoutV1', () => dsv('checkoutV1', ['checkout', v1, '--force']), () => dsv(null, ['checkout', c2.branch ?? 'main', '--force']))
    const bad = await s.step(() => compareToManifest(dir, m1))
    s.checkoutOk = bad.length === 0
    s.checkoutProblems = bad
    if (bad.length) log(`  dsv: checkout v1 is NOT byte-identical to v1: ${bad.join('; ')}`)
    const st = await s.repeated('status', () => dsv('status', ['status']))
    s.statusClean = st.clean === true
    if (!opts.only.has('core')) {
      await dsv('checkoutTo', ['checkout', v1, '--to', toDir])
      const bad2 = await s.step(() => compareToManifest(toDir, m1))
      s.checkoutToOk = bad2.length === 0
      s.checkoutToProblems = bad2
      if (bad2.length) log(`  dsv: checkout v1 --to DIR is NOT byte-identical to v1: ${bad2.join('; ')}`)

      // quality check of the same version; no cached outcomes, so every example is read and checked
      const rulesFile = path.join(path.dirname(dir), 'bench-rules.yaml')
      await s.step(() => fs.writeFileSync(rulesFile, BENCH_RULES))
      const q = await dsv('qualityCheck', ['quality', 'check', v1, '--rules', rulesFile], {allowCodes: [0, 9], env: {...env, DSV_NO_CACHE: '1'}})
      s.quality = {examples: q?.examples ?? null, overall: q?.overall?.score ?? null, passed: q?.passed ?? null, tiers: q?.scores?.tiers ?? null}
      if (s.quality.examples !== opts.n) log(`  dsv: quality check saw ${s.quality.examples} examples, not ${opts.n}`)
    }

    // dsv diff v1 v2: --stat (text), then --json into a file
    const v2 = c2.id
    const plan = v2Plan(opts.n, opts.seed)
    const ids = {added: new Set(), removed: new Set(), modified: new Set()}
    for (const [id, act] of plan) ids[act === 'delete' ? 'removed' : 'modified'].add(id)
    for (let j = 1; j <= m2.added; j++) ids.added.add(opts.n + j)
    s.diffs = {}
    s.diffs.v1v2 = await dsvDiffs(s, {cmd, pre, dir, env}, {from: v1, to: v2, statOp: 'diffStat', jsonOp: 'diffJson', jsonFile: path.join(path.dirname(dir), 'diff-v1-v2.json'),
      want: {from: v1, to: v2, added: m2.added, removed: m2.deleted, modified: m2.modified, files: m2.files.length, ids}})

    // the small change: back to v2 on the branch, modify 100 examples, commit v3, diff v2 v3
    await dsv(null, ['checkout', c2.branch ?? 'main'])
    const bad3 = await s.step(() => compareToManifest(dir, m2))
    s.checkoutV2Ok = bad3.length === 0
    if (bad3.length) log(`  dsv: checkout ${c2.branch ?? 'main'} (v2) is NOT byte-identical to v2: ${bad3.join('; ')}`)
    const m3 = await s.step(() => applyV3({n: opts.n, dir, seed: opts.seed}))
    s.m3 = m3
    agree(shared, 'v3', m3)
    const c3 = await dsv('commitV3', ['commit', '-m', 'v3'])
    s.commitSummaries.v3 = {examples: c3.examples, files: c3.files}
    s.diffs.v2v3 = await dsvDiffs(s, {cmd, pre, dir, env}, {from: v2, to: c3.id, statOp: 'diffSmallStat', jsonOp: 'diffSmallJson', jsonFile: path.join(path.dirname(dir), 'diff-v2-v3.json'),
      want: {from: v2, to: c3.id, added: 0, removed: 0, modified: m3.modified, files: new Set(m3.modifiedIds.map((id) => shardOf(m3, id))).size,
        ids: {added: new Set(), removed: new Set(), modified: new Set(m3.modifiedIds)}}})
  } catch (e) {
    if (!(e instanceof StepError)) throw e
    s.error = {step: e.step, message: e.message, detail: e.detail}
    log(`  dsv: ERROR ${e.message}${e.detail ? `\n${e.detail.replace(/^/gm, '    ')}` : ''}`)
  }
  return s
}

// ---------------------------------------------------------------------------
// one N

const tempRoots = new Set()

async function benchOne(n, opts) {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), `dsv-bench-n${n}-`))
  tempRoots.add(root)
  const real = fs.realpathSync(root)
  if (real === REPO_ROOT || real.startsWith(REPO_ROOT + path.sep)) throw new Error(`refusing to benchmark inside the repository (${real})`)
  const res = {
    n,
    seed: opts.seed,
    date: new Date().toISOString(),
    tempDir: root,
    machine: {node: process.version, platform: `${os.platform()} ${os.release()}`, cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model, memoryMiB: Math.round(os.totalmem() / MiB)},
    memoryMethod: MEMORY_METHOD,
    only: [...opts.only],
    git: null,
    dsv: null,
  }
  const gitV = spawnSync('git', ['--version'], {encoding: 'utf8'})
  res.machine.git = gitV.stdout?.trim() || null
  log(`[n=${fmtInt(n)}] temp dir ${root}`)

  const doGit = !opts.only.has('dsv')
  let doDsv = !opts.only.has('git')
  if (doDsv) {
    const why = await dsvPreflight(root, opts)
    if (why) {
      log(`  dsv: SKIPPED: ${why.replace(/\n/g, '\n    ')}`)
      res.dsv = {skipped: why}
      doDsv = false
    }
  }

  const gitDir = path.join(root, 'git')
  const dsvDir = path.join(root, 'dsv')
  const toDir = path.join(root, 'dsv-checkout-to')
  const primary = doGit ? gitDir : dsvDir
  const m1 = generateV1({n, out: primary, seed: opts.seed})
  res.data = {v1: {bytes: m1.bytes, examples: m1.examples, seconds: m1.seconds, files: m1.files}}
  if (doGit && doDsv) {
    const t0 = performance.now()
    fs.cpSync(path.join(gitDir, 'data'), path.join(dsvDir, 'data'), {recursive: true})
    log(`  copied v1 for dsv in ${((performance.now() - t0) / 1000).toFixed(1)} s`)
  }

  // both sides at once, their steps in turn (see Turns)
  const shared = {v2: null, v3: null}
  const sideOpts = {...opts, n, turns: new Turns()}
  const [g, d] = await Promise.all([doGit ? gitSide(gitDir, m1, shared, sideOpts) : null, doDsv ? dsvSide(dsvDir, toDir, m1, shared, sideOpts) : null])
  if (g) res.git = {ops: g.ops, sizes: g.sizes, checkoutOk: g.checkoutOk, statusClean: g.statusClean, diffStat: g.diffStat ?? null, processes: g.processes, error: g.error ?? null}
  const {v2: m2, v3: m3} = shared
  if (m2) res.data.v2 = {bytes: m2.bytes, examples: m2.examples, modified: m2.modified, deleted: m2.deleted, added: m2.added, seconds: m2.seconds, files: m2.files}
  if (m3) res.data.v3 = {bytes: m3.bytes, examples: m3.examples, modified: m3.modified, deleted: 0, added: 0, modifiedIds: m3.modifiedIds, seconds: m3.seconds, files: m3.files}
  if (d) {
    res.dsv = {
      ops: d.ops, sizes: d.sizes, checkoutOk: d.checkoutOk ?? null, checkoutProblems: d.checkoutProblems ?? [],
      checkoutToOk: d.checkoutToOk ?? null, checkoutToProblems: d.checkoutToProblems ?? [], statusClean: d.statusClean ?? null,
      checkoutV2Ok: d.checkoutV2Ok ?? null, commitSummaries: d.commitSummaries ?? null, diffs: d.diffs ?? null, quality: d.quality ?? null,
      processes: d.processes, error: d.error ?? null,
    }
  }
  res.checks = evaluate(res)
  fs.writeFileSync(path.join(root, 'results.json'), JSON.stringify(res, null, 2) + '\n')
  return res
}

/** The targets, as a list of {name, target, value, pass} (pass null: not measurable). */
function evaluate(res) {
  // failed operations count as not measured
  const usable = (ops) => Object.fromEntries(Object.entries(ops ?? {}).map(([k, o]) => [k, o.failed ? {...o, seconds: null} : o]))
  const g = usable(res.git?.ops)
  const d = usable(res.dsv?.ops)
  const ratio = (a, b) => (a != null && b ? a / b : null)
  const checks = []
  // correctness: a failure makes the run fail (exit 1), not just miss a target
  const add = (name, target, value, pass, correctness = false) => checks.push({name, target, value, pass: value == null ? null : pass, ...(correctness ? {correctness} : {})})
  const rc1 = ratio(d.commitV1?.seconds, g.commitV1?.seconds)
  add('commit v1: dsv/git time', `<= ${TARGET.commitRatio}`, rc1, rc1 <= TARGET.commitRatio)
  const rc2 = ratio(d.commitV2?.seconds, g.commitV2?.seconds)
  add('commit v2: dsv/git time', `<= ${TARGET.commitRatio}`, rc2, rc2 <= TARGET.commitRatio)
  const rco = ratio(d.checkoutV1?.seconds, g.checkoutV1?.seconds)
  add('checkout v1: dsv/git time', `<= ${TARGET.checkoutRatio}`, rco, rco <= TARGET.checkoutRatio)
  const st = d.status?.seconds ?? null
  add('dsv status (unchanged): seconds', `< ${TARGET.statusSeconds}`, st, st < TARGET.statusSeconds)
  const rs = ratio(res.dsv?.sizes?.v1, res.git?.sizes?.v1)
  add('.dsv v1 / .git v1 size', `<= ${TARGET.sizeV1Ratio}`, rs, rs <= TARGET.sizeV1Ratio)
  const gr = ratio(res.dsv?.sizes?.v2, res.dsv?.sizes?.v1)
  add('.dsv v2 / .dsv v1 size', `<= ${TARGET.growthV2}`, gr, gr <= TARGET.growthV2)
  const rds = ratio(d.diffStat?.seconds, g.diffV1V2?.seconds)
  add('diff v1 v2 --stat: dsv/git diff --stat time', `<= ${TARGET.diffRatio}`, rds, rds <= TARGET.diffRatio)
  const rdj = ratio(d.diffJson?.seconds, g.diffV1V2?.seconds)
  add('diff v1 v2 --json: dsv/git diff --stat time', `<= ${TARGET.diffRatio}`, rdj, rdj <= TARGET.diffRatio)
  const peaks = (res.dsv?.processes ?? []).map((p) => p.peakMB).filter((x) => x != null)
  const peak = peaks.length ? Math.max(...peaks) : null
  add('dsv peak memory, any process: MiB', `< ${TARGET.peakMB}`, peak, peak < TARGET.peakMB)
  const ran = res.dsv && !res.dsv.skipped
  add('dsv checkout v1 byte-identical to v1', 'all shards', ran ? res.dsv.checkoutOk : null, res.dsv?.checkoutOk === true)
  add('dsv status clean after checkout', 'clean', ran ? res.dsv.statusClean : null, res.dsv?.statusClean === true)
  add('dsv checkout v1 --to DIR byte-identical', 'all shards', ran ? res.dsv.checkoutToOk : null, res.dsv?.checkoutToOk === true)
  const diffs = res.dsv?.diffs ?? {}
  for (const [key, what] of [['v1v2', 'dsv diff v1 v2'], ['v2v3', 'dsv diff v2 v3']]) {
    const x = diffs[key]
    const statOk = x?.stat ? x.stat.code === 0 && x.stat.countsOk !== false : null
    add(`${what} --stat: exit 0, totals = generator`, 'exit 0', statOk, statOk === true, true)
    const jsonOk = x?.json ? x.json.ok === true : null
    add(`${what} --json: counts and keys = generator`, 'exact', jsonOk, jsonOk === true, true)
  }
  add('dsv checkout main (v2) byte-identical', 'all shards', ran ? res.dsv.checkoutV2Ok : null, res.dsv?.checkoutV2Ok === true, true)
  const rq = ratio(d.qualityCheck?.seconds, d.checkoutTo?.seconds)
  add('quality check v1: dsv quality / dsv checkout --to time', `<= ${TARGET.qualityRatio}`, rq, rq <= TARGET.qualityRatio)
  const qn = res.dsv?.quality ? res.dsv.quality.examples === res.n : null
  add('dsv quality check: every example checked', 'N examples', qn, qn === true, true)
  return checks
}

// ---------------------------------------------------------------------------
// report

function pad(cells, widths, aligns) {
  return cells.map((c, i) => (aligns[i] === 'l' ? String(c).padEnd(widths[i]) : String(c).padStart(widths[i]))).join('  ').trimEnd()
}

function table(rows, aligns) {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => String(r[i]).length)))
  const lines = rows.map((r) => pad(r, widths, aligns))
  lines.splice(1, 0, widths.map((w) => '-'.repeat(w)).join('  '))
  return lines.join('\n')
}

function report(res) {
  const out = []
  const d1 = res.data.v1
  const d2 = res.data.v2
  out.push(`N = ${fmtInt(res.n)}: v1 ${fmtInt(d1.examples)} examples, ${fmtMB(d1.bytes)} MB in 10 shards` +
    (d2 ? `; v2 ${fmtInt(d2.modified)} modified, ${fmtInt(d2.deleted)} deleted, ${fmtInt(d2.added)} added (${fmtMB(d2.bytes)} MB)` : ''))
  if (res.n !== TARGET_N) out.push(`(targets are defined at N = ${fmtInt(TARGET_N)}; here they are indicative)`)
  const g = res.git?.ops ?? {}
  const d = res.dsv?.ops ?? {}
  const checks = Object.fromEntries(res.checks.map((c) => [c.name, c]))
  const pf = (c) => (!c || c.pass == null ? '-' : c.pass ? 'PASS' : 'FAIL')
  const mb = (o) => (o?.peakMB == null ? '-' : o.peakMB.toFixed(0))
  const rows = [['operation', 'git s', 'dsv s', 'dsv/git', 'target', 'result', 'git MiB', 'dsv MiB']]
  const op = (label, gk, dk, target, check) => {
    const gs = gk && !g[gk]?.failed ? g[gk]?.seconds : null
    const ds = d[dk]?.failed ? null : d[dk]?.seconds
    const cell = (o, x) => (o?.failed ? 'ERROR' : fmtS(x))
    rows.push([label, cell(gk ? g[gk] : null, gs), cell(d[dk], ds), fmtRatio(gs && ds != null ? ds / gs : null), target, pf(check), mb(gk ? g[gk] : null), mb(d[dk])])
  }
  op('init', 'init', 'init', '', null)
  op('commit v1 (git add -A + commit)', 'commitV1', 'commitV1', `<= ${TARGET.commitRatio}x git`, checks['commit v1: dsv/git time'])
  op('commit v2 (git add -A + commit)', 'commitV2', 'commitV2', `<= ${TARGET.commitRatio}x git`, checks['commit v2: dsv/git time'])
  op('checkout v1 (from v2)', 'checkoutV1', 'checkoutV1', `<= ${TARGET.checkoutRatio}x git`, checks['checkout v1: dsv/git time'])
  op('status (nothing changed)', 'status', 'status', `dsv < ${TARGET.statusSeconds} s`, checks['dsv status (unchanged): seconds'])
  if (d.checkoutTo || (res.dsv && !res.dsv.skipped && !res.dsv.error && !res.only.includes('core'))) op('checkout v1 --to DIR', null, 'checkoutTo', '', null)
  if (d.qualityCheck) {
    const c = checks['quality check v1: dsv quality / dsv checkout --to time']
    const qs = d.qualityCheck.failed ? null : d.qualityCheck.seconds
    rows.push(['quality check v1 (ratio: / checkout --to)', '-', d.qualityCheck.failed ? 'ERROR' : fmtS(qs), fmtRatio(c?.value ?? null), `<= ${TARGET.qualityRatio}x checkout --to`, pf(c), '-', mb(d.qualityCheck)])
  }
  const diffRan = g.diffV1V2 || d.diffStat || d.diffJson
  if (diffRan) {
    const tgt = `<= ${TARGET.diffRatio}x git`
    op('diff v1 v2 --stat (git: --stat)', 'diffV1V2', 'diffStat', tgt, checks['diff v1 v2 --stat: dsv/git diff --stat time'])
    op('diff v1 v2 --json > file', 'diffV1V2', 'diffJson', tgt, checks['diff v1 v2 --json: dsv/git diff --stat time'])
  }
  if (g.commitV3 || d.commitV3) op(`commit v3 (${fmtInt(res.data.v3?.modified ?? V3_COUNT)} modified)`, 'commitV3', 'commitV3', '', null)
  if (g.diffSmall || d.diffSmallStat || d.diffSmallJson) {
    const sc = res.scaling
    const tgt = `${shortN(SCALE_PAIR[1])}/${shortN(SCALE_PAIR[0])} <= ${TARGET.diffScale}`
    op('diff v2 v3 --stat (git: --stat)', 'diffSmall', 'diffSmallStat', tgt, sc ? checks[scaleCheckName('--stat', sc)] : null)
    op('diff v2 v3 --json > file', 'diffSmall', 'diffSmallJson', tgt, sc ? checks[scaleCheckName('--json', sc)] : null)
  }
  out.push(table(rows, ['l', 'r', 'r', 'r', 'l', 'l', 'r', 'r']))
  out.push('')
  const gsz = res.git?.sizes ?? {}
  const dsz = res.dsv?.sizes ?? {}
  const srows = [['store size', '.git MB', '.dsv MB', 'dsv/git', 'target', 'result']]
  srows.push(['after v1', fmtMB(gsz.v1), fmtMB(dsz.v1), fmtRatio(gsz.v1 && dsz.v1 ? dsz.v1 / gsz.v1 : null), `.dsv <= .git`, pf(checks['.dsv v1 / .git v1 size'])])
  srows.push(['after v2', fmtMB(gsz.v2), fmtMB(dsz.v2), fmtRatio(gsz.v2 && dsz.v2 ? dsz.v2 / gsz.v2 : null), '', ''])
  srows.push(['v2 / v1 growth', fmtRatio(gsz.v2 / gsz.v1), fmtRatio(dsz.v2 / dsz.v1), '', `dsv <= ${TARGET.growthV2}`, pf(checks['.dsv v2 / .dsv v1 size'])])
  srows.push(['data / store (compression)', fmtRatio(d1.bytes / gsz.v1), fmtRatio(d1.bytes / dsz.v1), '', '', ''])
  out.push(table(srows, ['l', 'r', 'r', 'r', 'l', 'l']))
  out.push('')
  const peak = checks['dsv peak memory, any process: MiB']
  const diffPeaks = (res.dsv?.processes ?? []).filter((p) => /^diff/.test(p.op ?? '') && p.peakMB != null).map((p) => p.peakMB)
  if (res.dsv) out.push(`peak memory, any dsv process: ${peak.value == null ? '-' : `${peak.value.toFixed(0)} MiB`} (target < ${TARGET.peakMB} MiB) ${pf(peak)}` +
    `${diffPeaks.length ? `; dsv diff: ${Math.max(...diffPeaks).toFixed(0)} MiB` : ''}; method: ${res.memoryMethod}`)
  if (res.dsv?.skipped) out.push(`dsv: SKIPPED: ${res.dsv.skipped.split('\n').map((l) => l.trim()).filter(Boolean).join(' ')}`)
  else if (res.dsv?.error) out.push(`dsv: FAILED: ${res.dsv.error.message}${res.dsv.error.detail ? `: ${res.dsv.error.detail.replace(/\n/g, ' | ')}` : ''}`)
  if (res.dsv && !res.dsv.skipped) {
    const c = (name) => `${pf(checks[name])}`
    out.push(`correctness: checkout v1 byte-identical ${c('dsv checkout v1 byte-identical to v1')}, status clean ${c('dsv status clean after checkout')}` +
      (res.only.includes('core') ? '' : `, --to DIR byte-identical ${c('dsv checkout v1 --to DIR byte-identical')}`))
  }
  const ex = res.dsv?.commitSummaries?.v2?.examples
  if (ex && d2) out.push(`dsv commit v2 reported examples: ${fmtInt(ex.added)} added, ${fmtInt(ex.removed)} removed, ${fmtInt(ex.modified)} modified (generator: ${fmtInt(d2.added)}, ${fmtInt(d2.deleted)}, ${fmtInt(d2.modified)})`)
  const ex3 = res.dsv?.commitSummaries?.v3?.examples
  const d3 = res.data.v3
  if (ex3 && d3) out.push(`dsv commit v3 reported examples: ${fmtInt(ex3.added)} added, ${fmtInt(ex3.removed)} removed, ${fmtInt(ex3.modified)} modified (generator: 0, 0, ${fmtInt(d3.modified)})`)
  if (res.dsv?.checkoutV2Ok === false) out.push(`correctness: dsv checkout main (back to v2 before v3) byte-identical ${pf(checks['dsv checkout main (v2) byte-identical'])}`)
  for (const [key, what] of [['v1v2', 'v1 v2'], ['v2v3', 'v2 v3']]) {
    const x = res.dsv?.diffs?.[key]
    if (!x) continue
    const w = x.want
    const gen = `generator: +${fmtInt(w.added)} -${fmtInt(w.removed)} ~${fmtInt(w.modified)}`
    const sc = checks[`dsv diff ${what} --stat: exit 0, totals = generator`]
    const st = x.stat
    const statText = !st ? '-' : st.error ? `FAILED (${st.error.split('\n')[0]})` : st.counts ? `+${fmtInt(st.counts.added)} -${fmtInt(st.counts.removed)} ~${fmtInt(st.counts.modified)}` : `exit ${st.code}, no totals line found`
    const j = x.json
    const t = j?.totals
    const jsonText = !j ? '-' : !t ? 'FAILED' : `+${fmtInt(t.added)} -${fmtInt(t.removed)} ~${fmtInt(t.modified)} moved ${fmtInt(t.moved)}, per-file sums ${j.problems.some((p) => /add up/.test(p)) ? 'differ' : 'equal'}` +
      `${j.keysChecked ? `, keys ${j.problems.some((p) => /listed|not listed/.test(p)) ? 'differ' : 'as generated'}` : ''} (${fmtMB(j.bytes)} MB)`
    const jc = checks[`dsv diff ${what} --json: counts and keys = generator`]
    out.push(`dsv diff ${what} (${gen}): --stat ${statText} ${pf(sc)}; --json ${jsonText} ${pf(jc)}`)
    for (const p of (j?.problems ?? []).slice(0, 8)) out.push(`  --json: ${p.split('\n')[0]}`)
  }
  const gd = res.git?.diffStat
  if (gd?.v1v2) out.push(`git diff --stat v1 v2: ${gd.v1v2} (git counts lines: a modified example is one deletion and one insertion)`)
  if (res.git?.error) out.push(`git: FAILED: ${res.git.error.message}${res.git.error.detail ? `: ${res.git.error.detail.replace(/\n/g, ' | ')}` : ''}`)
  else if (res.git && res.git.checkoutOk === false) out.push('git: checkout v1 did not restore v1 byte for byte (!)')
  return out.join('\n')
}

// ---------------------------------------------------------------------------
// diff cost against the size of the change: the same 100-example change at two sizes

const shortN = (n) => (n % 1_000_000 === 0 ? `${n / 1_000_000}M` : n % 1000 === 0 ? `${n / 1000}k` : String(n))
const scaleCheckName = (form, sc) => `dsv diff v2 v3 ${form} (${fmtInt(V3_COUNT)} changed): time at ${shortN(sc.n)} / ${shortN(sc.baseN)}`

/**
 * For each result whose N is 10x another result's N (from this run, else from
 * --compare files), the ratio of their `dsv diff v2 v3` times. Sets res.scaling and
 * adds the checks to the larger result (the target is defined for 100k -> 1M; other
 * pairs are indicative). Returns the list of pairs compared.
 */
function scaling(results, thisRun, compare) {
  const byN = new Map()
  for (const r of [...compare, ...thisRun, ...results]) if (r?.n && !r.dsv?.skipped) byN.set(r.n, r) // this run wins over --compare
  const pairs = []
  for (const big of results) {
    const base = byN.get(big.n / 10)
    if (!base || (!thisRun.includes(big) && !thisRun.includes(base))) continue // one side at least from this run
    const sec = (r, k) => (r.dsv?.ops?.[k] && !r.dsv.ops[k].failed ? r.dsv.ops[k].seconds : null)
    const sc = {baseN: base.n, n: big.n, baseDate: base.date, fromCompare: !thisRun.includes(base), bigFromCompare: !thisRun.includes(big), date: big.date, indicative: !(base.n === SCALE_PAIR[0] && big.n === SCALE_PAIR[1]), forms: {}}
    big.checks = big.checks.filter((c) => !c.name.startsWith('dsv diff v2 v3 --') || !c.name.includes(': time at'))
    for (const [form, k] of [['--stat', 'diffSmallStat'], ['--json', 'diffSmallJson']]) {
      const a = sec(base, k)
      const b = sec(big, k)
      const r = a != null && b != null && a > 0 ? b / a : null
      sc.forms[form] = {baseSeconds: a, seconds: b, ratio: r}
      big.checks.push({name: scaleCheckName(form, sc), target: `<= ${TARGET.diffScale}`, value: r, pass: r == null ? null : r <= TARGET.diffScale})
    }
    big.scaling = sc
    if (thisRun.includes(big) && fs.existsSync(big.tempDir)) fs.writeFileSync(path.join(big.tempDir, 'results.json'), JSON.stringify(big, null, 2) + '\n')
    pairs.push(big)
  }
  return pairs
}

function scalingReport(pairs) {
  const out = []
  for (const big of pairs) {
    const sc = big.scaling
    out.push(`diff cost follows the change: dsv diff v2 v3 (${fmtInt(V3_COUNT)} modified examples) at N = ${fmtInt(sc.n)} vs N = ${fmtInt(sc.baseN)}` +
      `${sc.fromCompare ? ` (N = ${fmtInt(sc.baseN)} from --compare, run ${sc.baseDate})` : ''}${sc.bigFromCompare ? ` (N = ${fmtInt(sc.n)} from --compare, run ${sc.date})` : ''}${sc.indicative ? ' (indicative: the target is defined for 1M vs 100k)' : ''}`)
    for (const [form, f] of Object.entries(sc.forms)) {
      const c = big.checks.find((x) => x.name === scaleCheckName(form, sc))
      if (f.ratio == null) out.push(`  ${form}: not measured at N = ${fmtInt(f.seconds == null ? sc.n : sc.baseN)}`)
      else out.push(`  ${form}: ${fmtS(f.seconds)} s / ${fmtS(f.baseSeconds)} s = ${fmtRatio(f.ratio)} (target <= ${TARGET.diffScale}) ${c.pass ? 'PASS' : 'FAIL'}`)
    }
  }
  return out.join('\n')
}

/** Results saved earlier with --save (an array) or a results.json (one object). */
function loadCompare(file) {
  const j = JSON.parse(fs.readFileSync(file, 'utf8'))
  return Array.isArray(j) ? j : [j]
}

// ---------------------------------------------------------------------------
// main

function cleanup(opts) {
  if (opts.keep) {
    for (const r of tempRoots) log(`kept ${r} (results.json inside)`)
    return
  }
  for (const r of tempRoots) fs.rmSync(r, {recursive: true, force: true})
  tempRoots.clear()
}

async function main() {
  let opts
  try {
    opts = parseArgs(process.argv.slice(2))
  } catch (e) {
    process.stderr.write(`${e.message}\n${USAGE}\n`)
    process.exit(2)
  }
  if (opts.help) {
    process.stdout.write(USAGE + '\n')
    return
  }
  MEMORY_METHOD = detectMemoryMethod()
  if (MEMORY_METHOD !== 'gnu-time') log(`note: not using /usr/bin/time (GNU time)${process.env.DSV_BENCH_MEMORY === 'proc' ? ' (DSV_BENCH_MEMORY=proc)' : ': not found; install it with apt-get install -y time'}; peak memory is sampled from /proc (approximate)`)
  const onSignal = (sig) => {
    if (current) {
      try {
        process.kill(-current.pid, 'SIGKILL')
      } catch {}
      fs.rmSync(current.timeFile, {force: true})
    }
    for (const r of tempRoots) if (!opts.keep) fs.rmSync(r, {recursive: true, force: true})
    process.stderr.write(`\ninterrupted (${sig})\n`)
    process.exit(130)
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)

  let compare = []
  for (const f of opts.compare) {
    try {
      compare.push(...loadCompare(f))
    } catch (e) {
      process.stderr.write(`--compare ${f}: ${e.message}\n`)
      process.exit(2)
    }
  }
  const all = []
  let failed = false
  try {
    for (const n of opts.ns) {
      const res = await benchOne(n, opts)
      all.push(res)
      scaling([res], all, compare) // when the smaller size ran first (or is in --compare): in this table already
      if (!opts.json) process.stdout.write(`\n${report(res)}\n`)
      if (res.git?.error || (res.dsv && (res.dsv.skipped || res.dsv.error))) failed = true
      for (const c of res.checks) if (c.pass === false && (c.correctness || /byte-identical|clean/.test(c.name))) failed = true
      if (!opts.keep) {
        for (const r of tempRoots) fs.rmSync(r, {recursive: true, force: true})
        tempRoots.clear()
      }
    }
    // this run's sizes, and --compare sizes that are 10x one of them
    const pairs = scaling([...all, ...compare.filter((r) => !all.some((a) => a.n === r.n))], all, compare)
    if (pairs.length && !opts.json) process.stdout.write(`\n${scalingReport(pairs)}\n`)
  } finally {
    cleanup(opts)
  }
  const missed = all.some((r) => r.checks.some((c) => c.pass === false))
  if (opts.json) process.stdout.write(JSON.stringify(all, null, 2) + '\n')
  if (opts.save) {
    fs.mkdirSync(path.dirname(opts.save), {recursive: true})
    fs.writeFileSync(opts.save, JSON.stringify(all, null, 2) + '\n')
    log(`results saved to ${opts.save}`)
  }
  process.exitCode = failed || (opts.strict && missed) ? 1 : 0
}

await main()
