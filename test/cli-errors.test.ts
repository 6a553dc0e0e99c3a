/**
 * End to end: fsck on healthy and damaged stores, invalid data in the working tree (each
 * failure leaves no commit behind and a store that passes fsck), `--json` on every command
 * (successes and failures), and `--help` of every command.
 */
import assert from 'node:assert/strict'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {spawnSync} from 'node:child_process'
import {
  TempDirs,
  assertExit,
  assertJsonError,
  cleanEnv,
  defaultEnv,
  dsv,
  dsvAsUser,
  dsvAsync,
  dsvEnv,
  dsvJson,
  editJsonl,
  isRoot,
  makeRepoFrom,
  makeRepoFromAsync,
  prepareAll,
  prepared,
  type LogEntry,
  type RunResult,
} from './helpers.js'

const GOLDEN = 'golden/golden_examples.jsonl'

const tmp = new TempDirs()
after(() => tmp.cleanup())

// repositories the describes below start from, made at once in the background
const repos = {
  fsck: prepared(async () => {
    const [a, b, c] = await Promise.all([
      makeRepoFromAsync(tmp, ['.'], {commit: 'all fixtures'}),
      makeRepoFromAsync(tmp, ['golden', 'tables'], {commit: 'golden and tables'}),
      makeRepoFromAsync(tmp, ['keyless'], {commit: 'keyless'}),
    ])
    // history with a second commit and an annotated tag, so fsck walks parents and tag objects
    editJsonl(path.join(a.dir, GOLDEN), (rec) => (rec.id === 'ex-0009' ? {...rec, quality_score: 0.3} : undefined))
    await Promise.all([
      dsvAsync(a.dir, 'commit', '-m', 'second', '--quiet').then((r) => assertExit(r, 0)),
      dsvAsync(c.dir, 'tag', 'v1', '--quiet').then((r) => assertExit(r, 0)),
    ])
    assertExit(await dsvAsync(a.dir, 'tag', 'v2', '-m', 'annotated', '--quiet'), 0)
    return {healthy: a.dir, packRepo: b.dir, refRepo: c.dir}
  }),
  invalid: prepared(() => makeRepoFromAsync(tmp, [], {files: {'data/good.jsonl': '{"id":"g1"}\n{"id":"g2"}\n'}})),
}
prepareAll(repos)

interface Fsck {
  ok: boolean
  objects: number
  problems: Array<{kind: string; oid?: string; ref?: string; message: string}>
}

describe('dsv fsck', () => {
  // three repositories made at once: one stays healthy, two get damaged
  let healthy: string
  let packRepo: string
  let refRepo: string

  before(async () => {
    ;({healthy, packRepo, refRepo} = await repos.fsck.get())
  })

  it('passes on a healthy repository (exit 0, ok: true, no problems)', () => {
    const r = dsvJson<Fsck>(healthy, 0, 'fsck')
    assert.equal(r.ok, true)
    assert.deepEqual(r.problems, [])
    assert.ok(Number.isInteger(r.objects) && r.objects > 20, `checked ${r.objects} objects`)
    const h = dsv(healthy, 'fsck')
    assertExit(h, 0)
    assert.match(h.stdout, new RegExp(`ok: ${r.objects} objects verified`))
  })

  it('finds a flipped byte in the middle of the largest pack (exit 8, problems listed)', () => {
    const packs = fs.readdirSync(path.join(packRepo, '.dsv/packs')).filter((f) => f.endsWith('.pack'))
    assert.ok(packs.length > 0, 'the store has pack files')
    const largest = packs.map((f) => path.join(packRepo, '.dsv/packs', f)).sort((x, y) => fs.statSync(y).size - fs.statSync(x).size)[0]
    const bytes = fs.readFileSync(largest)
    const at = Math.floor(bytes.length / 2)
    bytes[at] ^= 0xff
    fs.writeFileSync(largest, bytes)

    const r = dsv(packRepo, 'fsck', '--json')
    assertExit(r, 8)
    const doc = r.json<Fsck>()
    assert.equal(doc.ok, false)
    assert.ok(doc.problems.length >= 1)
    for (const p of doc.problems) {
      assert.ok(p.kind === 'object' || p.kind === 'ref')
      assert.equal(typeof p.message, 'string')
    }
    assert.match(r.stderr, /object [0-9a-f]{64}( \(in .+, commit [0-9a-f]{12}\))?: /, 'each problem is also reported on stderr, with the file and commit that hold it')
    // reading the damaged version fails loudly with E_CORRUPT rather than writing wrong bytes
    const out = path.join(tmp.make('dsv-export-'), 'copy')
    assertJsonError(dsv(packRepo, 'checkout', 'HEAD', '--to', out, '--json'), 8, 'E_CORRUPT')
  })

  it('finds a ref file holding garbage (exit 8)', () => {
    fs.writeFileSync(path.join(refRepo, '.dsv/refs/tags/v1'), 'this is not an object id\n')
    const r = dsv(refRepo, 'fsck', '--json')
    assertExit(r, 8)
    const doc = r.json<Fsck>()
    assert.equal(doc.ok, false)
    const refProblems = doc.problems.filter((p) => p.kind === 'ref')
    assert.equal(refProblems.length, 1, JSON.stringify(doc.problems))
    // the problem names the ref in `ref`; its message says what is wrong
    assert.equal(refProblems[0].ref, 'refs/tags/v1')
    assert.match(refProblems[0].message, /damaged/)
  })
})

describe('a committed file edited into invalid JSONL: its new leaves are checked record by record', function () {
  this.timeout(120_000)
  const lines = (n: number) => Array.from({length: n}, (_, i) => `${JSON.stringify({id: `ex-${i}`, text: `example number ${i} `.repeat(4)})}\n`)
  const edits: Record<string, {edit: (l: string[]) => void; line: number}> = {
    'a line edited in place': {edit: (l) => (l[1199] = '{"id": "ex-1199", "text": oops}\n'), line: 1200},
    'a line inserted': {edit: (l) => l.splice(700, 0, '{"id": "ex-new" "text": "no comma"}\n'), line: 701},
    'a line cut short beside an edited one': {edit: (l) => ((l[1500] = '{"id": "ex-1500", "text": "relabelled"}\n'), (l[1501] = '{"id": "ex-1501", "te\n')), line: 1502},
  }
  for (const [how, env] of [['on workers', {DSV_PARALLEL_MIN_BYTES: '0'}], ['in-process', {}]] as const)
    for (const [name, e] of Object.entries(edits))
      it(`${name} (${how}): exit 5 naming the line; nothing committed`, () => {
        const dir = tmp.make()
        const run = (...args: string[]) => dsvEnv(dir, {...defaultEnv(), ...env}, ...args)
        assertExit(run('init', '--quiet'), 0)
        const file = path.join(dir, 'train.jsonl')
        const content = lines(2000)
        fs.writeFileSync(file, content.join(''))
        assertExit(run('commit', '-m', 'v1', '--quiet'), 0)
        e.edit(content)
        fs.writeFileSync(file, content.join(''))
        const err = assertJsonError(run('commit', '-m', 'broken', '--json'), 5, 'E_INVALID_DATA')
        assert.deepEqual([err.file, err.line], ['train.jsonl', e.line])
        assert.equal(dsvJson<LogEntry[]>(dir, 0, 'log').length, 1)
        assertExit(run('fsck', '--quiet'), 0)
      })
})

describe('invalid data in the working tree: exit 5, nothing committed, store intact', () => {
  interface Case {
    file: string
    content: Buffer | string
    line: number
    reason: RegExp
  }
  const cases: Record<string, Case> = {
    'a JSONL line that is not JSON': {file: 'data/bad.jsonl', content: '{"id":1}\n{"id":2}\n{"id":3}\n{"id": 4, oops}\n{"id":5}\n', line: 4, reason: /JSON/},
    'a JSONL line holding an array': {file: 'data/array.jsonl', content: '{"id":1}\n[1,2,3]\n', line: 2, reason: /object/},
    // the quoted newline in the first row pushes the ragged row (the 4th record) to line 5
    'a ragged CSV row': {file: 'data/ragged.csv', content: 'a,b,c\r\nx,"two\nlines",z\r\n1,2,3\r\n4,5\r\n', line: 5, reason: /2 fields but the header has 3/},
    'a CSV quoted field with a quote not doubled': {file: 'data/quotes.csv', content: 'id,note,n\n1,"fine ""quoted"" text",2\n2,"bad "quoted" text, really",3\n', line: 3, reason: /4 fields but the header has 3 \(in CSV, a quote inside a quoted field is written twice/},
    'a TSV row with too few fields': {file: 'data/short.tsv', content: 'path\tsentence\tup_votes\na.mp3\thello\t2\nb.mp3\tworld\n', line: 3, reason: /2 fields but the header has 3/},
    'a JSONL file starting with a byte order mark': {file: 'data/bom.jsonl', content: '\ufeff{"id":1}\n{"id":2}\n', line: 1, reason: /byte order mark/},
    'a JSONL file with CR line endings (one long line)': {file: 'data/cr.jsonl', content: '{"id":1}\r{"id":2}\r', line: 1, reason: /carriage return/},
    'invalid UTF-8 bytes in a table': {file: 'data/latin1.tsv', content: Buffer.concat([Buffer.from('path\tsentence\na.mp3\tok\nb.mp3\tCaf'), Buffer.from([0xe9, 0xff]), Buffer.from('\n')]), line: 3, reason: /UTF-8/},
  }
  // one repository for all cases, one after the other: each bad file is removed after its case
  let dir: string
  let first: string
  before(async () => {
    ;({dir, first} = (await repos.invalid.get()) as {dir: string; first: string})
  })

  for (const [name, c] of Object.entries(cases))
    it(`${name}: E_INVALID_DATA names ${c.file}:${c.line}; no new commit; fsck passes`, async () => {
      fs.mkdirSync(path.join(dir, path.dirname(c.file)), {recursive: true})
      fs.writeFileSync(path.join(dir, c.file), c.content)
      try {
        const err = assertJsonError(await dsvAsync(dir, 'commit', '-m', 'should fail', '--json'), 5, 'E_INVALID_DATA')
        assert.equal(err.file, c.file)
        assert.equal(err.line, c.line)
        assert.match(err.reason, c.reason)
        assert.ok(err.message.includes(`${c.file}:${c.line}`), err.message)
        const [log, fsck] = await Promise.all([dsvAsync(dir, 'log', '--json'), dsvAsync(dir, 'fsck', '--json')])
        assertExit(log, 0)
        assert.deepEqual(log.json<LogEntry[]>().map((e) => e.id), [first])
        assertExit(fsck, 0)
        assert.equal(fsck.json<Fsck>().ok, true)
      } finally {
        fs.rmSync(path.join(dir, c.file))
      }
    })

  it('the human form names the file and line on stderr', async () => {
    const c = cases['a JSONL line that is not JSON']
    fs.writeFileSync(path.join(dir, c.file), c.content)
    const r = await dsvAsync(dir, 'commit', '-m', 'should fail')
    fs.rmSync(path.join(dir, c.file))
    assertExit(r, 5)
    assert.equal(r.stdout, '')
    assert.match(r.stderr, new RegExp(`^error: ${c.file}:${c.line}: not valid JSON`, 'm'))
  })

  it('an unreadable file (chmod 000): exit 5, E_UNREADABLE_FILE naming it; no new commit; fsck passes', function () {
    // root reads any file, so as root dsv runs as the unprivileged user 65534 on a repository it owns
    const uid = isRoot ? 65534 : undefined
    const {dir, first} = makeRepoFrom(tmp, [], {commit: false})
    fs.writeFileSync(path.join(dir, 'good.jsonl'), '{"id":"a"}\n')
    const env = cleanEnv({DSV_AUTHOR_NAME: 'Test Author', DSV_AUTHOR_EMAIL: 'test.author@example.com'}, dir)
    const run = (...args: string[]) => (uid === undefined ? dsv(dir, ...args) : dsvAsUser(dir, env, uid, ...args))
    if (uid !== undefined) {
      const chownAll = (p: string) => {
        fs.lchownSync(p, uid, uid)
        if (fs.lstatSync(p).isDirectory()) for (const n of fs.readdirSync(p)) chownAll(path.join(p, n))
      }
      chownAll(dir)
      const probe = dsvAsUser(dir, env, uid, 'status', '--json')
      if (probe.code !== 0) this.skip() // cannot run as another user here
    }
    const c = run('commit', '-m', 'first', '--json')
    assertExit(c, 0)
    const firstId = first ?? c.json().id
    fs.writeFileSync(path.join(dir, 'secret.jsonl'), '{"id":"s"}\n')
    if (uid !== undefined) fs.chownSync(path.join(dir, 'secret.jsonl'), uid, uid)
    fs.chmodSync(path.join(dir, 'secret.jsonl'), 0o000)
    const err = assertJsonError(run('commit', '-m', 'should fail', '--json'), 5, 'E_UNREADABLE_FILE')
    assert.equal(err.file, 'secret.jsonl')
    assert.deepEqual(run('log', '--json').json<LogEntry[]>().map((e) => e.id), [firstId])
    const f = run('fsck', '--json')
    assertExit(f, 0)
    assert.equal(f.json<Fsck>().ok, true)
  })

  it('a store the user may only read: log, show, diff, checkout --to and fsck work (from a private copy of the index); status and commit say the lock cannot be taken (exit 12, E_IO)', function () {
    const {dir} = makeRepoFrom(tmp, [], {commit: false})
    fs.writeFileSync(path.join(dir, 'a.jsonl'), '{"id":"a"}\n')
    assertExit(dsv(dir, 'commit', '-m', 'v1', '--quiet'), 0)
    const env = cleanEnv({DSV_AUTHOR_NAME: 'Test Author', DSV_AUTHOR_EMAIL: 'test.author@example.com'}, dir)
    // as root, dsv runs as the unprivileged user 65534 on a repository root owns; else the store is made read-only
    const run = (...args: string[]) => (isRoot ? dsvAsUser(dir, env, 65534, ...args) : dsv(dir, ...args))
    const setWritable = (on: boolean) => {
      if (isRoot) return
      const walk = (p: string) => {
        fs.chmodSync(p, fs.statSync(p).isDirectory() ? (on ? 0o755 : 0o555) : on ? 0o644 : 0o444)
        if (fs.statSync(p).isDirectory()) for (const n of fs.readdirSync(p)) walk(path.join(p, n))
      }
      walk(path.join(dir, '.dsv'))
    }
    if (isRoot && dsvAsUser(dir, env, 65534, '--version').code !== 0) this.skip() // cannot run as another user here
    fs.chmodSync(dir, 0o755) // readable by that user (a temp folder is private)
    setWritable(false)
    const out = path.join(tmp.make('dsv-ro-'), 'v1')
    fs.chmodSync(path.dirname(out), 0o777)
    const tempsBefore = fs.readdirSync(os.tmpdir()).filter((n) => n.startsWith('dsv-index-')).length
    try {
      const log = run('log', '--json')
      assertExit(log, 0)
      assert.deepEqual(log.json<Array<{message: string}>>().map((e) => e.message), ['v1'])
      assertExit(run('show', 'HEAD', '--json'), 0)
      assertExit(run('diff', 'HEAD', 'HEAD', '--json'), 0)
      assertExit(run('checkout', 'HEAD', '--to', out, '--quiet'), 0)
      assert.equal(fs.readFileSync(path.join(out, 'a.jsonl'), 'utf8'), '{"id":"a"}\n')
      assert.equal(run('fsck', '--json').json<{ok: boolean}>().ok, true)
      for (const cmd of [['status'], ['commit', '-m', 'x']]) {
        const err = assertJsonError(run(...cmd, '--json'), 12, 'E_IO')
        assert.match(err.message, /^cannot open .*\.dsv[/\\]lock: permission denied$/)
      }
    } finally {
      setWritable(true)
    }
    // the copies are removed when each command ends
    assert.equal(fs.readdirSync(os.tmpdir()).filter((n) => n.startsWith('dsv-index-')).length, tempsBefore)
  })

  it('a checkout that cannot write a folder: exit 12, E_IO naming the file and the reason; run again once fixed, it finishes', function () {
    const uid = isRoot ? 65534 : undefined
    const {dir} = makeRepoFrom(tmp, [], {commit: false})
    fs.mkdirSync(path.join(dir, 'sub'))
    fs.writeFileSync(path.join(dir, 'top.jsonl'), '{"id":"a"}\n')
    fs.writeFileSync(path.join(dir, 'sub', 'x.jsonl'), '{"id":"b"}\n')
    const env = cleanEnv({DSV_AUTHOR_NAME: 'Test Author', DSV_AUTHOR_EMAIL: 'test.author@example.com'}, dir)
    const run = (...args: string[]) => (uid === undefined ? dsv(dir, ...args) : dsvAsUser(dir, env, uid, ...args))
    const chownAll = (p: string) => {
      if (uid === undefined) return
      fs.lchownSync(p, uid, uid)
      if (fs.lstatSync(p).isDirectory()) for (const n of fs.readdirSync(p)) chownAll(path.join(p, n))
    }
    chownAll(dir)
    if (uid !== undefined && run('status', '--json').code !== 0) this.skip() // cannot run as another user here
    assertExit(run('commit', '-m', 'v1', '--quiet'), 0)
    fs.writeFileSync(path.join(dir, 'top.jsonl'), '{"id":"a2"}\n')
    fs.writeFileSync(path.join(dir, 'sub', 'x.jsonl'), '{"id":"b2"}\n')
    assertExit(run('commit', '-m', 'v2', '--quiet'), 0)
    fs.chmodSync(path.join(dir, 'sub'), 0o555)
    try {
      const r = run('checkout', 'HEAD~1', '--json')
      const err = assertJsonError(r, 12, 'E_IO')
      assert.equal(err.errno, 'EACCES')
      assert.match(err.message, /^cannot open .*sub[/\\]x\.jsonl\.dsv-[0-9a-f]{8}\.tmp: permission denied$/)
      assert.match(err.hint, /run the command again/)
      const human = run('checkout', 'HEAD~1')
      assert.match(human.stderr, /^error: cannot open .*: permission denied$/m)
    } finally {
      fs.chmodSync(path.join(dir, 'sub'), 0o755)
    }
    assertExit(run('checkout', 'HEAD~1', '--quiet'), 0) // no --force needed: top.jsonl already holds the target's bytes
    assert.equal(fs.readFileSync(path.join(dir, 'sub', 'x.jsonl'), 'utf8'), '{"id":"b"}\n')
    assert.equal(fs.readFileSync(path.join(dir, 'top.jsonl'), 'utf8'), '{"id":"a"}\n')
    assert.equal(run('status', '--json').json<{clean: boolean}>().clean, true)
  })
})

describe('file names', () => {
  it('a file name that is not UTF-8: exit 5, E_UNREADABLE_FILE showing the bad byte; committed once ignored', () => {
    const {dir} = makeRepoFrom(tmp, [], {commit: false})
    fs.writeFileSync(path.join(dir, 'good.jsonl'), '{"id":"a"}\n')
    const bad = Buffer.concat([Buffer.from(dir + '/sub/caf'), Buffer.from([0xe9]), Buffer.from('.bin')]) // Latin-1 "café"
    fs.mkdirSync(path.join(dir, 'sub'))
    fs.writeFileSync(bad, 'x')
    for (const cmd of [['status'], ['commit', '-m', 'x']]) {
      const err = assertJsonError(dsv(dir, ...cmd, '--json'), 5, 'E_UNREADABLE_FILE')
      assert.equal(err.file, 'sub/caf\\xe9.bin')
    }
    assert.equal(dsv(dir, 'log', '--json').json<LogEntry[]>().length, 0)
    fs.writeFileSync(path.join(dir, '.dsvignore'), 'sub/caf*.bin\n')
    const c = dsvJson(dir, 0, 'commit', '-m', 'without it')
    assert.equal(c.files.added, 2) // good.jsonl and .dsvignore
  })

  it('a folder whose path is too long to read: exit 5, E_UNREADABLE_FILE naming it, nothing committed; committed once ignored', () => {
    const {dir} = makeRepoFrom(tmp, [], {commit: false})
    fs.writeFileSync(path.join(dir, 'good.jsonl'), '{"id":"a"}\n')
    // 22 folders of 200 characters: past PATH_MAX (4096), made one step at a time
    const part = 'd'.repeat(200)
    fs.mkdirSync(path.join(dir, 'deep'))
    const made = spawnSync('bash', ['-c', `cd deep && for i in $(seq 22); do mkdir ${part} && cd ${part}; done && echo x > f.txt`], {cwd: dir})
    assert.equal(made.status, 0, made.stderr?.toString())
    try {
      for (const cmd of [['status'], ['commit', '-m', 'x']]) {
        const err = assertJsonError(dsv(dir, ...cmd, '--json'), 5, 'E_UNREADABLE_FILE')
        assert.match(err.file, /^deep\/d{200}\//)
        assert.match(err.message, /path is too long/)
      }
      const human = dsv(dir, 'status')
      assert.match(human.stderr, /error: deep\/d+.*: cannot read this folder: its path is too long/)
      assert.match(human.stderr, /hint: .*\.dsvignore/)
      assert.equal(dsv(dir, 'log', '--json').json<LogEntry[]>().length, 0)
      fs.writeFileSync(path.join(dir, '.dsvignore'), 'deep/\n')
      assert.equal(dsvJson(dir, 0, 'commit', '-m', 'without it').files.added, 2)
    } finally {
      spawnSync('rm', ['-rf', path.join(dir, 'deep')])
    }
  })

  it('a repository nested in the dataset (.dsv or .git at any depth) is not versioned', () => {
    const {dir} = makeRepoFrom(tmp, [], {commit: false})
    fs.writeFileSync(path.join(dir, 'good.jsonl'), '{"id":"a"}\n')
    const inner = path.join(dir, 'vendor', 'other')
    fs.mkdirSync(inner, {recursive: true})
    fs.writeFileSync(path.join(inner, 'data.jsonl'), '{"id":"b"}\n')
    assertExit(dsv(inner, 'init', '--quiet'), 0)
    fs.mkdirSync(path.join(inner, '.git'))
    fs.writeFileSync(path.join(inner, '.git', 'HEAD'), 'ref: refs/heads/main\n')
    const st = dsvJson(dir, 0, 'status')
    assert.deepEqual(st.files.map((f: {path: string}) => f.path).sort(), ['good.jsonl', 'vendor/other/data.jsonl'])
  })
})

describe('--json: exactly one JSON document on stdout, for every command', () => {
  let dir: string
  let outside: string
  let first: string

  before(() => {
    outside = tmp.make()
    dir = tmp.make()
    fs.mkdirSync(path.join(dir, 'data'))
    fs.writeFileSync(path.join(dir, 'data/a.jsonl'), '{"id":"a","v":1}\n{"id":"b","v":2}\n')
  })

  /** The document, after checking the exit code and that stdout holds exactly one JSON value. */
  function one(r: RunResult, code: number): any {
    assertExit(r, code)
    // JSON.parse refuses anything but a single JSON value (surrounded by whitespace)
    const doc = r.json()
    assert.ok(doc !== null && typeof doc === 'object', r.stdout)
    return doc
  }

  it('successes: init, status, commit, log, show, tag, config, checkout, rollback, fsck', () => {
    assert.deepEqual(one(dsv(dir, 'init', '--json'), 0), {path: dir, formatVersion: 2})
    assert.equal(one(dsv(dir, 'status', '--json'), 0).clean, false)
    first = one(dsv(dir, 'commit', '-m', 'one', '--json'), 0).id
    assert.match(first, /^[0-9a-f]{64}$/)
    fs.appendFileSync(path.join(dir, 'data/a.jsonl'), '{"id":"c","v":3}\n')
    const second = one(dsv(dir, 'commit', '-m', 'two', '--json'), 0).id
    assert.equal(one(dsv(dir, 'log', '--json'), 0).length, 2)
    assert.equal(one(dsv(dir, 'show', 'HEAD~1', '--json'), 0).id, first)
    assert.deepEqual(one(dsv(dir, 'tag', 'v1', first, '--json'), 0).target, first)
    assert.deepEqual(one(dsv(dir, 'tag', '--json'), 0).map((t: {name: string}) => t.name), ['v1'])
    assert.deepEqual(one(dsv(dir, 'config', 'user.name', 'Ada', '--json'), 0), {key: 'user.name', value: 'Ada'})
    assert.equal(one(dsv(dir, 'checkout', 'v1', '--json'), 0).head, first)
    assert.equal(one(dsv(dir, 'checkout', 'main', '--json'), 0).head, second)
    assert.equal(one(dsv(dir, 'rollback', 'v1', '--json'), 0).target, first)
    assert.equal(one(dsv(dir, 'tag', '-d', 'v1', '--json'), 0).deleted, 'v1')
    assert.equal(one(dsv(dir, 'fsck', '--json'), 0).ok, true)
  })

  it('failures: {"error": {code, message}} with the documented exit code, for every command', async () => {
    assert.ok(first, 'runs after the successes')
    const expectations: Array<[string, string[], number, string]> = [
      [dir, ['init'], 3, 'E_ALREADY_INITIALISED'],
      [outside, ['status'], 3, 'E_NOT_A_REPO'],
      [dir, ['commit', '-m', 'nothing'], 1, 'E_NOTHING_TO_COMMIT'],
      [dir, ['log', 'no-such-rev'], 4, 'E_BAD_REVISION'],
      [dir, ['log', '-n', 'many'], 2, 'E_USAGE'],
      [dir, ['show', 'HEAD~9'], 4, 'E_BAD_REVISION'],
      [dir, ['tag', 'bad..name'], 4, 'E_BAD_REF_NAME'],
      [dir, ['checkout'], 2, 'E_USAGE'],
      [dir, ['checkout', 'nope'], 4, 'E_BAD_REVISION'],
      [dir, ['rollback', 'HEAD'], 1, 'E_NOTHING_TO_COMMIT'],
      [outside, ['fsck'], 3, 'E_NOT_A_REPO'],
      [dir, ['config', 'no.such.key', 'x'], 2, 'E_CONFIG'],
      [dir, ['status', '--no-such-flag'], 2, 'E_USAGE'],
    ]
    const results = await Promise.all(expectations.map(([cwd, args]) => dsvAsync(cwd, ...args, '--json')))
    results.forEach((r, i) => {
      const [, args, code, errorCode] = expectations[i]
      const doc = one(r, code)
      assert.deepEqual(Object.keys(doc), ['error'], `dsv ${args.join(' ')}`)
      assert.equal(doc.error.code, errorCode, `dsv ${args.join(' ')}: ${r.stdout}`)
      assert.equal(typeof doc.error.message, 'string')
    })
  })
})

describe('--help', () => {
  const commands = ['init', 'status', 'commit', 'log', 'show', 'tag', 'checkout', 'rollback', 'fsck', 'config']
  const runs = new Map<string, Promise<RunResult>>()
  let cwd: string
  before(() => {
    cwd = tmp.make()
    for (const c of commands) runs.set(c, dsvAsync(cwd, c, '--help'))
  })
  for (const c of commands)
    it(`dsv ${c} --help exits 0 and shows USAGE and EXAMPLES`, async () => {
      const r = await runs.get(c)!
      assertExit(r, 0)
      assert.match(r.stdout, /^USAGE$/m)
      assert.match(r.stdout, /^EXAMPLES$/m)
      assert.match(r.stdout, new RegExp(`\\$ dsv ${c}\\b`))
      assert.equal(fs.readdirSync(cwd).length, 0, 'help changes nothing')
    })
})

