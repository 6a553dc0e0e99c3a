/**
 * Lock files under contention, with real processes: when several take over the same stale
 * lock at the same instant, one holds it and the others get E_LOCKED. (Taking
 * over by "read, judge stale, unlink, create" let two processes hold it at once: the
 * second unlinked the lock the first had just created.)
 */
import {strict as assert} from 'node:assert'
import {spawn, spawnSync} from 'node:child_process'
import {mkdtempSync, readdirSync, rmSync, writeFileSync} from 'node:fs'
import {hostname, tmpdir} from 'node:os'
import {join} from 'node:path'
import {repoRoot} from './helpers.js'
import {pathToFileURL} from 'node:url'

const REPO = repoRoot

/** One contender: at each round's instant, tries to take the lock, holds it briefly, reports. */
const CONTENDER = `
import {acquireLockFile} from ${JSON.stringify(pathToFileURL(join(REPO, 'src/core/lock-file.ts')).href)}
import {closeSync, unlinkSync, writeFileSync} from 'node:fs'
const [lock, t0, rounds, index, deadPid, host] = process.argv.slice(2)
const pause = (ms) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms)
const until = (t) => { while (Date.now() < t) pause(Math.min(5, Math.max(0, t - Date.now() - 1))) ; while (Date.now() < t) {} }
const out = []
for (let r = 0; r < Number(rounds); r++) {
  const at = Number(t0) + r * 600
  // the first contender leaves a lock "of a process that died" before each round
  if (index === '0') { until(at - 250); writeFileSync(lock, deadPid + ' ' + host + '\\n') }
  until(at)
  try {
    const fd = acquireLockFile(lock)
    const from = Date.now()
    pause(150)
    const to = Date.now()
    closeSync(fd)
    unlinkSync(lock)
    out.push({round: r, held: [from, to]})
  } catch (e) {
    out.push({round: r, error: e.code ?? e.message})
  }
}
process.stdout.write(JSON.stringify(out))
`

describe('lock files under contention', function () {
  this.timeout(120_000)
  let dir: string
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'dsv-lock-'))
  })
  afterEach(() => rmSync(dir, {recursive: true, force: true}))

  it('six processes taking over one stale lock at once: never two holders at a time, the others get E_LOCKED, in every round', async () => {
    const script = join(dir, 'contender.mjs')
    writeFileSync(script, CONTENDER)
    const dead = spawnSync(process.execPath, ['-e', '0']).pid! // exited and reaped: no such process now
    const lock = join(dir, 'lock')
    const [contenders, rounds] = [6, 12]
    const t0 = Date.now() + 6_000 // every contender has started by then (tsx loads in ~1 s)
    const runs = await Promise.all(
      Array.from({length: contenders}, (_, i) =>
        new Promise<{code: number | null; out: string; err: string}>((done) => {
          const child = spawn(process.execPath, ['--import', 'tsx', script, lock, String(t0), String(rounds), String(i), String(dead), hostname()], {cwd: REPO})
          let out = ''
          let err = ''
          child.stdout.on('data', (d) => (out += d))
          child.stderr.on('data', (d) => (err += d))
          child.on('close', (code) => done({code, out, err}))
        }),
      ),
    )
    for (const r of runs) assert.equal(r.code, 0, r.err)
    const results = runs.map((r) => JSON.parse(r.out) as Array<{round: number; held?: [number, number]; error?: string}>)
    for (let round = 0; round < rounds; round++) {
      const outcomes = results.map((rs) => rs.find((x) => x.round === round)!)
      // one holder at a time (a contender the machine delayed past the release may hold it next)
      const held = outcomes.flatMap((o) => (o.held ? [o.held] : [])).sort((a, b) => a[0] - b[0])
      assert.ok(held.length >= 1, `round ${round}: nobody got the stale lock: ${JSON.stringify(outcomes)}`)
      for (let k = 1; k < held.length; k++) assert.ok(held[k][0] >= held[k - 1][1], `round ${round}: two processes held the lock at once: ${JSON.stringify(outcomes)}`)
      for (const o of outcomes) if (!o.held) assert.equal(o.error, 'E_LOCKED', `round ${round}: ${JSON.stringify(o)}`)
    }
    assert.deepEqual(readdirSync(dir).sort(), ['contender.mjs']) // no lock, no takeover guard left
  })
})
