#!/usr/bin/env node
// dsv remote benchmark: push, incremental push and clone against the GCS emulator
// (tools/gcs-emulator) and against a directory remote. See bench/README.md.
//
//   node bench/remote.js [--n 100000] [--seed 42] [--keep] [--json] [--save FILE]
//                        [--strict] [--dsv PATH] [--timeout SECONDS]
//
// In a fresh temp dir: generate v1 (bench/generate.js), dsv init + commit, add two
// remotes (origin = gs://dsv-bench/run-<pid> on the emulator, disk = a directory),
// push v1 to the directory (its pack and index files become the "peer" file: the
// same bytes, concatenated), then upload that file as ONE object with the client
// (before), dsv push origin, the same upload again (after); apply v2, commit, push
// both remotes (incremental); clone both, check the clones byte for byte against the
// working dir (SHA-256 per file) and run dsv fsck in them. Every dsv command and every
// peer is its own child process, timed (wall clock) with its peak RSS. The table goes
// to stdout, progress to stderr.

import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import crypto from 'node:crypto'
import readline from 'node:readline'
import {spawn, spawnSync} from 'node:child_process'
import {fileURLToPath} from 'node:url'
import {generateV1, applyV2} from './generate.js'

const BENCH_DIR = path.dirname(fileURLToPath(import.meta.url))
const REPO_ROOT = path.resolve(BENCH_DIR, '..')
const EMULATOR = path.join(REPO_ROOT, 'tools', 'gcs-emulator', 'server.mjs')
const PROJECT = 'demo-dsv-test'
const BUCKET = 'dsv-bench'
const MB = 1e6
const TARGET_N = 1_000_000

// Targets (issue 6; defined at N = 1,000,000)
const TARGET = {
  pushRatio: 2, // dsv push of v1 to GCS <= 2 x one client upload of the same bytes
  incrementalShare: 0.05, // bytes sent by the push of v2 <= 5% of those of v1
  clonePeakMiB: 512, // dsv clone peak RSS < 512 MiB
}

// The peer: the same bytes as ONE object, with Google's client, in its own process.
// Same options as dsv's uploads (single request, no client-side checksum).
const PEER_SCRIPT = `
import {Storage} from '@google-cloud/storage'
const [file, bucket, destination] = process.argv.slice(1)
await new Storage().bucket(bucket).upload(file, {destination, resumable: false, validation: false})
`

const USAGE = `usage: node bench/remote.js [--n N] [--seed S] [--keep] [--json] [--save FILE]
                            [--strict] [--dsv PATH] [--timeout SECONDS]
  --n N          dataset size (default 100000; the targets are defined at 1000000)
  --seed S       generator seed (default 42)
  --keep         keep the temp dir (results.json inside)
  --json         print the results JSON on stdout instead of the table
  --save FILE    also write the results JSON to FILE
  --strict       exit 1 when a target is missed too (default: only on failures)
  --dsv PATH     dsv entry point (a .js file run with node, or an executable);
                 default ${path.join(REPO_ROOT, 'bin', 'run.js')}
  --timeout S    kill any single command after S seconds (default 1800)`

function parseArgs(argv) {
  const o = {n: 100_000, seed: 42, keep: false, json: false, save: null, strict: false, dsv: null, timeout: 1800}
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
    if (a === '--n') o.n = int(val())
    else if (a === '--seed') o.seed = int(val())
    else if (a === '--keep') o.keep = true
    else if (a === '--json') o.json = true
    else if (a === '--save') o.save = path.resolve(val())
    else if (a === '--strict') o.strict = true
    else if (a === '--dsv') o.dsv = path.resolve(val())
    else if (a === '--timeout') o.timeout = int(val())
    else if (a === '-h' || a === '--help') o.help = true
    else throw new Error(`unknown argument ${a}`)
  }
  return o
}

const log = (msg) => process.stderr.write(`${msg}\n`)

// ---------------------------------------------------------------------------
// what must be cleaned up on exit or Ctrl-C

const live = {child: null, timeFile: null, emulator: null, root: null, keep: false}

function killGroup(pid, signal) {
  try {
    process.kill(-pid, signal)
    return true
  } catch {
    return false
  }
}

process.on('exit', () => {
  // last resort (an exception escaped): the emulator must not outlive us
  if (live.child) killGroup(live.child, 'SIGKILL')
  if (live.timeFile) fs.rmSync(live.timeFile, {force: true})
  if (live.emulator) killGroup(live.emulator.pid, 'SIGTERM')
})

// ---------------------------------------------------------------------------
// timing child processes: wall clock around the process, peak RSS from GNU time
// (ru_maxrss of the child, KiB), else sampled from /proc/<pid>/status (VmHWM)

let memoryMethod = 'none'

function pickMemoryMethod() {
  if (process.env.DSV_BENCH_MEMORY === 'proc') return 'proc-vmhwm'
  if (fs.existsSync('/usr/bin/time')) {
    const probe = path.join(os.tmpdir(), `dsv-remote-bench-probe-${process.pid}`)
    const r = spawnSync('/usr/bin/time', ['-f', '%e %M', '-o', probe, 'true'])
    let ok = false
    try {
      ok = r.status === 0 && /^\d+\.\d+ \d+\s*$/.test(fs.readFileSync(probe, 'utf8'))
    } catch {}
    fs.rmSync(probe, {force: true})
    if (ok) return 'gnu-time'
  }
  return fs.existsSync('/proc/self/status') ? 'proc-vmhwm' : 'none'
}

function hwmKiB(pid) {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))
    return m ? Number(m[1]) : 0
  } catch {
    return 0
  }
}

function processTree(pid) {
  const out = [pid]
  for (let i = 0; i < out.length; i++) {
    let tasks = []
    try {
      tasks = fs.readdirSync(`/proc/${out[i]}/task`)
    } catch {
      continue
    }
    for (const t of tasks) {
      try {
        for (const k of fs.readFileSync(`/proc/${out[i]}/task/${t}/children`, 'utf8').split(/\s+/)) if (k) out.push(Number(k))
      } catch {}
    }
  }
  return out
}

/** Runs one command; resolves {code, signal, timedOut, stdout, stderr, seconds, peakMiB}. */
function timed(cmd, args, {cwd, env, timeout}) {
  return new Promise((resolve) => {
    const timeFile = path.join(os.tmpdir(), `dsv-remote-bench-time-${process.pid}-${process.hrtime.bigint()}`)
    const useTime = memoryMethod === 'gnu-time'
    const argv0 = useTime ? '/usr/bin/time' : cmd
    const argv = useTime ? ['-f', '%e %M', '-o', timeFile, cmd, ...args] : args
    const out = []
    const err = []
    let peakKiB = 0
    let timedOut = false
    const started = process.hrtime.bigint()
    const child = spawn(argv0, argv, {cwd, env, detached: true, stdio: ['ignore', 'pipe', 'pipe']})
    live.child = child.pid
    live.timeFile = useTime ? timeFile : null
    child.stdout.on('data', (d) => out.push(d))
    child.stderr.on('data', (d) => err.push(d))
    const sampler = memoryMethod === 'proc-vmhwm' ? setInterval(() => {
      for (const p of processTree(child.pid)) peakKiB = Math.max(peakKiB, hwmKiB(p))
    }, 20) : null
    const killer = setTimeout(() => {
      timedOut = true
      killGroup(child.pid, 'SIGKILL')
    }, timeout * 1000)
    let done = false
    const finish = (code, signal, spawnError) => {
      if (done) return
      done = true
      const seconds = Number(process.hrtime.bigint() - started) / 1e9
      clearTimeout(killer)
      if (sampler) clearInterval(sampler)
      live.child = null
      live.timeFile = null
      if (useTime) {
        try {
          const last = fs.readFileSync(timeFile, 'utf8').trim().split('\n').pop().trim().split(/\s+/).map(Number)
          if (last.length === 2 && last.every(Number.isFinite)) peakKiB = last[1]
        } catch {}
        fs.rmSync(timeFile, {force: true})
      }
      resolve({
        code: spawnError ? 127 : code ?? 128,
        signal,
        timedOut,
        spawnError: spawnError?.message ?? null,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
        seconds,
        peakMiB: peakKiB ? peakKiB / 1024 : null,
      })
    }
    child.on('error', (e) => finish(null, null, e))
    child.on('close', (code, signal) => finish(code, signal, null))
  })
}

// ---------------------------------------------------------------------------
// the emulator

/** Starts tools/gcs-emulator/server.mjs in its own process group, with per-request logging. */
async function startEmulator() {
  const env = {...process.env, DSV_GCS_EMULATOR_DEBUG: '1'} // its layer logs every HTTP request on stderr
  delete env.STORAGE_EMULATOR_HOST
  const child = spawn(process.execPath, [EMULATOR, '--port', '0', '--project', PROJECT], {cwd: REPO_ROOT, env, detached: true, stdio: ['ignore', 'pipe', 'pipe']})
  const emu = {pid: child.pid, url: null, lines: [], exited: null, alive: true}
  live.emulator = emu
  emu.exited = new Promise((resolve) => child.once('exit', () => {
    emu.alive = false
    resolve()
  }))
  readline.createInterface({input: child.stderr}).on('line', (l) => {
    emu.lines.push(l)
    if (emu.lines.length > 200_000) emu.lines.splice(0, 100_000)
  })
  emu.url = await new Promise((resolve, reject) => {
    const rl = readline.createInterface({input: child.stdout})
    const timer = setTimeout(() => reject(new Error(`the GCS emulator was not ready after 60 s:\n${emu.lines.slice(-10).join('\n')}`)), 60_000)
    rl.on('line', (l) => {
      const m = /^READY (http:\/\/\S+)$/.exec(l.trim())
      if (!m) return
      clearTimeout(timer)
      rl.close()
      child.stdout.resume()
      resolve(m[1])
    })
    child.once('exit', (code, signal) => {
      clearTimeout(timer)
      setImmediate(() => reject(new Error(`the GCS emulator exited before READY (code ${code}, signal ${signal}):\n${emu.lines.slice(-10).join('\n')}`)))
    })
  })
  return emu
}

async function stopEmulator(emu) {
  if (!emu?.alive) return
  killGroup(emu.pid, 'SIGTERM')
  const late = await Promise.race([emu.exited.then(() => false), new Promise((r) => setTimeout(() => r(true), 10_000).unref())])
  if (late) {
    killGroup(emu.pid, 'SIGKILL')
    await emu.exited
  }
  if (live.emulator === emu) live.emulator = null
}

/** The HTTP requests the emulator logged since `mark` (an index into its log), by kind. */
function httpSince(emu, mark) {
  const kinds = {}
  let total = 0
  for (const l of emu.lines.slice(mark)) {
    const m = /^gcs-emulator: (GET|POST|PUT|PATCH|DELETE|HEAD) (\S+) -> (\d+)/.exec(l)
    if (!m) continue
    const [, method, url] = m
    const u = new URL(url, 'http://x')
    let kind
    if (u.pathname.includes('/upload/')) kind = 'upload'
    else if (method === 'GET' && (u.searchParams.get('alt') === 'media' || u.pathname.includes('/download/'))) kind = 'download'
    else if (method === 'GET' && /\/o\/?$/.test(u.pathname)) kind = 'list'
    else if (method === 'GET') kind = 'metadata'
    else kind = method.toLowerCase()
    kinds[kind] = (kinds[kind] ?? 0) + 1
    total++
  }
  return {total, kinds}
}

const settle = () => new Promise((r) => setTimeout(r, 150)) // lets the emulator's last log lines arrive

// ---------------------------------------------------------------------------
// helpers

class StepError extends Error {
  constructor(step, message, detail = '') {
    super(message)
    this.step = step
    this.detail = detail
  }
}

const tail = (s, n = 8) => s.trim().split('\n').slice(-n).join('\n')

/** `dsv trace: remote <op> <name> -> <outcome> (<ms> ms)` lines, counted by op. */
function parseTrace(stderr) {
  const ops = {}
  let total = 0
  for (const line of stderr.split('\n')) {
    const m = /^dsv trace: remote (\S+)(?: (.*?))? -> (.*) \((\d+) ms\)\s*$/.exec(line)
    if (!m) continue
    const o = (ops[m[1]] ??= {count: 0, ms: 0, outcomes: {}})
    o.count++
    o.ms += Number(m[4])
    const outcome = m[3].startsWith('failed') ? 'failed' : m[3]
    o.outcomes[outcome] = (o.outcomes[outcome] ?? 0) + 1
    total++
  }
  const uploadOps = (ops.create?.count ?? 0) + (ops['cas-ref']?.count ?? 0)
  return {ops, total, uploadOps}
}

function sha256File(p) {
  const h = crypto.createHash('sha256')
  const fd = fs.openSync(p, 'r')
  const buf = Buffer.allocUnsafe(4 << 20)
  try {
    for (let n; (n = fs.readSync(fd, buf, 0, buf.length, null)) > 0; ) h.update(buf.subarray(0, n))
  } finally {
    fs.closeSync(fd)
  }
  return h.digest('hex')
}

/** SHA-256 of every file under root (relative path -> hash), the top-level .dsv excluded. */
function hashTree(root) {
  const out = new Map()
  const walk = (dir, rel) => {
    for (const e of fs.readdirSync(dir, {withFileTypes: true}).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      if (!rel && e.name === '.dsv') continue
      const r = rel ? `${rel}/${e.name}` : e.name
      const full = path.join(dir, e.name)
      if (e.isDirectory()) walk(full, r)
      else if (e.isFile()) out.set(r, sha256File(full))
      else out.set(r, `(${e.isSymbolicLink() ? 'symlink' : 'special'})`)
    }
  }
  walk(root, '')
  return out
}

function compareTrees(want, got) {
  const problems = []
  for (const [p, h] of want) {
    if (!got.has(p)) problems.push(`${p}: missing`)
    else if (got.get(p) !== h) problems.push(`${p}: different bytes`)
  }
  for (const p of got.keys()) if (!want.has(p)) problems.push(`${p}: not in the working dir`)
  return problems
}

/** Files under dir/sub (for sub in subs), as [{rel, path, size}], sorted by rel. */
function filesUnder(dir, subs) {
  const out = []
  for (const sub of subs) {
    const d = path.join(dir, sub)
    if (!fs.existsSync(d)) continue
    for (const name of fs.readdirSync(d)) {
      const p = path.join(d, name)
      const st = fs.statSync(p)
      if (st.isFile()) out.push({rel: `${sub}/${name}`, path: p, size: st.size})
    }
  }
  return out.sort((a, b) => (a.rel < b.rel ? -1 : 1))
}

function concatFiles(paths, dest) {
  const fd = fs.openSync(dest, 'w')
  try {
    for (const p of paths) {
      const src = fs.openSync(p, 'r')
      const buf = Buffer.allocUnsafe(4 << 20)
      try {
        for (let n; (n = fs.readSync(src, buf, 0, buf.length, null)) > 0; ) fs.writeSync(fd, buf, 0, n)
      } finally {
        fs.closeSync(src)
      }
    }
  } finally {
    fs.closeSync(fd)
  }
  return fs.statSync(dest).size
}

const fmtS = (s) => (s == null ? '-' : s < 10 ? s.toFixed(2) : s.toFixed(1))
const fmtMiB = (m) => (m == null ? '-' : m.toFixed(0))
const fmtMB = (b) => (b == null ? '-' : b / MB < 1 ? (b / MB).toFixed(3) : (b / MB).toFixed(1))
const fmtInt = (n) => (n == null ? '-' : n.toLocaleString('en-US'))
const fmtRatio = (r) => (r == null || !Number.isFinite(r) ? '-' : r.toFixed(2))
const fmtPct = (r) => (r == null || !Number.isFinite(r) ? '-' : `${(r * 100).toFixed(2)}%`)

function machine() {
  const cpus = os.cpus()
  return {node: process.version, platform: `${os.platform()} ${os.release()}`, cpu: cpus[0]?.model ?? '?', cores: cpus.length, memoryGiB: +(os.totalmem() / 2 ** 30).toFixed(1)}
}

// ---------------------------------------------------------------------------
// the benchmark

async function bench(opts) {
  const n = opts.n
  const entry = opts.dsv ?? path.join(REPO_ROOT, 'bin', 'run.js')
  const dsvCmd = entry.endsWith('.js') ? {cmd: process.execPath, pre: [entry]} : {cmd: entry, pre: []}
  const root = fs.mkdtempSync(path.join(os.tmpdir(), `dsv-remote-bench-n${n}-`))
  live.root = root
  const work = path.join(root, 'work')
  const diskRemote = path.join(root, 'disk-remote')
  const prefix = `run-${process.pid}`
  const gsUrl = `gs://${BUCKET}/${prefix}`
  const res = {
    n, seed: opts.seed, date: new Date().toISOString(), machine: machine(), dsv: entry, tempDir: root, memoryMethod,
    remotes: {gs: gsUrl, emulator: null, disk: diskRemote},
    data: {}, startup: null, commits: {}, gs: {}, disk: {}, peerFile: null, checks: [], errors: [],
  }
  const baseEnv = {
    ...process.env,
    DSV_AUTHOR_NAME: 'dsv bench', DSV_AUTHOR_EMAIL: 'bench@example.invalid', CI: 'true', NO_COLOR: '1', FORCE_COLOR: '0',
    GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null', GOOGLE_CLOUD_PROJECT: PROJECT,
  }
  delete baseEnv.DSV_TRACE
  let emu = null
  const allDsv = [] // every dsv process: {label, seconds, peakMiB, code}

  /** Runs dsv ARGS --json in cwd; returns {r, doc, http, trace}; throws StepError on failure. */
  const dsv = async (label, args, {cwd = work, trace = false, gs = false} = {}) => {
    const env = {...baseEnv}
    if (trace) env.DSV_TRACE = 'remote'
    if (gs) await settle() // the harness's own requests must not count
    const mark = gs ? emu.lines.length : 0
    const r = await timed(dsvCmd.cmd, [...dsvCmd.pre, ...args, '--json'], {cwd, env, timeout: opts.timeout})
    let http = null
    if (gs) {
      await settle()
      http = httpSince(emu, mark)
    }
    allDsv.push({label, seconds: r.seconds, peakMiB: r.peakMiB, code: r.code})
    const cmdText = `dsv ${args.join(' ')} --json`
    if (r.code !== 0) {
      const why = r.timedOut ? `timed out after ${opts.timeout} s` : r.spawnError ?? `exit ${r.code}${r.signal ? ` (${r.signal})` : ''}`
      let detail = ''
      try {
        const e = JSON.parse(r.stdout).error
        if (e) detail = `${e.code}: ${e.message}\n`
      } catch {}
      throw new StepError(label, `\`${cmdText}\` failed: ${why}`, detail + tail(r.stderr.split('\n').filter((l) => !l.startsWith('dsv trace:')).join('\n') || r.stderr))
    }
    let doc
    try {
      doc = JSON.parse(r.stdout)
    } catch {
      throw new StepError(label, `\`${cmdText}\` did not print one JSON document`, tail(r.stdout || r.stderr))
    }
    log(`  ${label}: ${fmtS(r.seconds)} s, ${fmtMiB(r.peakMiB)} MiB peak`)
    return {r, doc, http, trace: trace ? parseTrace(r.stderr) : null, command: cmdText}
  }
  const op = (x, extra = {}) => ({command: x.command, seconds: x.r.seconds, peakMiB: x.r.peakMiB, http: x.http, trace: x.trace, ...extra})
  const fail = (section, e) => {
    if (!(e instanceof StepError)) throw e
    res.errors.push({section, step: e.step, message: e.message, detail: e.detail})
    log(`  ERROR (${section}): ${e.message}${e.detail ? `\n${e.detail.replace(/^/gm, '    ')}` : ''}`)
  }

  // 1. data, repository, remotes
  log(`N = ${fmtInt(n)}: temp dir ${root}`)
  const m1 = generateV1({n, out: work, seed: opts.seed})
  res.data.v1 = {bytes: m1.bytes, examples: m1.examples, shards: m1.files.length}
  await dsv('dsv init', ['init'])
  const c1 = await dsv('dsv commit -m v1', ['commit', '-m', 'v1'])
  res.commits.v1 = {...op(c1), id: c1.doc.id}
  await dsv('dsv remote add origin', ['remote', 'add', 'origin', gsUrl])
  await dsv('dsv remote add disk', ['remote', 'add', 'disk', diskRemote])
  const st = await dsv('dsv remote (start-up reference)', ['remote'])
  res.startup = {command: st.command, seconds: st.r.seconds, peakMiB: st.r.peakMiB}

  // 2. the emulator and its bucket
  log('starting the GCS emulator')
  emu = await startEmulator()
  res.remotes.emulator = emu.url
  log(`  emulator at ${emu.url}`)
  baseEnv.STORAGE_EMULATOR_HOST = emu.url
  let Storage
  try {
    ;({Storage} = await import('@google-cloud/storage'))
  } catch (e) {
    throw new StepError('setup', `cannot load @google-cloud/storage from ${REPO_ROOT}/node_modules: ${e.message}`)
  }
  const bucket = new Storage({apiEndpoint: emu.url, projectId: PROJECT}).bucket(BUCKET)
  await bucket.file('.created').save('x', {resumable: false})

  // the peer: one object with the client, in its own process
  let peerCount = 0
  const peerUpload = async (file, when) => {
    const dest = `${prefix}-peer/one-object-${++peerCount}.bin`
    await settle()
    const mark = emu.lines.length
    const r = await timed(process.execPath, ['--input-type=module', '-e', PEER_SCRIPT, file, BUCKET, dest], {cwd: REPO_ROOT, env: baseEnv, timeout: opts.timeout})
    await settle()
    const http = httpSince(emu, mark)
    if (r.code !== 0) {
      log(`  peer upload (${when}) FAILED: exit ${r.code}\n${tail(r.stderr).replace(/^/gm, '    ')}`)
      return {when, seconds: r.seconds, peakMiB: r.peakMiB, http, error: `exit ${r.code}: ${tail(r.stderr, 3)}`}
    }
    const [meta] = await bucket.file(dest).getMetadata()
    await bucket.file(dest).delete().catch(() => {}) // keeps the emulator's memory flat
    log(`  peer upload (${when}): ${fmtS(r.seconds)} s, ${fmtMiB(r.peakMiB)} MiB peak, ${fmtInt(Number(meta.size))} bytes`)
    return {when, seconds: r.seconds, peakMiB: r.peakMiB, http, bytes: Number(meta.size)}
  }
  // the directory peer: cp -r of the same pack and index files
  let cpCount = 0
  const cpPeer = async (srcDirs) => {
    const dest = path.join(root, `cp-peer-${++cpCount}`)
    fs.mkdirSync(dest)
    const r = await timed('cp', ['-r', ...srcDirs, dest], {cwd: root, env: baseEnv, timeout: opts.timeout})
    fs.rmSync(dest, {recursive: true, force: true})
    log(`  peer cp -r: ${fmtS(r.seconds)} s`)
    return {seconds: r.seconds, peakMiB: r.peakMiB, code: r.code}
  }

  // 3. push v1 to the directory first: its packs and indexes are the peer's bytes
  const peerPath = path.join(root, 'peer-v1.bin')
  try {
    const p = await dsv('dsv push disk (v1)', ['push', 'disk'], {trace: true})
    const files = filesUnder(diskRemote, ['packs', 'index'])
    const size = files.reduce((a, f) => a + f.size, 0)
    res.disk.pushV1 = op(p, {bytes: p.doc.bytes, packs: p.doc.packs, objects: p.doc.objects, uploads: p.doc.uploads, files: files.map((f) => ({name: f.rel, size: f.size}))})
    if (size !== p.doc.bytes) log(`  note: the directory remote's pack and index files add up to ${size} bytes, dsv push said ${p.doc.bytes}`)
    res.peerFile = {path: peerPath, bytes: concatFiles(files.map((f) => f.path), peerPath), source: 'the pack and index files of the v1 push to the directory remote, concatenated', files: files.length}
    const cps = [await cpPeer([path.join(diskRemote, 'packs'), path.join(diskRemote, 'index')]), await cpPeer([path.join(diskRemote, 'packs'), path.join(diskRemote, 'index')])]
    res.disk.cpPeer = {runs: cps, seconds: Math.min(...cps.filter((c) => c.code === 0).map((c) => c.seconds)), bytes: size}
  } catch (e) {
    fail('push v1 to the directory', e)
  }

  // 4. push v1 to GCS, between two peer uploads of the same bytes
  const peers = []
  if (res.peerFile) peers.push(await peerUpload(peerPath, 'before'))
  try {
    const p = await dsv('dsv push origin (v1)', ['push', 'origin'], {trace: true, gs: true})
    res.gs.pushV1 = op(p, {bytes: p.doc.bytes, packs: p.doc.packs, objects: p.doc.objects, uploads: p.doc.uploads})
    // what the push left on the remote
    const [objs] = await bucket.getFiles({prefix: `${prefix}/`})
    const onGs = objs.map((f) => ({name: f.name.slice(prefix.length + 1), size: Number(f.metadata.size)})).filter((f) => /^(packs|index)\//.test(f.name)).sort((a, b) => (a.name < b.name ? -1 : 1))
    res.gs.pushV1.files = onGs
    if (res.disk.pushV1) res.gs.samePacksAsDisk = JSON.stringify(onGs) === JSON.stringify(res.disk.pushV1.files)
    if (!res.peerFile || res.peerFile.bytes !== p.doc.bytes) {
      // no usable peer file yet: download what the push left on the remote and concatenate
      log('  peer file: downloading the pushed packs and indexes back from the emulator')
      const parts = []
      for (const [i, f] of onGs.entries()) {
        const part = path.join(root, `peer-part-${i}`)
        await bucket.file(`${prefix}/${f.name}`).download({destination: part})
        parts.push(part)
      }
      res.peerFile = {path: peerPath, bytes: concatFiles(parts, peerPath), source: 'the pack and index objects of the v1 push to GCS, downloaded back and concatenated', files: parts.length}
      for (const part of parts) fs.rmSync(part, {force: true})
    }
  } catch (e) {
    fail('push v1 to GCS', e)
  }
  if (res.peerFile) peers.push(await peerUpload(peerPath, 'after'))
  const okPeers = peers.filter((x) => !x.error && x.bytes === res.peerFile?.bytes)
  res.gs.peer = {runs: peers, seconds: okPeers.length ? Math.min(...okPeers.map((x) => x.seconds)) : null, bytes: res.peerFile?.bytes ?? null}
  if (res.peerFile && !opts.keep) fs.rmSync(peerPath, {force: true})

  // 5. v2: commit, incremental pushes
  let v2ok = false
  try {
    const m2 = applyV2({n, dir: work, seed: opts.seed})
    res.data.v2 = {bytes: m2.bytes, examples: m2.examples, modified: m2.modified, removed: m2.deleted ?? m2.removed, added: m2.added}
    const c2 = await dsv('dsv commit -m v2', ['commit', '-m', 'v2'])
    res.commits.v2 = {...op(c2), id: c2.doc.id}
    v2ok = true
  } catch (e) {
    fail('commit v2', e)
  }
  if (v2ok) {
    for (const [side, name] of [['gs', 'origin'], ['disk', 'disk']]) {
      if (!res[side].pushV1) continue
      try {
        const p = await dsv(`dsv push ${name} (v2)`, ['push', name], {trace: true, gs: side === 'gs'})
        res[side].pushV2 = op(p, {bytes: p.doc.bytes, packs: p.doc.packs, objects: p.doc.objects, uploads: p.doc.uploads})
      } catch (e) {
        fail(`push v2 to ${side === 'gs' ? 'GCS' : 'the directory'}`, e)
      }
    }
  }

  // 6. clones, checked byte for byte against the working dir, and fsck
  log('hashing the working dir')
  const want = hashTree(work)
  for (const [side, url] of [['gs', gsUrl], ['disk', diskRemote]]) {
    if (!res[side].pushV1) continue
    const dir = path.join(root, `clone-${side}`)
    try {
      const c = await dsv(`dsv clone ${side === 'gs' ? 'gs://…' : 'DIR'}`, ['clone', url, dir], {cwd: root, trace: true, gs: side === 'gs'})
      res[side].clone = op(c, {objects: c.doc.objects, bytes: c.doc.bytes, packs: c.doc.packs, written: c.doc.written, head: c.doc.head})
      const problems = compareTrees(want, hashTree(dir))
      res[side].clone.identical = problems.length === 0
      res[side].clone.problems = problems.slice(0, 20)
      res[side].clone.files = want.size
      res[side].clone.headIsV2 = res.commits.v2 ? c.doc.head === res.commits.v2.id : null
      log(`  clone ${side}: ${problems.length ? `DIFFERS from the working dir: ${problems.slice(0, 3).join('; ')}` : `${want.size} files byte-identical to the working dir`}`)
      try {
        const f = await dsv(`dsv fsck (${side} clone)`, ['fsck'], {cwd: dir})
        res[side].fsck = {...op(f), ok: f.doc.ok === true, objects: f.doc.objects, problems: f.doc.problems?.length ?? null}
      } catch (e) {
        res[side].fsck = {ok: false, error: e.message}
        fail(`fsck in the ${side} clone`, e)
      }
    } catch (e) {
      fail(`clone from ${side === 'gs' ? 'GCS' : 'the directory'}`, e)
    }
    if (!opts.keep) fs.rmSync(dir, {recursive: true, force: true})
  }

  await stopEmulator(emu)
  emu = null
  res.dsvProcesses = allDsv
  res.checks = checks(res)
  return res
}

function checks(res) {
  const out = []
  const add = (name, target, value, pass, correctness = false) => out.push({name, target, value, pass, correctness})
  const g = res.gs
  const indicative = res.n !== TARGET_N
  const ratio = g.pushV1 && g.peer.seconds ? g.pushV1.seconds / g.peer.seconds : null
  add('push v1 to GCS: time / one client upload of the same bytes', `<= ${TARGET.pushRatio}`, ratio, ratio == null ? null : ratio <= TARGET.pushRatio)
  const share = g.pushV1 && g.pushV2 ? g.pushV2.bytes / g.pushV1.bytes : null
  add('push v2 to GCS: bytes / bytes of push v1', `<= ${TARGET.incrementalShare}`, share, share == null ? null : share <= TARGET.incrementalShare)
  const peak = g.clone?.peakMiB ?? null
  add('clone from GCS: peak RSS MiB', `< ${TARGET.clonePeakMiB}`, peak, peak == null ? null : peak < TARGET.clonePeakMiB)
  for (const side of ['gs', 'disk']) {
    const s = res[side]
    const where = side === 'gs' ? 'GCS' : 'directory'
    if (!s.pushV1) {
      add(`push v1 to the ${where} remote ran`, 'exit 0', false, false, true)
      continue
    }
    add(`clone from the ${where} remote byte-identical to the working dir`, 'identical', s.clone?.identical ?? false, s.clone?.identical === true, true)
    add(`dsv fsck in the ${where} clone`, 'ok', s.fsck?.ok ?? false, s.fsck?.ok === true, true)
    if (res.commits.v2) add(`clone from the ${where} remote checks out v2`, 'head = v2', s.clone?.headIsV2 ?? false, s.clone?.headIsV2 === true, true)
  }
  if (res.errors.length) add('every dsv command succeeded', 'no errors', res.errors.length, false, true)
  for (const c of out) c.indicative = indicative && !c.correctness
  return out
}

// ---------------------------------------------------------------------------
// report

function table(res) {
  const g = res.gs
  const d = res.disk
  const check = (prefix) => res.checks.find((c) => c.name.startsWith(prefix))
  const pf = (c) => (!c || c.pass == null ? '-' : c.pass ? 'PASS' : 'FAIL')
  const ops = (o) => (o?.trace ? o.trace.total : null)
  const upOps = (o) => (o?.trace ? o.trace.uploadOps : null)
  const rows = []
  const row = (name, o, x = {}) => rows.push([name, fmtS(o?.seconds), fmtMiB(o?.peakMiB), x.bytes === undefined ? fmtMB(o?.bytes) : x.bytes, o?.packs ?? '-', o?.uploads ?? '-', upOps(o) ?? '-', ops(o) ?? '-', o?.http?.total ?? '-', x.target ?? '', x.value ?? '', x.result ?? ''])
  const pushC = check('push v1 to GCS: time')
  const shareC = check('push v2 to GCS')
  const cloneC = check('clone from GCS: peak')
  row('dsv commit -m v1 (not a target)', res.commits.v1, {bytes: '-'})
  row('dsv commit -m v2 (not a target)', res.commits.v2, {bytes: '-'})
  row('dsv push origin, v1 -> gs (emulator)', g.pushV1, {target: `<= ${TARGET.pushRatio}x peer`, value: fmtRatio(pushC?.value), result: pf(pushC)})
  const pr = g.peer?.runs ?? []
  const peerRow = {seconds: g.peer?.seconds, peakMiB: Math.max(0, ...pr.map((x) => x.peakMiB ?? 0)) || null, bytes: g.peer?.bytes, packs: '-', uploads: '-', http: pr.length ? {total: pr.at(-1).http?.total} : null}
  row(`  peer: 1 object, client (best of ${pr.map((x) => `${x.when} ${fmtS(x.seconds)}${x.error ? ' FAILED' : ''}`).join(', ')})`, peerRow)
  row('dsv push origin, v2 (incremental)', g.pushV2, {target: `<= ${TARGET.incrementalShare * 100}% of v1 bytes`, value: fmtPct(shareC?.value), result: pf(shareC)})
  row('dsv clone gs://… (v2)', g.clone, {target: `peak < ${TARGET.clonePeakMiB} MiB`, value: fmtMiB(cloneC?.value), result: pf(cloneC)})
  row('dsv fsck in the gs clone', g.fsck, {bytes: '-', result: g.fsck ? (g.fsck.ok ? 'ok' : 'FAIL') : ''})
  const cpRatio = d.pushV1 && d.cpPeer?.seconds ? d.pushV1.seconds / d.cpPeer.seconds : null
  row('dsv push disk, v1 -> directory', d.pushV1, {target: '(vs cp -r)', value: fmtRatio(cpRatio)})
  row(`  peer: cp -r of the same files (best of ${d.cpPeer?.runs?.length ?? 0})`, d.cpPeer ? {seconds: d.cpPeer.seconds, peakMiB: Math.max(0, ...d.cpPeer.runs.map((x) => x.peakMiB ?? 0)) || null, bytes: d.cpPeer.bytes} : null)
  const dShare = d.pushV1 && d.pushV2 ? d.pushV2.bytes / d.pushV1.bytes : null
  row('dsv push disk, v2 (incremental)', d.pushV2, {value: fmtPct(dShare)})
  row('dsv clone DIR (v2)', d.clone)
  row('dsv fsck in the directory clone', d.fsck, {bytes: '-', result: d.fsck ? (d.fsck.ok ? 'ok' : 'FAIL') : ''})

  const head = ['operation', 's', 'peak MiB', 'sent MB', 'packs', 'uploads', 'upload ops', 'ops', 'HTTP', 'target', 'value', 'result']
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)))
  const fmtRow = (r) => r.map((c, i) => (i === 0 || i >= 9 ? String(c).padEnd(widths[i]) : String(c).padStart(widths[i]))).join('  ').trimEnd()
  const out = []
  const v2 = res.data.v2
  out.push(`N = ${fmtInt(res.n)}: v1 ${fmtInt(res.data.v1?.examples)} examples, ${fmtMB(res.data.v1?.bytes)} MB in ${res.data.v1?.shards} shards` +
    (v2 ? `; v2 ${fmtInt(v2.modified)} modified, ${fmtInt(v2.removed)} removed, ${fmtInt(v2.added)} added (${fmtMB(v2.bytes)} MB)` : ''))
  out.push(`remotes: ${res.remotes.gs} on the GCS emulator (${res.remotes.emulator}); a directory in the temp dir`)
  if (res.n !== TARGET_N) out.push(`(targets are defined at N = ${fmtInt(TARGET_N)}; here they are indicative)`)
  out.push(fmtRow(head))
  out.push(widths.map((w) => '-'.repeat(w)).join('  '))
  for (const r of rows) out.push(fmtRow(r))
  out.push('')
  out.push('sent MB: bytes of packs + indexes dsv uploaded (its --json "bytes"; clone: bytes received); uploads: its --json "uploads";')
  out.push('upload ops: traced create + cas-ref; ops: every traced remote operation (DSV_TRACE=remote); HTTP: requests the emulator served')
  out.push('')
  const opLine = (label, o) => {
    if (!o?.trace) return
    const t = Object.entries(o.trace.ops).map(([k, v]) => `${k} ${v.count}${v.count > 1 || k === 'create' ? ` (${(v.ms / 1000).toFixed(2)} s)` : ''}`).join(', ')
    const h = o.http ? `; HTTP ${o.http.total}: ${Object.entries(o.http.kinds).map(([k, v]) => `${k} ${v}`).join(', ')}` : ''
    out.push(`${label}: ops ${o.trace.total}: ${t}${h}`)
  }
  opLine('push v1 (gs)', g.pushV1)
  opLine('push v2 (gs)', g.pushV2)
  opLine('clone (gs)', g.clone)
  opLine('push v1 (dir)', d.pushV1)
  opLine('push v2 (dir)', d.pushV2)
  opLine('clone (dir)', d.clone)
  out.push('(seconds after an op: the sum of its traced durations; operations may overlap)')
  if (res.peerFile) out.push(`peer file: ${res.peerFile.source}: ${fmtInt(res.peerFile.bytes)} bytes in ${res.peerFile.files} files` +
    `${g.pushV1 ? ` (push v1 to gs sent ${fmtInt(g.pushV1.bytes)} bytes${g.samePacksAsDisk != null ? `; the gs and directory remotes hold ${g.samePacksAsDisk ? 'the same' : 'DIFFERENT'} pack and index files` : ''})` : ''}`)
  if (g.pushV1 && g.peer?.seconds) out.push(`push v1 to gs: ${fmtS(g.pushV1.seconds)} s / peer ${fmtS(g.peer.seconds)} s = ${fmtRatio(g.pushV1.seconds / g.peer.seconds)}; ${(g.pushV1.bytes / MB / g.pushV1.seconds).toFixed(1)} MB/s vs ${(g.peer.bytes / MB / g.peer.seconds).toFixed(1)} MB/s`)
  if (res.startup) out.push(`CLI start-up reference (${res.startup.command}): ${fmtS(res.startup.seconds)} s, ${fmtMiB(res.startup.peakMiB)} MiB`)
  const peakAll = Math.max(0, ...(res.dsvProcesses ?? []).map((p) => p.peakMiB ?? 0))
  out.push(`peak memory, any dsv process: ${fmtMiB(peakAll)} MiB (${(res.dsvProcesses ?? []).find((p) => p.peakMiB === peakAll)?.label ?? '-'}); method: ${res.memoryMethod}`)
  const corr = res.checks.filter((c) => c.correctness)
  out.push(`correctness: ${corr.map((c) => `${c.name} ${c.pass ? 'PASS' : 'FAIL'}`).join('; ') || '-'}`)
  for (const side of ['gs', 'disk']) for (const p of res[side].clone?.problems ?? []) out.push(`  ${side} clone: ${p}`)
  for (const e of res.errors) out.push(`ERROR (${e.section}): ${e.message}${e.detail ? `\n${e.detail.replace(/^/gm, '    ')}` : ''}`)
  return out.join('\n')
}

// ---------------------------------------------------------------------------
// main

function removeRoot() {
  if (live.root && !live.keep) fs.rmSync(live.root, {recursive: true, force: true})
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
    return 0
  }
  live.keep = opts.keep
  memoryMethod = pickMemoryMethod()
  if (memoryMethod !== 'gnu-time') log('note: /usr/bin/time (GNU time) not usable; peak memory is sampled from /proc (approximate)')
  const onSignal = (sig) => {
    if (live.child) killGroup(live.child, 'SIGKILL')
    live.child = null
    if (live.timeFile) fs.rmSync(live.timeFile, {force: true})
    live.timeFile = null
    if (live.emulator) killGroup(live.emulator.pid, 'SIGTERM')
    live.emulator = null
    removeRoot()
    process.stderr.write(`\ninterrupted (${sig})\n`)
    process.exit(130)
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)

  let res
  try {
    res = await bench(opts)
  } catch (e) {
    log(`FAILED: ${e.message}${e.detail ? `\n${e.detail}` : ''}`)
    if (live.emulator) await stopEmulator(live.emulator)
    removeRoot()
    return 1
  }
  if (live.emulator) await stopEmulator(live.emulator)
  const text = JSON.stringify(res, null, 2) + '\n'
  if (opts.keep) fs.writeFileSync(path.join(res.tempDir, 'results.json'), text)
  if (opts.save) {
    fs.mkdirSync(path.dirname(opts.save), {recursive: true})
    fs.writeFileSync(opts.save, text)
    log(`results saved to ${opts.save}`)
  }
  if (opts.keep) log(`kept ${res.tempDir}`)
  removeRoot()
  await new Promise((r) => process.stdout.write(opts.json ? text : `\n${table(res)}\n`, r))
  const failed = res.checks.some((c) => c.correctness && c.pass === false)
  const missed = res.checks.some((c) => !c.correctness && c.pass === false)
  return failed || (opts.strict && missed) ? 1 : 0
}

process.exit(await main())
