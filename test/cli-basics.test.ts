/**
 * End to end: init, status, commit (counts, authors, code provenance), keyless files,
 * CSV/TSV quirks, log and config — the real `dsv` binary on copies of the fixtures.
 */
import assert from 'node:assert/strict'
import {spawnSync} from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import {
  AUTHOR,
  TempDirs,
  assertExit,
  assertJsonError,
  cleanEnv,
  counts,
  dsv,
  dsvAsync,
  dsvEnv,
  dsvEnvAsync,
  dsvJson,
  dsvJsonAsync,
  editJsonl,
  editTsvByKey,
  fixturesDir,
  git,
  makeRepoFrom,
  makeRepoFromAsync,
  packBlockCodecs,
  expectOk,
  prepareAll,
  prepared,
  readJsonl,
  replaceOnce,
  sha256File,
  type LogEntry,
  type RunResult,
  type StatusDoc,
} from './helpers.js'

const GOLDEN = 'golden/golden_examples.jsonl'
const STT = 'golden/stt_failed_cases.jsonl'
const PROMPTS = 'keyless/prompts.jsonl'
const PRODUCTS = 'tables/products.csv'
const VALIDATED = 'common_voice/validated.tsv'

const STAT_TIME = 1_700_000_000 // 2023-11-14, in whole seconds

const tmp = new TempDirs()
after(() => tmp.cleanup())

async function jsonOf<T = any>(p: Promise<RunResult>, code = 0): Promise<T> {
  const r = await p
  assertExit(r, code)
  return r.json<T>()
}

// Repositories the describes below start from, all made at once in the background.
const repos = {
  status: prepared(() => makeRepoFromAsync(tmp, ['golden', 'common_voice/validated.tsv'])),
  ignore: prepared(() => makeRepoFromAsync(tmp, ['golden', '.dsvignore'])),
  statCache: prepared(async () => {
    const made = await makeRepoFromAsync(tmp, [GOLDEN], {commit: false})
    // a whole-second modification time, which utimes can put back exactly
    fs.utimesSync(path.join(made.dir, GOLDEN), STAT_TIME, STAT_TIME)
    assertExit(await dsvAsync(made.dir, 'commit', '-m', 'golden', '--quiet'), 0)
    assert.equal((await dsvJsonAsync<StatusDoc>(made.dir, 0, 'status')).clean, true)
    return made
  }),
  counts: prepared(() => makeRepoFromAsync(tmp, ['golden'])),
  // shared, in file order: nothing to commit, bad --author, no git around, keyless edits
  keyless: prepared(() => makeRepoFromAsync(tmp, ['keyless'])),
  tables: prepared(() => makeRepoFromAsync(tmp, ['tables', 'common_voice/validated.tsv'])),
  log: prepared(async () => {
    const made = await makeRepoFromAsync(tmp, [GOLDEN], {commit: 'first'})
    const ids = [made.first!]
    assertExit(await dsvAsync(made.dir, 'tag', 'v1', '--quiet'), 0)
    rescore(path.join(made.dir, GOLDEN), ['ex-0001'])
    ids.push((await jsonOf(dsvAsync(made.dir, 'commit', '-m', 'second\n\nwith a body', '--json'))).id)
    rescore(path.join(made.dir, GOLDEN), ['ex-0002', 'ex-0003'])
    ids.push((await jsonOf(dsvAsync(made.dir, 'commit', '-m', 'third', '--json'))).id)
    return {dir: made.dir, ids}
  }),
  keys: prepared(async () => {
    // two identical copies of the golden file; only golden/ gets created_at as its key
    const {dir} = await makeRepoFromAsync(tmp, [GOLDEN], {commit: false})
    fs.mkdirSync(path.join(dir, 'copy'))
    fs.copyFileSync(path.join(dir, GOLDEN), path.join(dir, 'copy/golden_examples.jsonl'))
    const set = await jsonOf(dsvAsync(dir, 'config', 'keys.golden/*.jsonl', 'created_at', '--json'))
    assertExit(await dsvAsync(dir, 'commit', '-m', 'two copies', '--quiet'), 0)
    return {dir, set}
  }),
  inGit: prepared(async () => {
    // a git repository with user.name/user.email, the dataset in its data/ folder
    const gitDir = tmp.make('dsv-git-')
    git(gitDir, 'init', '-q')
    git(gitDir, 'config', 'user.name', 'Git Person')
    git(gitDir, 'config', 'user.email', 'git.person@example.com')
    const dir = path.join(gitDir, 'data')
    fs.mkdirSync(dir)
    const env = cleanEnv({}, tmp.make('dsv-home-')) // no DSV_AUTHOR_*, no global git config
    assertExit(await dsvEnvAsync(dir, env, 'init', '--quiet'), 0)
    return {gitDir, dir, env}
  }),
}
prepareAll(repos)

/** Sets quality_score of the golden examples with these ids; returns how many changed. */
function rescore(file: string, ids: string[], score = 0.123): number {
  const wanted = new Set(ids)
  const r = editJsonl(file, (rec) => (wanted.has(rec.id) ? {...rec, quality_score: score} : undefined))
  assert.equal(r.modified, ids.length, 'every id to rescore exists and changed')
  return r.modified
}

describe('dsv init', () => {
  it('creates .dsv/ and prints {path, formatVersion} with --json', () => {
    const dir = tmp.make()
    const doc = dsvJson(dir, 0, 'init')
    assert.deepEqual(doc, {path: dir, formatVersion: 2})
    assert.ok(fs.statSync(path.join(dir, '.dsv')).isDirectory())
    assert.deepEqual(JSON.parse(fs.readFileSync(path.join(dir, '.dsv', 'format'), 'utf8')), {formatVersion: 2})
    // a fresh repository: no commits, clean, on main
    const st = dsvJson<StatusDoc>(dir, 0, 'status')
    assert.equal(st.branch, 'main')
    assert.equal(st.head, null)
    assert.equal(st.clean, true)
  })

  it('refuses to re-initialise (exit 3, E_ALREADY_INITIALISED) and leaves the store alone', async () => {
    const dir = tmp.make()
    assertExit(dsv(dir, 'init', '--quiet'), 0)
    const before = fs.readFileSync(path.join(dir, '.dsv', 'format'))
    const [r, h] = await Promise.all([dsvAsync(dir, 'init', '--json'), dsvAsync(dir, 'init')])
    const err = assertJsonError(r, 3, 'E_ALREADY_INITIALISED')
    assert.match(err.message, /already/)
    assert.deepEqual(fs.readFileSync(path.join(dir, '.dsv', 'format')), before)
    // the human form goes to stderr, nothing on stdout
    assertExit(h, 3)
    assert.equal(h.stdout, '')
    assert.match(h.stderr, /^error: .*already/m)
  })

  it('commands outside a repository fail with exit 3, E_NOT_A_REPO', async () => {
    const dir = tmp.make()
    fs.writeFileSync(path.join(dir, 'data.jsonl'), '{"id":1}\n')
    const runs = await Promise.all([['status'], ['commit', '-m', 'x']].map((args) => dsvAsync(dir, ...args, '--json')))
    for (const r of runs) {
      const err = assertJsonError(r, 3, 'E_NOT_A_REPO')
      assert.match(err.message, /not a dsv repository/)
    }
    assert.equal(fs.existsSync(path.join(dir, '.dsv')), false)
  })

  it('a store with formatVersion 99 is refused (exit 3, E_UNSUPPORTED_FORMAT)', async () => {
    const dir = tmp.make()
    assertExit(dsv(dir, 'init', '--quiet'), 0)
    fs.writeFileSync(path.join(dir, '.dsv', 'format'), `${JSON.stringify({formatVersion: 99})}\n`)
    const err = assertJsonError(await dsvAsync(dir, 'log', '--json'), 3, 'E_UNSUPPORTED_FORMAT')
    assert.match(err.message, /99/)
  })

  it('a format-1 store (brotli blocks, written by an earlier dsv) is read, upgraded to format 2 and written with zstd', async () => {
    const dir = tmp.make()
    // test/data/format1-repo.tar.gz: fixtures committed twice (tag v1, then one example removed) by dsv at 435cf61
    const untar = spawnSync('tar', ['xzf', path.join(import.meta.dirname, 'data', 'format1-repo.tar.gz'), '-C', dir])
    assert.equal(untar.status, 0, String(untar.stderr))
    const codecs = () => packBlockCodecs(path.join(dir, '.dsv', 'packs'))
    assert.ok(codecs().has(2) && !codecs().has(3), 'the fixture holds brotli blocks only')
    assert.equal((await dsvJsonAsync<{ok: boolean}>(dir, 0, 'fsck')).ok, true)
    assert.deepEqual(JSON.parse(fs.readFileSync(path.join(dir, '.dsv', 'format'), 'utf8')), {formatVersion: 2})
    // the working tree equals HEAD, so every brotli block of HEAD decoded byte for byte
    assert.deepEqual((await dsvJsonAsync<StatusDoc>(dir, 0, 'status')).clean, true)
    const stat = await dsvJsonAsync(dir, 0, 'diff', 'v1', 'HEAD', '--stat')
    assert.deepEqual(stat.totals.examples, {added: 0, removed: 1, modified: 0, moved: 0})
    editJsonl(path.join(dir, GOLDEN), (rec) => ({...rec, validation_status: 'rejected'}))
    await expectOk(dsvAsync(dir, 'commit', '-qm', 'written by this dsv'))
    assert.ok(codecs().has(3), 'new blocks are zstd')
    assert.equal((await dsvJsonAsync<{ok: boolean}>(dir, 0, 'fsck')).ok, true)
    const out = path.join(tmp.make(), 'v1')
    await expectOk(dsvAsync(dir, 'checkout', 'v1', '--to', out))
    // v1 as checked out has the example that the second commit removed, and no edit
    const v1 = readJsonl(path.join(out, GOLDEN))
    assert.equal(v1.length, readJsonl(path.join(dir, GOLDEN)).length + 1)
    assert.ok(v1.some((rec) => rec.validation_status !== 'rejected'))
  })

  it('`dsv init DIR` creates DIR (and its parents) and the repository in it', () => {
    const dir = tmp.make()
    const target = path.join(dir, 'nested', 'dataset')
    const doc = dsvJson(dir, 0, 'init', 'nested/dataset')
    assert.deepEqual(doc, {path: target, formatVersion: 2})
    assert.ok(fs.statSync(path.join(target, '.dsv', 'format')).isFile())
    assert.equal(fs.existsSync(path.join(dir, '.dsv')), false, 'no repository in the cwd')
    // the repository is found from a subfolder of DIR
    fs.mkdirSync(path.join(target, 'sub'))
    assert.equal(dsvJson<StatusDoc>(path.join(target, 'sub'), 0, 'status').branch, 'main')
  })
})

describe('dsv status', () => {
  let dir: string
  let first: string
  const goldenIds = ['ex-0003', 'ex-0011', 'ex-0029', 'ex-0047']
  let sttRecords: number

  before(async () => {
    ;({dir, first} = (await repos.status.get()) as {dir: string; first: string})
    sttRecords = readJsonl(path.join(dir, STT)).length
  })

  it('is clean right after a commit', async () => {
    const [j, h] = await Promise.all([dsvAsync(dir, 'status', '--json'), dsvAsync(dir, 'status')])
    assertExit(j, 0)
    assert.deepEqual(j.json(), {branch: 'main', head: first, clean: true, files: [], examples: counts(0, 0, 0), skipped: [], upstream: null})
    assertExit(h, 0)
    assert.match(h.stdout, /On branch main/)
    assert.match(h.stdout, /nothing to commit, working tree clean/)
  })

  it(`counts ${goldenIds.length} modified examples after editing ${goldenIds.length} golden records by key`, () => {
    rescore(path.join(dir, GOLDEN), goldenIds)
    const st = dsvJson<StatusDoc>(dir, 0, 'status')
    assert.equal(st.clean, false)
    assert.deepEqual(st.files, [{path: GOLDEN, status: 'modified', kind: 'table', examples: counts(0, 0, goldenIds.length)}])
    assert.deepEqual(st.examples, counts(0, 0, goldenIds.length))
  })

  it('lists a removed file with all its examples removed', () => {
    assert.equal(sttRecords, 25)
    fs.rmSync(path.join(dir, STT))
    const st = dsvJson<StatusDoc>(dir, 0, 'status')
    assert.deepEqual(st.files, [
      {path: GOLDEN, status: 'modified', kind: 'table', examples: counts(0, 0, goldenIds.length)},
      {path: STT, status: 'removed', kind: 'table', examples: counts(0, sttRecords, 0)},
    ])
    assert.deepEqual(st.examples, counts(0, sttRecords, goldenIds.length))
  })

  it('lists added files: a table with its examples, a plain file without', () => {
    const recs = Array.from({length: 7}, (_, i) => ({id: `new-${i}`, text: `sample ${i}`}))
    fs.mkdirSync(path.join(dir, 'extra'))
    fs.writeFileSync(path.join(dir, 'extra/new.jsonl'), recs.map((r) => JSON.stringify(r)).join('\n') + '\n')
    fs.writeFileSync(path.join(dir, 'notes.txt'), 'free text, not a table\n')
    const st = dsvJson<StatusDoc>(dir, 0, 'status')
    assert.deepEqual(st.files, [
      {path: 'extra/new.jsonl', status: 'added', kind: 'table', examples: counts(recs.length, 0, 0)},
      {path: GOLDEN, status: 'modified', kind: 'table', examples: counts(0, 0, goldenIds.length)},
      {path: STT, status: 'removed', kind: 'table', examples: counts(0, sttRecords, 0)},
      {path: 'notes.txt', status: 'added', kind: 'blob'},
    ])
    assert.deepEqual(st.examples, counts(recs.length, sttRecords, goldenIds.length))
  })

  it('is clean again once the changes are committed, and the commit counts match the status', () => {
    const c = dsvJson(dir, 0, 'commit', '-m', 'edits')
    assert.deepEqual(c.examples, counts(7, sttRecords, goldenIds.length))
    assert.deepEqual(c.files, counts(2, 1, 1))
    const st = dsvJson<StatusDoc>(dir, 0, 'status')
    assert.deepEqual(st, {branch: 'main', head: c.id, clean: true, files: [], examples: counts(0, 0, 0), skipped: [], upstream: null})
  })
})

describe('status and the stat cache', () => {
  it('sees a same-size edit even when the modification time is put back', async () => {
    const {dir} = await repos.statCache.get()
    const file = path.join(dir, GOLDEN)
    const before = fs.statSync(file, {bigint: true})
    assert.equal(before.mtimeNs, BigInt(STAT_TIME) * 1_000_000_000n)
    const text = fs.readFileSync(file, 'utf8')
    const line = text.split('\n').find((l) => l.includes('"tier":"A"'))!
    const edited = text.replace(line, line.replace('"tier":"A"', '"tier":"B"'))
    assert.equal(BigInt(Buffer.byteLength(edited)), before.size)
    fs.writeFileSync(file, edited)
    fs.utimesSync(file, STAT_TIME, STAT_TIME)
    const after = fs.statSync(file, {bigint: true})
    assert.deepEqual([after.size, after.mtimeNs, after.ino], [before.size, before.mtimeNs, before.ino], 'only the ctime tells')
    const st = await dsvJsonAsync<StatusDoc>(dir, 0, 'status')
    assert.deepEqual(st.files, [{path: GOLDEN, status: 'modified', kind: 'table', examples: counts(0, 0, 1)}])
  })
})

describe('.dsvignore', () => {
  let dir: string
  const ignored = ['notes.tmp', 'golden/.golden_examples.jsonl.swp', 'backup.jsonl~', '.DS_Store', 'golden/Thumbs.db',
    'scratch/broken.jsonl', 'scratch/deep/ragged.csv', 'golden/scratch/inner.jsonl']

  before(async () => {
    ;({dir} = await repos.ignore.get())
    for (const p of ignored) {
      fs.mkdirSync(path.dirname(path.join(dir, p)), {recursive: true})
      // the ignored tables are not even valid: they must never be read
      fs.writeFileSync(path.join(dir, p), p.endsWith('.csv') ? 'a,b\n1,2,3\n' : 'this is { not json\n')
    }
    fs.writeFileSync(path.join(dir, 'kept.txt'), 'versioned\n')
  })

  it('ignored files and the scratch/ folder never appear in status', () => {
    const st = dsvJson<StatusDoc>(dir, 0, 'status')
    assert.deepEqual(st.files, [{path: 'kept.txt', status: 'added', kind: 'blob'}])
    assert.deepEqual(st.examples, counts(0, 0, 0))
    assert.deepEqual(st.skipped, [])
  })

  it('ignored files are never committed', async () => {
    const c = dsvJson(dir, 0, 'commit', '-m', 'add kept.txt')
    assert.deepEqual(c.files, counts(1, 0, 0))
    const [show, st] = await Promise.all([jsonOf(dsvAsync(dir, 'show', '--json')), jsonOf<StatusDoc>(dsvAsync(dir, 'status', '--json'))])
    const paths = show.contents.map((e: {path: string}) => e.path).sort()
    assert.deepEqual(paths, ['.dsvignore', GOLDEN, STT, 'kept.txt'].sort())
    assert.equal(st.clean, true)
  })

  it('a committed file that .dsvignore comes to name: status marks it removed but still on disk; commit drops it and leaves the file', () => {
    fs.appendFileSync(path.join(dir, '.dsvignore'), 'kept.txt\n')
    const st = dsvJson<StatusDoc>(dir, 0, 'status')
    assert.deepEqual(st.files, [{path: '.dsvignore', status: 'modified', kind: 'blob'}, {path: 'kept.txt', status: 'removed', kind: 'blob', ignored: true}])
    assert.match(dsv(dir, 'status').stdout, /removed +kept\.txt {2}\(now in \.dsvignore: still on disk, left out of the next commit\)/)
    assert.deepEqual(dsvJson(dir, 0, 'commit', '-m', 'stop versioning kept.txt').files, counts(0, 1, 1))
    assert.equal(fs.readFileSync(path.join(dir, 'kept.txt'), 'utf8'), 'versioned\n')
    assert.equal(dsvJson<StatusDoc>(dir, 0, 'status').clean, true)
  })
})

describe('dsv commit', () => {
  it('--json counts exactly the edits: 3 modified, 2 removed, 4 added examples', async () => {
    const {dir, first} = await repos.counts.get()
    const file = path.join(dir, GOLDEN)
    const modify = new Set(['ex-0005', 'ex-0017', 'ex-0042'])
    const remove = new Set(['ex-0010', 'ex-0020'])
    const template = readJsonl(file)[0]
    const add = Array.from({length: 4}, (_, i) => ({...template, id: `ex-1${String(i).padStart(3, '0')}`}))
    const r = editJsonl(file, (rec) => (remove.has(rec.id) ? null : modify.has(rec.id) ? {...rec, validation_status: 'rejected', quality_score: 0.01} : undefined), add)
    assert.deepEqual(r, {modified: 3, removed: 2, added: 4})

    const c = dsvJson(dir, 0, 'commit', '-m', 'relabel 3, drop 2, add 4')
    assert.deepEqual(Object.keys(c).sort(), ['branch', 'examples', 'files', 'id', 'parents', 'tree'])
    assert.match(c.id, /^[0-9a-f]{64}$/)
    assert.equal(c.branch, 'main')
    assert.deepEqual(c.parents, [first])
    assert.deepEqual(c.examples, counts(4, 2, 3))
    assert.deepEqual(c.files, counts(0, 0, 1))
    const [log, show] = await Promise.all([jsonOf<LogEntry[]>(dsvAsync(dir, 'log', '--json')), jsonOf(dsvAsync(dir, 'show', '--json'))])
    assert.equal(log.length, 2)
    assert.equal(log[0].id, c.id)
    assert.deepEqual(log[0].examples, counts(4, 2, 3))
    assert.equal(log[0].message, 'relabel 3, drop 2, add 4')
    const firstCount = readJsonl(path.join(fixturesDir, GOLDEN)).length + readJsonl(path.join(fixturesDir, STT)).length
    assert.equal(firstCount, 85)
    assert.deepEqual(log[1].examples, counts(firstCount, 0, 0))
    // the commit holds the new file: 60 - 2 + 4 examples
    assert.equal(show.contents.find((e: {path: string}) => e.path === GOLDEN).examples, 62)
  })

  it('nothing to commit: exit 1, E_NOTHING_TO_COMMIT, no new commit', async () => {
    const {dir, first} = await repos.keyless.get()
    const [j, h] = await Promise.all([dsvAsync(dir, 'commit', '-m', 'again', '--json'), dsvAsync(dir, 'commit', '-m', 'again')])
    assertJsonError(j, 1, 'E_NOTHING_TO_COMMIT')
    assertExit(h, 1)
    assert.match(h.stderr, /nothing to commit/)
    const log = dsvJson<LogEntry[]>(dir, 0, 'log')
    assert.deepEqual(log.map((e) => e.id), [first])
  })

  it('without an author anywhere: exit 2, E_CONFIG, nothing committed', () => {
    const dir = tmp.make()
    fs.writeFileSync(path.join(dir, 'a.jsonl'), '{"id":"a"}\n')
    const env = cleanEnv({}, dir) // no DSV_AUTHOR_*, HOME without git config
    assert.notEqual(spawnSync('git', ['rev-parse', '--git-dir'], {cwd: dir}).status, 0, `${dir} must not be inside a git repository`)
    assertExit(dsvEnv(dir, env, 'init', '--quiet'), 0)
    assertJsonError(dsvEnv(dir, env, 'commit', '-m', 'who', '--json'), 2, 'E_CONFIG')
    assert.deepEqual(dsvEnv(dir, env, 'log', '--json').json(), [])
  })

  it('a bad --author value is a usage error (exit 2)', async () => {
    const {dir} = await repos.keyless.get()
    const extra = path.join(dir, 'keyless/extra.jsonl')
    fs.writeFileSync(extra, '{"prompt":"p","completion":"c"}\n')
    const bad = ['just a name', '<only@email.example>', 'Name <a@b> trailing']
    const runs = await Promise.all(bad.map((b) => dsvAsync(dir, 'commit', '-m', 'x', '--author', b, '--json')))
    for (const r of runs) {
      const err = assertJsonError(r, 2, 'E_USAGE')
      assert.match(err.message, /author/)
    }
    assert.equal(dsvJson<LogEntry[]>(dir, 0, 'log').length, 1)
    fs.rmSync(extra)
  })

  describe('author precedence and code provenance (dataset inside a git repository)', () => {
    let gitDir: string
    let dir: string
    let env: NodeJS.ProcessEnv
    let n = 0
    const change = () => fs.appendFileSync(path.join(dir, 'log.jsonl'), `${JSON.stringify({id: `r${n++}`})}\n`)
    const lastAuthor = () => dsvEnv(dir, env, 'log', '-n', '1', '--json').json<LogEntry[]>()[0]

    before(async () => {
      ;({gitDir, dir, env} = await repos.inGit.get())
    })

    it('falls back to the enclosing git repository user.name/user.email', () => {
      change()
      assertExit(dsvEnv(dir, env, 'commit', '-m', 'from git config', '--quiet'), 0)
      const e = lastAuthor()
      assert.deepEqual(e.author, {name: 'Git Person', email: 'git.person@example.com'})
      // the git repository has no commit yet: no code provenance
      assert.equal(e.code, null)
    })

    it('`dsv config user.name/user.email` wins over git config', () => {
      assertExit(dsvEnv(dir, env, 'config', 'user.name', 'Config Person'), 0)
      assertExit(dsvEnv(dir, env, 'config', 'user.email', 'config.person@example.com'), 0)
      change()
      assertExit(dsvEnv(dir, env, 'commit', '-m', 'from dsv config', '--quiet'), 0)
      assert.deepEqual(lastAuthor().author, {name: 'Config Person', email: 'config.person@example.com'})
    })

    it('DSV_AUTHOR_NAME/DSV_AUTHOR_EMAIL win over dsv config', () => {
      change()
      const withEnv = {...env, DSV_AUTHOR_NAME: 'Env Person', DSV_AUTHOR_EMAIL: 'env.person@example.com'}
      assertExit(dsvEnv(dir, withEnv, 'commit', '-m', 'from env', '--quiet'), 0)
      assert.deepEqual(lastAuthor().author, {name: 'Env Person', email: 'env.person@example.com'})
    })

    it('--author wins over everything', () => {
      change()
      const withEnv = {...env, DSV_AUTHOR_NAME: 'Env Person', DSV_AUTHOR_EMAIL: 'env.person@example.com'}
      assertExit(dsvEnv(dir, withEnv, 'commit', '-m', 'from flag', '--author', 'Flag Person <flag.person@example.com>', '--quiet'), 0)
      assert.deepEqual(lastAuthor().author, {name: 'Flag Person', email: 'flag.person@example.com'})
    })

    it('records code.gitCommit = `git rev-parse HEAD` of the enclosing git repository', () => {
      fs.writeFileSync(path.join(gitDir, 'train.py'), 'print("train")\n')
      git(gitDir, 'add', 'train.py')
      git(gitDir, 'commit', '-q', '-m', 'training code')
      const head = git(gitDir, 'rev-parse', 'HEAD')
      change()
      assertExit(dsvEnv(dir, env, 'commit', '-m', 'with provenance', '--quiet'), 0)
      const log = dsvEnv(dir, env, 'log', '--json').json<LogEntry[]>()
      assert.equal(log.length, 5)
      assert.deepEqual(log[0].code, {gitCommit: head})
      assert.deepEqual(log.slice(1).map((e) => e.code), [null, null, null, null])
    })

    it('outside a git repository `code` is null', async () => {
      const {dir: plain} = await repos.keyless.get()
      assert.notEqual(spawnSync('git', ['rev-parse', '--git-dir'], {cwd: plain}).status, 0, `${plain} must not be inside a git repository`)
      const log = dsvJson<LogEntry[]>(plain, 0, 'log')
      assert.equal(log.length, 1)
      assert.equal(log[0].code, null)
      assert.deepEqual(log[0].author, AUTHOR)
    })
  })
})

describe('keyless files (keyless/prompts.jsonl)', () => {
  let dir: string
  let lines: number

  before(async () => {
    ;({dir} = await repos.keyless.get())
    lines = readJsonl(path.join(dir, PROMPTS)).length
    assert.equal(lines, 40)
  })

  it('editing one line in the middle is 1 modified, not added + removed', () => {
    const r = editJsonl(path.join(dir, PROMPTS), (rec, i) => (i === 19 ? {...rec, completion: `${rec.completion} (edited)`} : undefined))
    assert.equal(r.modified, 1)
    const st = dsvJson<StatusDoc>(dir, 0, 'status')
    assert.deepEqual(st.files, [{path: PROMPTS, status: 'modified', kind: 'table', examples: counts(0, 0, 1)}])
    const c = dsvJson(dir, 0, 'commit', '-m', 'fix one completion')
    assert.deepEqual(c.examples, counts(0, 0, 1))
  })

  it('appending lines to a file that ends with a newline counts them as added', () => {
    const other = path.join(dir, 'keyless/more.jsonl')
    fs.writeFileSync(other, Array.from({length: 5}, (_, i) => JSON.stringify({prompt: `q${i}`, completion: `a${i}`})).join('\n') + '\n')
    assertExit(dsv(dir, 'commit', '-m', 'more', '--quiet'), 0)
    fs.appendFileSync(other, Array.from({length: 3}, (_, i) => `${JSON.stringify({prompt: `new q${i}`, completion: `new a${i}`})}\n`).join(''))
    const st = dsvJson<StatusDoc>(dir, 0, 'status')
    assert.deepEqual(st.files, [{path: 'keyless/more.jsonl', status: 'modified', kind: 'table', examples: counts(3, 0, 0)}])
    assertExit(dsv(dir, 'commit', '-m', 'append 3', '--quiet'), 0)
  })

  it('appending lines to prompts.jsonl (no final newline) counts only the new lines as added', () => {
    const file = path.join(dir, PROMPTS)
    assert.notEqual(fs.readFileSync(file).at(-1), 0x0a)
    fs.appendFileSync(file, '\n' + Array.from({length: 3}, (_, i) => JSON.stringify({prompt: `p${i}`, completion: `c${i}`})).join('\n'))
    const st = dsvJson<StatusDoc>(dir, 0, 'status')
    assert.deepEqual(st.files, [{path: PROMPTS, status: 'modified', kind: 'table', examples: counts(3, 0, 0)}])
  })
})

describe('CSV and TSV tables', () => {
  let dir: string
  let first: string
  const origCsv = sha256File(path.join(fixturesDir, PRODUCTS))
  const origTsv = sha256File(path.join(fixturesDir, VALIDATED))

  before(async () => {
    ;({dir, first} = (await repos.tables.get()) as {dir: string; first: string})
  })

  it('CSV (CRLF, quoted newline): changing one row by key is 1 modified example', () => {
    // OF-3004 is the record with a newline inside quotes; change its price
    const before = 'OF-3004,"Fountain Pen, Medium Nib",Office,36.00,'
    replaceOnce(path.join(dir, PRODUCTS), before, before.replace('36.00', '39.50'))
    const st = dsvJson<StatusDoc>(dir, 0, 'status')
    assert.deepEqual(st.files, [{path: PRODUCTS, status: 'modified', kind: 'table', examples: counts(0, 0, 1)}])
  })

  it('TSV (Common Voice, a sentence starting with `"`): changing one row by key `path` is 1 modified example', () => {
    const file = path.join(dir, VALIDATED)
    const row = fs.readFileSync(file, 'utf8').split('\n').find((l) => l.split('\t')[3]?.startsWith('"'))
    assert.ok(row, 'the fixture has a sentence starting with a double quote')
    const key = row.split('\t')[1]
    assert.equal(editTsvByKey(file, 'path', [key], 'up_votes', (v) => String(Number(v) + 7)), 1)
    const st = dsvJson<StatusDoc>(dir, 0, 'status')
    assert.deepEqual(st.files, [
      {path: VALIDATED, status: 'modified', kind: 'table', examples: counts(0, 0, 1)},
      {path: PRODUCTS, status: 'modified', kind: 'table', examples: counts(0, 0, 1)},
    ])
    const c = dsvJson(dir, 0, 'commit', '-m', 'one row each')
    assert.deepEqual(c.examples, counts(0, 0, 2))
  })

  it('checkout of the first version restores both tables byte for byte', () => {
    assert.notEqual(sha256File(path.join(dir, PRODUCTS)), origCsv)
    assertExit(dsv(dir, 'checkout', first, '--quiet'), 0)
    assert.equal(sha256File(path.join(dir, PRODUCTS)), origCsv)
    assert.equal(sha256File(path.join(dir, VALIDATED)), origTsv)
    const csv = fs.readFileSync(path.join(dir, PRODUCTS), 'latin1')
    assert.equal(csv.split('\r\n').length - 1, 31, '31 CRLF line ends')
    assert.equal(csv.split('\n').length - 1, 32, '32 LF bytes (one bare LF inside quotes)')
  })
})

describe('dsv log', () => {
  let dir: string
  let ids: string[]

  before(async () => {
    ;({dir, ids} = await repos.log.get())
  })

  it('--json lists every commit newest first, with the documented shape', () => {
    const log = dsvJson<LogEntry[]>(dir, 0, 'log')
    assert.deepEqual(log.map((e) => e.id), [...ids].reverse())
    assert.deepEqual(log.map((e) => e.message), ['third', 'second\n\nwith a body', 'first'])
    assert.deepEqual(log.map((e) => e.parents), [[ids[1]], [ids[0]], []])
    assert.deepEqual(log.map((e) => e.examples), [counts(0, 0, 2), counts(0, 0, 1), counts(readJsonl(path.join(fixturesDir, GOLDEN)).length, 0, 0)])
    assert.deepEqual(log.map((e) => e.files), [counts(0, 0, 1), counts(0, 0, 1), counts(1, 0, 0)])
    for (const e of log) {
      assert.deepEqual(Object.keys(e).sort(), ['author', 'code', 'date', 'examples', 'files', 'head', 'id', 'message', 'parents', 'quality', 'refs', 'tags', 'timestamp'])
      assert.equal(e.quality, null)
      assert.deepEqual(e.author, AUTHOR)
      assert.match(e.date, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d$/)
      assert.equal(Date.parse(e.date) / 1000, e.timestamp)
      assert.equal(e.code, null)
    }
    for (let i = 1; i < log.length; i++) assert.ok(log[i - 1].timestamp >= log[i].timestamp)
    assert.deepEqual(log.map((e) => e.tags), [[], [], ['v1']])
    assert.deepEqual(log.map((e) => e.refs), [['main'], [], []])
    assert.deepEqual(log.map((e) => e.head), [true, false, false])
  })

  it('-n limits the count', async () => {
    const [j, h] = await Promise.all([dsvAsync(dir, 'log', '-n', '2', '--json'), dsvAsync(dir, 'log', '-n', '1')])
    assertExit(j, 0)
    assert.deepEqual(j.json<LogEntry[]>().map((e) => e.id), [ids[2], ids[1]])
    assertExit(h, 0)
    assert.equal(h.stdout.match(/^commit /gm)?.length, 1)
    assert.match(h.stdout, new RegExp(`^commit ${ids[2]} \\(HEAD -> main\\)$`, 'm'))
    assert.match(h.stdout, new RegExp(`^Author: ${AUTHOR.name} <${AUTHOR.email}>$`, 'm'))
  })

  it('--oneline prints one line per commit with short ids and decorations', () => {
    const h = dsv(dir, 'log', '--oneline')
    assertExit(h, 0)
    const lines = h.stdout.trimEnd().split('\n')
    assert.equal(lines.length, 3)
    assert.ok(lines[0].startsWith(`${ids[2].slice(0, 12)} (HEAD -> main) third`), lines[0])
    assert.ok(lines[1].startsWith(`${ids[1].slice(0, 12)} second`), lines[1])
    assert.ok(lines[2].startsWith(`${ids[0].slice(0, 12)} (tag: v1) first`), lines[2])
  })

  it('marks HEAD as git does: detached at a tag, then back on the branch', () => {
    const other = tmp.make()
    fs.cpSync(dir, other, {recursive: true})
    assertExit(dsv(other, 'checkout', 'v1', '--quiet'), 0)
    const detached = dsv(other, 'log', '--oneline', 'main')
    assertExit(detached, 0)
    const lines = detached.stdout.trimEnd().split('\n')
    assert.ok(lines[0].startsWith(`${ids[2].slice(0, 12)} (main) third`), lines[0])
    assert.ok(lines[2].startsWith(`${ids[0].slice(0, 12)} (HEAD, tag: v1) first`), lines[2])
    assert.deepEqual(dsvJson<LogEntry[]>(other, 0, 'log', 'main').map((e) => e.head), [false, false, true])
    assert.match(dsv(other, 'show').stdout, new RegExp(`^commit ${ids[0]} \\(HEAD, tag: v1\\)$`, 'm'))
  })

  it('`log v1` starts at v1', async () => {
    const [a, b] = await Promise.all([jsonOf<LogEntry[]>(dsvAsync(dir, 'log', 'v1', '--json')), jsonOf<LogEntry[]>(dsvAsync(dir, 'log', 'HEAD~1', '--json'))])
    assert.deepEqual(a.map((e) => e.id), [ids[0]])
    assert.deepEqual(b.map((e) => e.id), [ids[1], ids[0]])
  })

  it('on a repository without commits: [] and "No commits yet."', async () => {
    const empty = tmp.make()
    assertExit(dsv(empty, 'init', '--quiet'), 0)
    const [j, h] = await Promise.all([dsvAsync(empty, 'log', '--json'), dsvAsync(empty, 'log')])
    assertExit(j, 0)
    assert.deepEqual(j.json(), [])
    assertExit(h, 0)
    assert.match(h.stdout, /No commits yet/)
  })
})

describe('dsv config', () => {
  it('sets and gets user.name; an unset key reads as null with exit 1', async () => {
    const dir = tmp.make()
    assertExit(dsv(dir, 'init', '--quiet'), 0)
    assert.deepEqual(dsvJson(dir, 0, 'config', 'user.name', 'Ada Lovelace'), {key: 'user.name', value: 'Ada Lovelace'})
    const [j, h, unset] = await Promise.all([
      dsvAsync(dir, 'config', 'user.name', '--json'),
      dsvAsync(dir, 'config', 'user.name'),
      dsvAsync(dir, 'config', 'user.email', '--json'),
    ])
    assertExit(j, 0)
    assert.deepEqual(j.json(), {key: 'user.name', value: 'Ada Lovelace'})
    assertExit(h, 0)
    assert.equal(h.stdout, 'Ada Lovelace\n')
    assertExit(unset, 1)
    assert.deepEqual(unset.json(), {key: 'user.email', value: null})
  })

  it('an unknown key is refused with exit 2 (E_CONFIG)', async () => {
    const dir = tmp.make()
    assertExit(dsv(dir, 'init', '--quiet'), 0)
    const cfg = fs.readFileSync(path.join(dir, '.dsv', 'config.json'))
    const runs = await Promise.all([dsvAsync(dir, 'config', 'user.nickname', 'x', '--json'), dsvAsync(dir, 'config', 'colour', 'red', '--json')])
    for (const r of runs) assertJsonError(r, 2, 'E_CONFIG')
    assert.deepEqual(fs.readFileSync(path.join(dir, '.dsv', 'config.json')), cfg)
  })

  it('core.compression picks the zstd level of new pack blocks (0: stored raw); out-of-range levels are refused', async () => {
    const dir = tmp.make()
    assertExit(dsv(dir, 'init', '--quiet'), 0)
    for (const bad of ['20', '-1', '3.5', 'max']) assertJsonError(await dsvAsync(dir, 'config', 'core.compression', bad, '--json'), 2, 'E_CONFIG')
    fs.cpSync(path.join(fixturesDir, 'golden'), path.join(dir, 'golden'), {recursive: true})
    const packs = path.join(dir, '.dsv', 'packs')
    assert.deepEqual(dsvJson(dir, 0, 'config', 'core.compression', '0'), {key: 'core.compression', value: 0})
    await expectOk(dsvAsync(dir, 'commit', '-qm', 'stored raw'))
    assert.deepEqual([...packBlockCodecs(packs)], [0])
    const rawSize = fs.readdirSync(packs).reduce((n, f) => n + fs.statSync(path.join(packs, f)).size, 0)
    assertExit(dsv(dir, 'config', 'core.compression', '19'), 0)
    editJsonl(path.join(dir, GOLDEN), (rec) => ({...rec, validation_status: 'pending_review'}))
    await expectOk(dsvAsync(dir, 'commit', '-qm', 'zstd 19'))
    assert.ok(packBlockCodecs(packs).has(3), 'level 19 writes zstd blocks')
    assert.ok(fs.readdirSync(packs).reduce((n, f) => n + fs.statSync(path.join(packs, f)).size, 0) < rawSize * 1.5, 'the second version costs less than half a raw copy')
    // both versions check out byte for byte
    const first = path.join(tmp.make(), 'first')
    await expectOk(dsvAsync(dir, 'checkout', 'HEAD~1', '--to', first))
    assert.equal(sha256File(path.join(first, STT)), sha256File(path.join(fixturesDir, STT)))
    assert.equal((await dsvJsonAsync<{ok: boolean}>(dir, 0, 'fsck')).ok, true)
  })

  it('keys.<pattern> changes which field identifies an example', async () => {
    // two identical copies of the golden file (golden/ and copy/); only golden/ has created_at as its key
    const {dir, set} = await repos.keys.get()
    assert.deepEqual(set, {key: 'keys.golden/*.jsonl', value: 'created_at'})
    // renumber two examples in both files: by `id` that is 2 removed + 2 added; by created_at, 2 modified
    const renumber = (rec: {id: string}) => (rec.id === 'ex-0007' || rec.id === 'ex-0008' ? {...rec, id: rec.id.replace('ex-00', 'ex-90')} : undefined)
    editJsonl(path.join(dir, GOLDEN), renumber)
    editJsonl(path.join(dir, 'copy/golden_examples.jsonl'), renumber)
    const st = dsvJson<StatusDoc>(dir, 0, 'status')
    assert.deepEqual(st.files, [
      {path: 'copy/golden_examples.jsonl', status: 'modified', kind: 'table', examples: counts(2, 2, 0)},
      {path: GOLDEN, status: 'modified', kind: 'table', examples: counts(0, 0, 2)},
    ])
  })

  it('changing keys.<pattern> applies to files already in the stat cache', () => {
    const {dir} = makeRepoFrom(tmp, [GOLDEN])
    editJsonl(path.join(dir, GOLDEN), (rec) => (rec.id === 'ex-0007' ? {...rec, id: 'ex-9007'} : undefined))
    assert.deepEqual(dsvJson<StatusDoc>(dir, 0, 'status').examples, counts(1, 1, 0))
    assertExit(dsv(dir, 'config', 'keys.golden/*.jsonl', 'created_at', '--quiet'), 0)
    assert.deepEqual(dsvJson<StatusDoc>(dir, 0, 'status').examples, counts(0, 0, 1))
  })
})
