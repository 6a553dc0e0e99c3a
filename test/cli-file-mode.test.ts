/**
 * The executable bit is versioned, as in git: commit records it, status and diff show a
 * change of it, checkout (in place, --to, on worker threads) restores it, and an
 * uncommitted change of it is not thrown away. Where the file system cannot keep it,
 * `core.fileMode false` makes dsv ignore the disk's bits.
 */
import assert from 'node:assert/strict'
import fs from 'node:fs'
import path from 'node:path'
import Ajv from 'ajv'
import {TempDirs, assertExit, assertJsonError, cleanEnv, dsv, dsvAsUser, dsvEnv, dsvJson, isRoot, repoRoot, AUTHOR, type RunResult} from './helpers.js'
import {encodeTree} from '../src/core/model.js'

const SCRIPT = 'scripts/prepare.sh'
const TABLE = 'data/train.jsonl'

function ok(r: RunResult): RunResult {
  assertExit(r, 0)
  return r
}

const validateDiff = new Ajv({allErrors: true}).compile(JSON.parse(fs.readFileSync(path.join(repoRoot, 'docs', 'diff.schema.json'), 'utf8')))

function executable(file: string): boolean {
  return (fs.statSync(file).mode & 0o100) !== 0
}

describe('the executable bit', () => {
  const tmp = new TempDirs()
  after(() => tmp.cleanup())

  /** A repository with a script (executable) and a table (not), committed as v1. */
  function repoWithScript(): string {
    const dir = tmp.make('mode')
    fs.mkdirSync(path.join(dir, 'scripts'))
    fs.mkdirSync(path.join(dir, 'data'))
    fs.writeFileSync(path.join(dir, SCRIPT), '#!/bin/sh\necho preparing\n', {mode: 0o755})
    fs.chmodSync(path.join(dir, SCRIPT), 0o755)
    fs.writeFileSync(path.join(dir, TABLE), '{"id":1,"text":"a"}\n{"id":2,"text":"b"}\n')
    ok(dsv(dir, 'init'))
    ok(dsv(dir, 'commit', '-m', 'v1'))
    ok(dsv(dir, 'tag', 'v1'))
    return dir
  }

  it('commit records it; show lists it; trees of files that are not executable say nothing of modes', () => {
    const dir = repoWithScript()
    const shown = dsvJson(dir, 0, 'show', 'v1', '--json')
    const entry = (p: string) => shown.contents.find((e: {path: string}) => e.path === p)
    assert.equal(entry(SCRIPT).executable, true)
    assert.equal(entry(TABLE).executable, undefined)
    // trees written before modes were versioned keep their ids: no flag unless executable
    const plain = encodeTree({entries: [{name: 'a.jsonl', type: 'table', oid: '0'.repeat(64), size: 1, examples: 1, executable: false}]}).toString()
    assert.equal(plain, `{"entries":[{"name":"a.jsonl","type":"table","oid":"${'0'.repeat(64)}","size":1,"examples":1}]}`)
  })

  it('a chmod is a change: status and diff show the old and new mode, commit records it with no example changed', () => {
    const dir = repoWithScript()
    fs.chmodSync(path.join(dir, SCRIPT), 0o644)
    fs.chmodSync(path.join(dir, TABLE), 0o755)
    const st = dsvJson(dir, 0, 'status', '--json')
    assert.equal(st.clean, false)
    const file = (p: string) => st.files.find((f: {path: string}) => f.path === p)
    assert.deepEqual(file(SCRIPT).executable, {from: true, to: false})
    assert.equal(file(SCRIPT).status, 'modified')
    assert.deepEqual(file(TABLE).executable, {from: false, to: true})
    assert.deepEqual(file(TABLE).examples, {added: 0, removed: 0, modified: 0})
    assert.deepEqual(st.examples, {added: 0, removed: 0, modified: 0})
    const text = ok(dsv(dir, 'status')).stdout
    assert.match(text, /modified\s+scripts\/prepare\.sh\s+\(mode 100755 => 100644\)/)
    assert.match(text, /modified\s+data\/train\.jsonl\s+\(\+0 -0 ~0\)\s+\(mode 100644 => 100755\)/)

    const c = dsvJson(dir, 0, 'commit', '-m', 'modes', '--json')
    assert.deepEqual(c.files, {added: 0, removed: 0, modified: 2})
    assert.deepEqual(c.examples, {added: 0, removed: 0, modified: 0})
    assert.equal(dsvJson(dir, 0, 'status', '--json').clean, true)

    const d = dsvJson(dir, 0, 'diff', 'v1', 'HEAD', '--json')
    assert.ok(validateDiff(d), JSON.stringify(validateDiff.errors))
    const df = (p: string) => d.files.find((f: {path: string}) => f.path === p)
    assert.equal(df(SCRIPT).modeOnly, true)
    assert.deepEqual(df(SCRIPT).executable, {from: true, to: false})
    assert.equal(df(TABLE).modeOnly, true)
    assert.equal(df(TABLE).kind, 'table')
    const dtext = ok(dsv(dir, 'diff', 'v1', 'HEAD')).stdout
    assert.match(dtext, /scripts\/prepare\.sh\s+modified\s+mode 100755 => 100644/)
    assert.doesNotMatch(dtext, /only formatting or order/)
  })

  it('checkout restores it both ways, in place and with --to, on worker threads too', () => {
    const dir = repoWithScript()
    fs.chmodSync(path.join(dir, SCRIPT), 0o644)
    fs.writeFileSync(path.join(dir, TABLE), '{"id":1,"text":"a"}\n{"id":2,"text":"B"}\n')
    fs.chmodSync(path.join(dir, TABLE), 0o755)
    ok(dsv(dir, 'commit', '-m', 'v2'))
    const withWorkers = cleanEnv({DSV_AUTHOR_NAME: AUTHOR.name, DSV_AUTHOR_EMAIL: AUTHOR.email, DSV_PARALLEL_MIN_BYTES: '0'})
    for (const env of [undefined, withWorkers]) {
      const run = (...args: string[]) => ok(env ? dsvEnv(dir, env, ...args) : dsv(dir, ...args))
      run('checkout', 'v1')
      assert.equal(executable(path.join(dir, SCRIPT)), true, 'a mode-only change is applied')
      assert.equal(executable(path.join(dir, TABLE)), false, 'a rewritten table gets its mode')
      assert.equal(dsvJson(dir, 0, 'status', '--json').clean, true)
      run('checkout', 'main')
      assert.equal(executable(path.join(dir, SCRIPT)), false)
      assert.equal(executable(path.join(dir, TABLE)), true)
      assert.equal(dsvJson(dir, 0, 'status', '--json').clean, true)
      const to = path.join(tmp.make('to'), 'v1')
      run('checkout', 'v1', '--to', to)
      assert.equal(executable(path.join(to, SCRIPT)), true)
      assert.equal(executable(path.join(to, TABLE)), false)
    }
    // the mode goes where the read bits are, as the umask left them
    const mode = fs.statSync(path.join(dir, TABLE)).mode & 0o777
    assert.equal(mode & 0o111, (mode & 0o444) >> 2)
  })

  it('an uncommitted chmod is a change checkout will not throw away (unless --force)', () => {
    const dir = repoWithScript()
    fs.writeFileSync(path.join(dir, TABLE), '{"id":1,"text":"a"}\n{"id":2,"text":"c"}\n')
    ok(dsv(dir, 'commit', '-m', 'v2'))
    fs.chmodSync(path.join(dir, SCRIPT), 0o644)
    const e = assertJsonError(dsv(dir, 'checkout', 'v1', '--json'), 6, 'E_DIRTY_WORKTREE')
    assert.deepEqual(e.paths, [SCRIPT])
    assert.equal(executable(path.join(dir, SCRIPT)), false)
    ok(dsv(dir, 'checkout', 'v1', '--force'))
    assert.equal(executable(path.join(dir, SCRIPT)), true)
  })

  it('core.fileMode false: the disk\'s bits are ignored and HEAD\'s kept; the setting takes git\'s booleans only', () => {
    const dir = repoWithScript()
    ok(dsv(dir, 'config', 'core.fileMode', 'false'))
    fs.chmodSync(path.join(dir, TABLE), 0o755)
    fs.chmodSync(path.join(dir, SCRIPT), 0o644)
    assert.equal(dsvJson(dir, 0, 'status', '--json').clean, true)
    fs.writeFileSync(path.join(dir, 'new.sh'), 'echo\n', {mode: 0o755})
    ok(dsv(dir, 'commit', '-m', 'new file'))
    const shown = dsvJson(dir, 0, 'show', 'HEAD', '--json')
    const entry = (p: string) => shown.contents.find((x: {path: string}) => x.path === p)
    assert.equal(entry('new.sh').executable, undefined)
    assert.equal(entry(SCRIPT).executable, true, 'HEAD\'s bit is kept')
    assertExit(dsv(dir, 'config', 'core.fileMode', 'maybe'), 2)
    assertJsonError(dsv(dir, 'config', 'core.fileMode', '2', '--json'), 2, 'E_CONFIG')
  })

  it('a file renamed and made executable: diff shows both', () => {
    const dir = repoWithScript()
    fs.renameSync(path.join(dir, TABLE), path.join(dir, 'data/all.jsonl'))
    fs.chmodSync(path.join(dir, 'data/all.jsonl'), 0o755)
    ok(dsv(dir, 'commit', '-m', 'renamed'))
    const d = dsvJson(dir, 0, 'diff', 'v1', 'HEAD', '--json')
    assert.ok(validateDiff(d), JSON.stringify(validateDiff.errors))
    assert.deepEqual(d.files.map((f: {path: string; status: string; from?: string; executable?: unknown}) => [f.path, f.status, f.from, f.executable]),
      [['data/all.jsonl', 'renamed', TABLE, {from: false, to: true}]])
    assert.match(ok(dsv(dir, 'diff', 'v1', 'HEAD')).stdout, /data\/all\.jsonl\s+renamed from data\/train\.jsonl.*\(mode 100644 => 100755\)/)
  })

  it('pull merges a content change on one side with a mode change on the other, as git does', () => {
    const up = repoWithScript()
    const remote = path.join(tmp.make('remote'), 'r')
    ok(dsv(up, 'remote', 'add', 'origin', remote))
    ok(dsv(up, 'push', 'origin'))
    const parent = tmp.make('clones')
    ok(dsv(parent, 'clone', remote, 'down'))
    const down = path.join(parent, 'down')
    assert.equal(executable(path.join(down, SCRIPT)), true, 'clone writes the mode')
    fs.writeFileSync(path.join(up, SCRIPT), '#!/bin/sh\necho preparing more\n')
    ok(dsv(up, 'commit', '-m', 'script edited'))
    ok(dsv(up, 'push'))
    fs.chmodSync(path.join(down, TABLE), 0o755)
    ok(dsv(down, 'commit', '-m', 'table executable'))
    fs.chmodSync(path.join(down, SCRIPT), 0o644)
    ok(dsv(down, 'commit', '-m', 'script not executable'))
    ok(dsv(down, 'pull'))
    assert.equal(fs.readFileSync(path.join(down, SCRIPT), 'utf8'), '#!/bin/sh\necho preparing more\n')
    assert.equal(executable(path.join(down, SCRIPT)), false, 'their content, our mode')
    assert.equal(executable(path.join(down, TABLE)), true)
    assert.equal(dsvJson(down, 0, 'status', '--json').clean, true)
  })

  it('a checkout killed between moving the old file aside and putting the new one in place: the next scan puts the old one back, and the checkout run again finishes', () => {
    const dir = repoWithScript()
    fs.writeFileSync(path.join(dir, TABLE), '{"id":1,"text":"a"}\n{"id":2,"text":"v2"}\n')
    ok(dsv(dir, 'commit', '-m', 'v2'))
    // what the kill leaves: the old file aside, the new one still under its temp name
    const old = fs.readFileSync(path.join(dir, TABLE))
    fs.renameSync(path.join(dir, TABLE), path.join(dir, `${TABLE}.dsv-0a1b2c3d.old`))
    fs.writeFileSync(path.join(dir, `${TABLE}.dsv-4e5f6a7b.tmp`), '{"id":1,"text":"a"}\n{"id":2,"text":"b"}\n')
    assert.equal(dsvJson(dir, 0, 'status', '--json').clean, true, 'the old file is back: nothing is lost or changed')
    assert.deepEqual(fs.readFileSync(path.join(dir, TABLE)), old)
    ok(dsv(dir, 'checkout', 'v1'))
    assert.equal(fs.readFileSync(path.join(dir, TABLE), 'utf8'), '{"id":1,"text":"a"}\n{"id":2,"text":"b"}\n')
    assert.deepEqual(fs.readdirSync(path.join(dir, 'data')), ['train.jsonl'], 'the leftover temp file is swept')
    assert.equal(dsvJson(dir, 0, 'status', '--json').clean, true)
  })

  it('core.fileMode false: a checkout cut short between writing a file and its mode runs again without --force', () => {
    const dir = repoWithScript()
    ok(dsv(dir, 'config', 'core.filemode', 'no')) // git's spelling of the key and of false
    assert.equal(dsvJson(dir, 0, 'config', 'core.fileMode').value, false)
    fs.writeFileSync(path.join(dir, SCRIPT), '#!/bin/sh\necho two\n')
    ok(dsv(dir, 'commit', '-m', 'v2'))
    ok(dsv(dir, 'checkout', 'v1'))
    fs.writeFileSync(path.join(dir, SCRIPT), '#!/bin/sh\necho two\n') // v2's content, the mode not yet
    fs.chmodSync(path.join(dir, SCRIPT), 0o644)
    ok(dsv(dir, 'checkout', 'main'))
    assert.equal(dsvJson(dir, 0, 'status', '--json').clean, true)
  })

  it('a mode change of a file this user does not own is made by rewriting the file (git does the same)', function () {
    if (!isRoot) this.skip() // needs a file of another owner
    const dir = tmp.make('owned')
    fs.chmodSync(dir, 0o777)
    const env = cleanEnv({DSV_AUTHOR_NAME: AUTHOR.name, DSV_AUTHOR_EMAIL: AUTHOR.email}, dir)
    const run = (...args: string[]) => dsvAsUser(dir, env, 65534, ...args)
    if (run('--version').code !== 0) this.skip() // cannot run as another user here
    ok(run('init'))
    fs.writeFileSync(path.join(dir, 'run.sh'), 'echo\n')
    fs.chmodSync(path.join(dir, 'run.sh'), 0o755)
    fs.chownSync(path.join(dir, 'run.sh'), 65534, 65534)
    ok(run('commit', '-m', 'v1'))
    fs.chmodSync(path.join(dir, 'run.sh'), 0o644)
    ok(run('commit', '-m', 'v2'))
    fs.chownSync(path.join(dir, 'run.sh'), 0, 0) // now root's: that user may not chmod it
    fs.chmodSync(path.join(dir, 'run.sh'), 0o644)
    ok(run('checkout', 'HEAD~1'))
    assert.equal(executable(path.join(dir, 'run.sh')), true)
    assert.equal(fs.readFileSync(path.join(dir, 'run.sh'), 'utf8'), 'echo\n')
    assert.equal(run('status', '--json').json<{clean: boolean}>().clean, true)
  })
})
