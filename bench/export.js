#!/usr/bin/env node
// dsv export benchmark. See bench/README.md ("dsv export").
//
//   node bench/export.js [--n 1000000] [--seed 42] [--keep] [--dsv PATH] [--formats jsonl,parquet,tfrecord]
//
// Generates N golden examples (bench/generate.js), commits them with dsv, then times
// `dsv export HEAD --format F --output FILE` for each format, and DuckDB's
// `COPY (SELECT * FROM read_json('all.jsonl')) TO 'x.parquet'` over the exported JSONL as
// the reference for Parquet. Every process is timed (wall clock) with its peak RSS
// (GNU time). Each export's row count is checked: dsv's manifest, and DuckDB reading the
// Parquet files back.

import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {spawnSync} from 'node:child_process'
import {fileURLToPath} from 'node:url'
import {generateV1} from './generate.js'

const BENCH_DIR = path.dirname(fileURLToPath(import.meta.url))
const REPO_ROOT = path.resolve(BENCH_DIR, '..')
const PEAK_TARGET_MIB = 512

function parseArgs(argv) {
  const o = {n: 1_000_000, seed: 42, keep: false, dsv: path.join(REPO_ROOT, 'bin', 'run.js'), formats: ['jsonl', 'parquet', 'tfrecord']}
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]
    const value = () => {
      if (i + 1 >= argv.length) throw new Error(`${a} needs a value`)
      return argv[++i]
    }
    if (a === '--n') o.n = Number(value())
    else if (a === '--seed') o.seed = Number(value())
    else if (a === '--keep') o.keep = true
    else if (a === '--dsv') o.dsv = path.resolve(value())
    else if (a === '--formats') o.formats = value().split(',')
    else throw new Error(`unknown argument ${a}`)
  }
  if (!(o.n > 0)) throw new Error('--n must be positive')
  return o
}

const hasGnuTime = fs.existsSync('/usr/bin/time')

/** Runs a command; returns {seconds, peakMiB, code, stdout, stderr}. */
function run(cmd, args, cwd, env = process.env) {
  const timeFile = path.join(os.tmpdir(), `dsv-bench-export-time-${process.pid}`)
  const started = process.hrtime.bigint()
  const r = hasGnuTime
    ? spawnSync('/usr/bin/time', ['-f', '%e %M', '-o', timeFile, cmd, ...args], {cwd, env, encoding: 'utf8', maxBuffer: 64 << 20})
    : spawnSync(cmd, args, {cwd, env, encoding: 'utf8', maxBuffer: 64 << 20})
  const wall = Number(process.hrtime.bigint() - started) / 1e9
  let peakMiB = null
  if (hasGnuTime) {
    const [, kb] = fs.readFileSync(timeFile, 'utf8').trim().split(/\s+/).slice(-2)
    peakMiB = Number(kb) / 1024
    fs.rmSync(timeFile, {force: true})
  }
  return {seconds: wall, peakMiB, code: r.status, stdout: r.stdout, stderr: r.stderr}
}

function must(r, what) {
  if (r.code !== 0) throw new Error(`${what} failed (exit ${r.code}):\n${r.stderr.slice(-2000)}`)
  return r
}

/** DuckDB in a child process (so its time and memory are its own); null when not installed. */
function duckdb(sql, cwd) {
  const script = `import {DuckDBInstance} from '@duckdb/node-api'
const db = await DuckDBInstance.create(':memory:')
const c = await db.connect()
const r = await c.runAndReadAll(${JSON.stringify(sql)})
console.log(JSON.stringify(r.getRowObjectsJson()))`
  const file = path.join(REPO_ROOT, `.bench-duckdb-${process.pid}.mjs`) // inside the repo, so it resolves node_modules
  fs.writeFileSync(file, script)
  try {
    return run(process.execPath, [file], cwd)
  } finally {
    fs.rmSync(file, {force: true})
  }
}

function duckdbAvailable() {
  try {
    return fs.existsSync(path.join(REPO_ROOT, 'node_modules', '@duckdb', 'node-api'))
  } catch {
    return false
  }
}

async function main() {
  const o = parseArgs(process.argv.slice(2))
  const root = fs.mkdtempSync(path.join(os.tmpdir(), `dsv-bench-export-n${o.n}-`))
  const cleanup = () => o.keep || fs.rmSync(root, {recursive: true, force: true})
  process.on('SIGINT', () => (cleanup(), process.exit(130)))
  try {
    const data = path.join(root, 'dataset')
    const out = path.join(root, 'out')
    fs.mkdirSync(out)
    console.error(`generating ${o.n} examples in ${data}`)
    generateV1({n: o.n, out: data, seed: o.seed})
    const env = {...process.env, DSV_AUTHOR_NAME: 'Bench', DSV_AUTHOR_EMAIL: 'bench@example.com', CI: 'true'}
    must(run(process.execPath, [o.dsv, 'init'], data, env), 'dsv init')
    const commit = must(run(process.execPath, [o.dsv, 'commit', '-m', 'v1'], data, env), 'dsv commit')
    console.error(`dsv commit: ${commit.seconds.toFixed(2)} s`)

    const rows = []
    const ext = {jsonl: 'jsonl', parquet: 'parquet', tfrecord: 'tfrecord'}
    for (const f of o.formats) {
      const file = path.join(out, `all.${ext[f]}`)
      const r = must(run(process.execPath, [o.dsv, 'export', 'HEAD', '--format', f, '--output', file, '--json'], data, env), `dsv export --format ${f}`)
      const m = JSON.parse(r.stdout)
      const okRows = m.counts.written === o.n
      rows.push({what: `dsv export --format ${f}`, seconds: r.seconds, peakMiB: r.peakMiB, bytes: fs.statSync(file).size, rowsOk: okRows})
      console.error(`${rows.at(-1).what}: ${r.seconds.toFixed(2)} s, ${r.peakMiB?.toFixed(0)} MiB, rows ${okRows ? 'ok' : 'WRONG'}`)
    }

    if (duckdbAvailable() && o.formats.includes('jsonl')) {
      const jsonl = path.join(out, 'all.jsonl')
      const ref = path.join(out, 'duckdb.parquet')
      const r = must(duckdb(`COPY (SELECT * FROM read_json('${jsonl}')) TO '${ref}' (FORMAT parquet)`, out), 'DuckDB COPY')
      rows.push({what: "DuckDB COPY (read_json('all.jsonl')) TO parquet", seconds: r.seconds, peakMiB: r.peakMiB, bytes: fs.statSync(ref).size, rowsOk: null})
      if (o.formats.includes('parquet')) {
        const count = JSON.parse(must(duckdb(`SELECT count(*) AS n FROM read_parquet('${path.join(out, 'all.parquet')}')`, out), 'DuckDB count').stdout)[0].n
        rows.find((x) => x.what === 'dsv export --format parquet').rowsOk = Number(count) === o.n
      }
    } else console.error('DuckDB (@duckdb/node-api) not installed: no reference row')

    const ref = rows.find((x) => x.what.startsWith('DuckDB'))
    const w = Math.max(...rows.map((x) => x.what.length))
    console.log(`N = ${o.n.toLocaleString('en-US')} examples, ${(rows[0]?.bytes / 1e6).toFixed(1)} MB of JSONL`)
    console.log(`${'operation'.padEnd(w)}  seconds  × DuckDB  peak MiB  < ${PEAK_TARGET_MIB}  output MB  rows`)
    for (const x of rows) {
      const ratio = ref && !x.what.startsWith('DuckDB') ? (x.seconds / ref.seconds).toFixed(2) : '-'
      const peak = x.peakMiB == null ? '-' : x.peakMiB.toFixed(0)
      const pass = x.peakMiB == null ? '-' : x.peakMiB < PEAK_TARGET_MIB ? 'PASS' : 'FAIL'
      console.log(`${x.what.padEnd(w)}  ${x.seconds.toFixed(2).padStart(7)}  ${ratio.padStart(8)}  ${peak.padStart(8)}  ${pass.padStart(5)}  ${(x.bytes / 1e6).toFixed(1).padStart(9)}  ${x.rowsOk == null ? '-' : x.rowsOk ? 'ok' : 'WRONG'}`)
    }
    if (rows.some((x) => x.rowsOk === false)) process.exitCode = 1
  } finally {
    cleanup()
  }
}

main().catch((e) => {
  console.error(e.message)
  process.exit(1)
})
