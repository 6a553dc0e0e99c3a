#!/usr/bin/env node
// dsv vs git benchmark. See bench/README.md.
//
//   node bench/run.js [--n 100000] [--n 1000000] [--seed 42] [--keep]
//                     [--only core|git|dsv] [--save FILE] [--json] [--strict]
//                     [--dsv PATH] [--timeout SECONDS]
//
// For each N: a fresh temp dir under os.tmpdir(); v1 generated once and copied,
// so git and dsv see byte-identical data; then git and dsv each commit v1, move
// to v2, commit, check v1 out again, report status, and (dsv) check v1 out
// into another directory. Every child process is timed (wall clock) and its
// peak RSS recorded. The table goes to stdout, progress to stderr; the results
// JSON is written to the temp dir (kept with --keep) and, with --save, to FILE.

import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {spawn, spawnSync} from 'node:child_process'
import {fileURLToPath} from 'node:url'
import {generateV1, applyV2, compareToManifest} from './generate.js'

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
}
const TARGET_N = 1_000_000

// ---------------------------------------------------------------------------
// arguments

const USAGE = `usage: node bench/run.js [--n N]... [--seed S] [--keep] [--only core|git|dsv]...
                         [--save FILE] [--json] [--strict] [--dsv PATH] [--timeout SECONDS]
  --n N          dataset size (repeatable; default 100000)
  --keep         keep the temp dirs (default: removed at the end)
  --only core    only the operations that have targets (skips dsv checkout --to)
  --only git     only the git side;  --only dsv: only the dsv side
  --save FILE    also write the results JSON (all N) to FILE
  --json         print the results JSON on stdout instead of the table
  --strict       exit 1 when a target is missed (default: only on failures)
  --dsv PATH     dsv entry point (a .js file run with node, or an executable);
                 default ${path.join(REPO_ROOT, 'bin', 'run.js')}
  --timeout S    kill any single command after S seconds (default 1800)`

function parseArgs(argv) {
  const o = {ns: [], seed: 42, keep: false, only: new Set(), save: null, json: false, strict: false, dsv: null, timeout: 1800}
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
function measure(cmd, args, {cwd, env, timeout}) {
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
    const t0 = process.hrtime.bigint()
    const child = spawn(argv0, argv, {cwd, env, detached: true, stdio: ['ignore', 'pipe', 'pipe']})
    current = {pid: child.pid, timeFile}
    child.stdout.on('data', (d) => out.push(d))
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
      resolve({
        code: spawnError ? 127 : code === null ? 128 : code,
        signal,
        timedOut,
        spawnError: spawnError ? spawnError.message : null,
        stdout: Buffer.concat(out).toString('utf8'),
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
class Side {
  constructor(name, opts) {
    this.name = name
    this.opts = opts
    this.ops = {}
    this.sizes = {}
    this.processes = [] // every process run: {label, seconds, peakMB, code}
  }

  async run(op, label, cmd, args, {cwd, env, allowCodes = [0]}) {
    const r = await measure(cmd, args, {cwd, env, timeout: this.opts.timeout})
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
}

async function gitSide(dir, m1, m2ref, opts) {
  const s = new Side('git', opts)
  const env = gitEnv()
  const git = (op, args, extra = {}) => s.run(op, `git ${args.join(' ')}`, 'git', args, {cwd: dir, env, ...extra})
  try {
    await git('init', ['-c', 'init.defaultBranch=main', 'init', '-q'])
    await git('commitV1', ['add', '-A'])
    await git('commitV1', ['commit', '-q', '-m', 'v1'])
    s.sizes.v1 = duBytes(path.join(dir, '.git'))
    const v1 = (await git(null, ['rev-parse', 'HEAD'])).stdout.trim()
    log(`  git: .git after v1: ${fmtMB(s.sizes.v1)} MB`)
    const m2 = applyV2({n: opts.n, dir, seed: opts.seed})
    m2ref.value = m2
    await git('commitV2', ['add', '-A'])
    await git('commitV2', ['commit', '-q', '-m', 'v2'])
    s.sizes.v2 = duBytes(path.join(dir, '.git'))
    log(`  git: .git after v2: ${fmtMB(s.sizes.v2)} MB`)
    await git('checkoutV1', ['checkout', '-q', v1])
    const bad = compareToManifest(dir, m1)
    s.checkoutOk = bad.length === 0
    if (bad.length) log(`  git: WARNING: after git checkout v1 the data differs from v1: ${bad.join('; ')}`)
    const st = await git('status', ['status'])
    s.statusClean = /nothing to commit/.test(st.stdout)
  } catch (e) {
    if (!(e instanceof StepError)) throw e
    s.error = {step: e.step, message: e.message, detail: e.detail}
    log(`  git: ERROR ${e.message}\n${e.detail}`)
  }
  return s
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

async function dsvSide(dir, toDir, m1, m2git, opts) {
  const s = new Side('dsv', opts)
  const env = dsvEnv()
  const {cmd, pre} = dsvCommand(opts)
  const dsv = async (op, args, extra = {}) => {
    const label = `dsv ${args.join(' ')}`
    const r = await s.run(op, label, cmd, [...pre, ...args, '--json'], {cwd: dir, env, ...extra})
    return parseJson(r, label)
  }
  try {
    await dsv('init', ['init'])
    const c1 = await dsv('commitV1', ['commit', '-m', 'v1'])
    s.sizes.v1 = duBytes(path.join(dir, '.dsv'))
    log(`  dsv: .dsv after v1: ${fmtMB(s.sizes.v1)} MB`)
    const m2 = applyV2({n: opts.n, dir, seed: opts.seed})
    if (m2git && JSON.stringify(m2.files) !== JSON.stringify(m2git.files)) throw new StepError('apply v2', 'v2 differs between the git and the dsv copy (generator not deterministic?)', '')
    const c2 = await dsv('commitV2', ['commit', '-m', 'v2'])
    s.commitSummaries = {v1: {examples: c1.examples, files: c1.files}, v2: {examples: c2.examples, files: c2.files}}
    s.sizes.v2 = duBytes(path.join(dir, '.dsv'))
    log(`  dsv: .dsv after v2: ${fmtMB(s.sizes.v2)} MB`)
    const history = await dsv(null, ['log'])
    const entry = Array.isArray(history) ? history.find((e) => e.message?.trim() === 'v1') ?? history[history.length - 1] : null
    const v1 = entry?.id ?? c1.id
    if (c1.id && v1 !== c1.id) log(`  dsv: WARNING: dsv log gives v1 = ${v1}, dsv commit said ${c1.id}`)
    await dsv('checkoutV1', ['checkout', v1, '--force'])
    const bad = compareToManifest(dir, m1)
    s.checkoutOk = bad.length === 0
    s.checkoutProblems = bad
    if (bad.length) log(`  dsv: checkout v1 is NOT byte-identical to v1: ${bad.join('; ')}`)
    const st = await dsv('status', ['status'])
    s.statusClean = st.clean === true
    if (!opts.only.has('core')) {
      await dsv('checkoutTo', ['checkout', v1, '--to', toDir])
      const bad2 = compareToManifest(toDir, m1)
      s.checkoutToOk = bad2.length === 0
      s.checkoutToProblems = bad2
      if (bad2.length) log(`  dsv: checkout v1 --to DIR is NOT byte-identical to v1: ${bad2.join('; ')}`)
    }
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

  const m2ref = {value: null}
  if (doGit) {
    const g = await gitSide(gitDir, m1, m2ref, {...opts, n})
    res.git = {ops: g.ops, sizes: g.sizes, checkoutOk: g.checkoutOk, statusClean: g.statusClean, processes: g.processes, error: g.error ?? null}
  }
  if (m2ref.value) {
    const m2 = m2ref.value
    res.data.v2 = {bytes: m2.bytes, examples: m2.examples, modified: m2.modified, deleted: m2.deleted, added: m2.added, seconds: m2.seconds, files: m2.files}
  }
  if (doDsv) {
    const d = await dsvSide(dsvDir, toDir, m1, m2ref.value, {...opts, n})
    res.dsv = {
      ops: d.ops, sizes: d.sizes, checkoutOk: d.checkoutOk ?? null, checkoutProblems: d.checkoutProblems ?? [],
      checkoutToOk: d.checkoutToOk ?? null, checkoutToProblems: d.checkoutToProblems ?? [], statusClean: d.statusClean ?? null,
      commitSummaries: d.commitSummaries ?? null, processes: d.processes, error: d.error ?? null,
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
  const add = (name, target, value, pass) => checks.push({name, target, value, pass: value == null ? null : pass})
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
  const peaks = (res.dsv?.processes ?? []).map((p) => p.peakMB).filter((x) => x != null)
  const peak = peaks.length ? Math.max(...peaks) : null
  add('dsv peak memory, any process: MiB', `< ${TARGET.peakMB}`, peak, peak < TARGET.peakMB)
  const ran = res.dsv && !res.dsv.skipped
  add('dsv checkout v1 byte-identical to v1', 'all shards', ran ? res.dsv.checkoutOk : null, res.dsv?.checkoutOk === true)
  add('dsv status clean after checkout', 'clean', ran ? res.dsv.statusClean : null, res.dsv?.statusClean === true)
  add('dsv checkout v1 --to DIR byte-identical', 'all shards', ran ? res.dsv.checkoutToOk : null, res.dsv?.checkoutToOk === true)
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
  if (res.dsv) out.push(`peak memory, any dsv process: ${peak.value == null ? '-' : `${peak.value.toFixed(0)} MiB`} (target < ${TARGET.peakMB} MiB) ${pf(peak)}; method: ${res.memoryMethod}`)
  if (res.dsv?.skipped) out.push(`dsv: SKIPPED: ${res.dsv.skipped.split('\n').map((l) => l.trim()).filter(Boolean).join(' ')}`)
  else if (res.dsv?.error) out.push(`dsv: FAILED: ${res.dsv.error.message}${res.dsv.error.detail ? `: ${res.dsv.error.detail.replace(/\n/g, ' | ')}` : ''}`)
  if (res.dsv && !res.dsv.skipped) {
    const c = (name) => `${pf(checks[name])}`
    out.push(`correctness: checkout v1 byte-identical ${c('dsv checkout v1 byte-identical to v1')}, status clean ${c('dsv status clean after checkout')}` +
      (res.only.includes('core') ? '' : `, --to DIR byte-identical ${c('dsv checkout v1 --to DIR byte-identical')}`))
  }
  const ex = res.dsv?.commitSummaries?.v2?.examples
  if (ex && d2) out.push(`dsv commit v2 reported examples: ${fmtInt(ex.added)} added, ${fmtInt(ex.removed)} removed, ${fmtInt(ex.modified)} modified (generator: ${fmtInt(d2.added)}, ${fmtInt(d2.deleted)}, ${fmtInt(d2.modified)})`)
  if (res.git?.error) out.push(`git: FAILED: ${res.git.error.message}${res.git.error.detail ? `: ${res.git.error.detail.replace(/\n/g, ' | ')}` : ''}`)
  else if (res.git && res.git.checkoutOk === false) out.push('git: checkout v1 did not restore v1 byte for byte (!)')
  return out.join('\n')
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

  const all = []
  let failed = false
  let missed = false
  try {
    for (const n of opts.ns) {
      const res = await benchOne(n, opts)
      all.push(res)
      if (!opts.json) process.stdout.write(`\n${report(res)}\n`)
      if (res.git?.error || (res.dsv && (res.dsv.skipped || res.dsv.error))) failed = true
      for (const c of res.checks) {
        if (c.pass === false) {
          if (/byte-identical|clean/.test(c.name)) failed = true
          else missed = true
        }
      }
      if (!opts.keep) {
        for (const r of tempRoots) fs.rmSync(r, {recursive: true, force: true})
        tempRoots.clear()
      }
    }
  } finally {
    cleanup(opts)
  }
  if (opts.json) process.stdout.write(JSON.stringify(all, null, 2) + '\n')
  if (opts.save) {
    fs.mkdirSync(path.dirname(opts.save), {recursive: true})
    fs.writeFileSync(opts.save, JSON.stringify(all, null, 2) + '\n')
    log(`results saved to ${opts.save}`)
  }
  process.exitCode = failed || (opts.strict && missed) ? 1 : 0
}

await main()
