/**
 * End to end: checkout (byte-exact restore of whole trees, detached HEAD, dirty working
 * tree, --force, --to) and rollback, on a copy of every fixture.
 */
import assert from 'node:assert/strict'
import crypto from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import {
  TempDirs,
  assertExit,
  assertJsonError,
  assertSameTree,
  assertTreeHashes,
  counts,
  cleanEnv,
  dsv,
  dsvEnv,
  dsvJson,
  editJsonl,
  fixturesDir,
  listFiles,
  makeRepoFrom,
  makeRepoFromAsync,
  prepareAll,
  prepared,
  dsvAsync,
  dsvJsonAsync,
  readJsonl,
  replaceOnce,
  treeHashes,
  type LogEntry,
  type StatusDoc,
} from './helpers.js'

const GOLDEN = 'golden/golden_examples.jsonl'
const STT = 'golden/stt_failed_cases.jsonl'
const PROMPTS = 'keyless/prompts.jsonl'
const PRODUCTS = 'tables/products.csv'
const CLIP = 'common_voice/clips/common_voice_en_39609324.mp3'

const tmp = new TempDirs()
after(() => tmp.cleanup())

function sha(file: string): string {
  return crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex')
}

function headFile(dir: string): string {
  return fs.readFileSync(path.join(dir, '.dsv', 'HEAD'), 'utf8').trim()
}

/** How checkout from `from` to `to` should count: files written and files removed. */
function expectedMoves(from: Map<string, string>, to: Map<string, string>): {written: number; removed: number} {
  const written = [...to].filter(([p, h]) => from.get(p) !== h).length
  const removed = [...from.keys()].filter((p) => !to.has(p)).length
  return {written, removed}
}

// the two describes' repositories, made at once in the background
const repos = {
  checkout: prepared(async () => {
    const made = await makeRepoFromAsync(tmp, ['.'], {commit: 'v1: all fixtures'})
    const dir = made.dir
    const c1 = made.first!
    const v1 = treeHashes(dir)
    // the repository holds exactly the fixture files, byte for byte
    assertTreeHashes(fixturesDir, v1)
    assertExit(await dsvAsync(dir, 'tag', 'v1', '--quiet'), 0)

    // version 2: edits, removals, additions of every kind
    editJsonl(path.join(dir, GOLDEN), (rec) => (['ex-0002', 'ex-0030'].includes(rec.id) ? {...rec, validation_status: 'pending'} : undefined))
    editJsonl(path.join(dir, PROMPTS), (rec, i) => (i === 10 ? {...rec, prompt: `${rec.prompt}?`} : undefined))
    replaceOnce(path.join(dir, PRODUCTS), 'KT-1004,Cast Iron Skillet,Kitchen,38.75', 'KT-1004,Cast Iron Skillet,Kitchen,41.25')
    fs.rmSync(path.join(dir, STT))
    fs.rmSync(path.join(dir, CLIP))
    fs.writeFileSync(path.join(dir, 'golden/new_examples.jsonl'), '{"id":"n-1","x":1}\n{"id":"n-2","x":2}\n')
    fs.writeFileSync(path.join(dir, 'common_voice/clips/common_voice_en_00000001.mp3'), crypto.randomBytes(792))
    fs.mkdirSync(path.join(dir, 'extra/deep'), {recursive: true})
    fs.writeFileSync(path.join(dir, 'extra/deep/notes.txt'), 'only in v2\n')
    // larger than the 4 MiB chunking threshold: stored as chunks, restored by concatenation
    fs.mkdirSync(path.join(dir, 'blobs'))
    fs.writeFileSync(path.join(dir, 'blobs/big.bin'), crypto.randomBytes(5 * 1024 * 1024 + 123))
    const c2 = (await dsvJsonAsync(dir, 0, 'commit', '-m', 'v2')).id as string
    return {dir, c1, c2, v1, v2: treeHashes(dir)}
  }),

  rollback: prepared(async () => {
    const made = await makeRepoFromAsync(tmp, ['golden/golden_examples.jsonl', 'tables', 'keyless'], {commit: 'v1'})
    const dir = made.dir
    const c = [made.first!]
    const v1 = treeHashes(dir)
    assertExit(await dsvAsync(dir, 'tag', 'v1', '--quiet'), 0)
    editJsonl(path.join(dir, GOLDEN), (rec) => (['ex-0004', 'ex-0005'].includes(rec.id) ? {...rec, labels: {...rec.labels, edge_case: true}} : undefined))
    replaceOnce(path.join(dir, PRODUCTS), 'KT-1001,Stovetop Kettle 1.5 L,Kitchen,34.99,true', 'KT-1001,Stovetop Kettle 1.5 L,Kitchen,34.99,false')
    c.push((await dsvJsonAsync(dir, 0, 'commit', '-m', 'v2')).id)
    editJsonl(path.join(dir, GOLDEN), (rec) => (rec.id === 'ex-0006' ? {...rec, quality_score: 0.2} : undefined))
    fs.rmSync(path.join(dir, PROMPTS))
    c.push((await dsvJsonAsync(dir, 0, 'commit', '-m', 'v3')).id)
    return {dir, c, v1}
  }),

}
prepareAll(repos)

describe('dsv checkout', () => {
  let dir: string
  let c1: string
  let c2: string
  let v1: Map<string, string>
  let v2: Map<string, string>

  before(async () => {
    ;({dir, c1, c2, v1, v2} = await repos.checkout.get())
    assert.equal(expectedMoves(v2, v1).removed, 4, '4 files only in v2')
    assert.equal(expectedMoves(v1, v2).removed, 2, '2 files only in v1')
  })

  it('`checkout v1` restores every file of v1 byte for byte (CRLF CSV, JSONL without final newline, mp3 clips)', () => {
    const moves = expectedMoves(v2, v1)
    const r = dsvJson(dir, 0, 'checkout', 'v1')
    assert.ok(Number.isInteger(r.copiedBytes) && r.copiedBytes >= 0)
    assert.deepEqual(r, {head: c1, branch: null, detached: true, ...moves, copiedBytes: r.copiedBytes})
    assertTreeHashes(dir, v1)
    assertSameTree(dir, fixturesDir)
    assert.equal(fs.readFileSync(path.join(dir, PRODUCTS)).includes(Buffer.from('38.75')), true)
    assert.notEqual(fs.readFileSync(path.join(dir, PROMPTS)).at(-1), 0x0a, 'still no final newline')
  })

  it('files added after v1 are gone; files removed after v1 are back', () => {
    assert.equal(fs.existsSync(path.join(dir, 'golden/new_examples.jsonl')), false)
    assert.equal(fs.existsSync(path.join(dir, 'common_voice/clips/common_voice_en_00000001.mp3')), false)
    assert.equal(fs.existsSync(path.join(dir, 'extra/deep/notes.txt')), false)
    assert.equal(readJsonl(path.join(dir, STT)).length, 25)
    assert.equal(fs.statSync(path.join(dir, CLIP)).size, 792)
  })

  it('folders left empty by checkout are removed', () => {
    assert.equal(fs.existsSync(path.join(dir, 'extra')), false)
  })

  it('HEAD is detached after `checkout v1`: status has branch null, head v1, clean', () => {
    assert.equal(headFile(dir), c1)
    const st = dsvJson<StatusDoc>(dir, 0, 'status')
    assert.deepEqual(st, {branch: null, head: c1, clean: true, files: [], examples: counts(0, 0, 0), skipped: [], upstream: null})
  })

  it('`checkout main` re-attaches HEAD and brings v2 back', () => {
    const r = dsvJson(dir, 0, 'checkout', 'main')
    assert.ok(Number.isInteger(r.copiedBytes) && r.copiedBytes >= 0)
    assert.deepEqual(r, {head: c2, branch: 'main', detached: false, ...expectedMoves(v1, v2), copiedBytes: r.copiedBytes})
    assert.equal(headFile(dir), 'ref: refs/heads/main')
    assertTreeHashes(dir, v2)
    const st = dsvJson<StatusDoc>(dir, 0, 'status')
    assert.equal(st.branch, 'main')
    assert.equal(st.clean, true)
  })

  it('a dirty working tree is refused (exit 6, E_DIRTY_WORKTREE) and nothing changes on disk', () => {
    assert.equal(editJsonl(path.join(dir, GOLDEN), (rec) => (rec.id === 'ex-0050' ? {...rec, quality_score: -1} : undefined)).modified, 1)
    const before = treeHashes(dir)
    const err = assertJsonError(dsv(dir, 'checkout', 'v1', '--json'), 6, 'E_DIRTY_WORKTREE')
    assert.deepEqual(err.paths, [GOLDEN])
    assertTreeHashes(dir, before)
    assert.equal(headFile(dir), 'ref: refs/heads/main')
    const h = dsv(dir, 'checkout', 'v1')
    assertExit(h, 6)
    assert.match(h.stderr, new RegExp(GOLDEN.replace('.', '\\.')))
    assertTreeHashes(dir, before)
  })

  it('--force discards the uncommitted changes', () => {
    const r = dsvJson(dir, 0, 'checkout', 'v1', '--force')
    assert.equal(r.head, c1)
    assertTreeHashes(dir, v1)
    assert.equal(dsvJson<StatusDoc>(dir, 0, 'status').clean, true)
    assertExit(dsv(dir, 'checkout', 'main', '--quiet'), 0)
    assertTreeHashes(dir, v2)
  })

  it('an untracked file that the target version would overwrite is refused (exit 6)', () => {
    // golden/stt_failed_cases.jsonl is in v1 but not in v2 (HEAD): here it is untracked
    const stray = path.join(dir, STT)
    fs.writeFileSync(stray, '{"id":"stt-9999","note":"not committed anywhere"}\n')
    const before = treeHashes(dir)
    const err = assertJsonError(dsv(dir, 'checkout', 'v1', '--json'), 6, 'E_DIRTY_WORKTREE')
    assert.deepEqual(err.paths, [STT])
    assertTreeHashes(dir, before)
    fs.rmSync(stray)
  })

  it('an untracked file that neither version has does not block checkout and is kept', () => {
    const {dir: d, first} = makeRepoFrom(tmp, [PROMPTS])
    editJsonl(path.join(d, PROMPTS), (rec, i) => (i === 3 ? {...rec, completion: 'changed'} : undefined))
    assertExit(dsv(d, 'commit', '-m', 'two', '--quiet'), 0)
    fs.writeFileSync(path.join(d, 'my-notes.txt'), 'scratch notes\n')
    const r = dsvJson(d, 0, 'checkout', first!)
    assert.equal(r.head, first)
    assert.equal(fs.readFileSync(path.join(d, 'my-notes.txt'), 'utf8'), 'scratch notes\n')
  })

  it('untracked files in the way of a file or a folder the target writes are refused, and deleted only with --force', () => {
    // v1 has data.jsonl and sub/x.jsonl; v2 has neither
    const {dir: d, first} = makeRepoFrom(tmp, [PROMPTS])
    fs.writeFileSync(path.join(d, 'data.jsonl'), '{"id":1}\n')
    fs.mkdirSync(path.join(d, 'sub'))
    fs.writeFileSync(path.join(d, 'sub', 'x.jsonl'), '{"id":2}\n')
    const v1 = dsvJson<{id: string}>(d, 0, 'commit', '-m', 'v1').id
    fs.rmSync(path.join(d, 'data.jsonl'))
    fs.rmSync(path.join(d, 'sub'), {recursive: true})
    assertExit(dsv(d, 'commit', '-m', 'v2', '--quiet'), 0)
    assert.ok(first)
    // a folder of untracked notes where v1 has the file data.jsonl; an untracked file where
    // v1 needs the folder sub/; an untracked symlink where v1 has sub/x.jsonl's folder too
    fs.mkdirSync(path.join(d, 'data.jsonl'))
    fs.writeFileSync(path.join(d, 'data.jsonl', 'notes.txt'), 'my notes\n')
    fs.writeFileSync(path.join(d, 'sub'), 'not a folder\n')
    const before = treeHashes(d)
    const err = assertJsonError(dsv(d, 'checkout', v1, '--json'), 6, 'E_DIRTY_WORKTREE')
    assert.deepEqual(err.paths, ['data.jsonl/notes.txt', 'sub'])
    assertTreeHashes(d, before)
    assert.equal(headFile(d), 'ref: refs/heads/main')

    fs.rmSync(path.join(d, 'sub'))
    fs.symlinkSync(PROMPTS, path.join(d, 'sub'))
    assert.deepEqual(assertJsonError(dsv(d, 'checkout', v1, '--json'), 6, 'E_DIRTY_WORKTREE').paths, ['data.jsonl/notes.txt', 'sub'])
    assert.equal(fs.readlinkSync(path.join(d, 'sub')), PROMPTS)

    // --force deletes what is in the way and writes v1 exactly
    assertExit(dsv(d, 'checkout', v1, '--force', '--quiet'), 0)
    assert.equal(fs.readFileSync(path.join(d, 'data.jsonl'), 'utf8'), '{"id":1}\n')
    assert.equal(fs.readFileSync(path.join(d, 'sub', 'x.jsonl'), 'utf8'), '{"id":2}\n')
    assert.equal(dsvJson<StatusDoc>(d, 0, 'status').clean, true)
  })

  it('a symlinked folder on the way to a file is replaced by a real folder, never written through (ignored: always; untracked: with --force)', () => {
    const outside = tmp.make('dsv-outside-')
    fs.mkdirSync(path.join(outside, 'deep'))
    fs.writeFileSync(path.join(outside, 'deep', 'f.txt'), 'PRECIOUS\n')
    for (const how of ['ignored', 'untracked'] as const) {
      const {dir: d} = makeRepoFrom(tmp, [PROMPTS], {commit: false})
      fs.mkdirSync(path.join(d, 'sub', 'deep'), {recursive: true})
      fs.writeFileSync(path.join(d, 'sub', 'deep', 'f.txt'), 'v1\n')
      const v1 = dsvJson<{id: string}>(d, 0, 'commit', '-m', 'v1').id
      fs.rmSync(path.join(d, 'sub'), {recursive: true})
      if (how === 'ignored') fs.writeFileSync(path.join(d, '.dsvignore'), 'sub\n')
      assertExit(dsv(d, 'commit', '-m', 'v2', '--quiet'), 0)
      fs.symlinkSync(outside, path.join(d, 'sub'))
      if (how === 'untracked') assert.deepEqual(assertJsonError(dsv(d, 'checkout', v1, '--json'), 6, 'E_DIRTY_WORKTREE').paths, ['sub'])
      assertExit(dsv(d, 'checkout', v1, '--quiet', ...(how === 'untracked' ? ['--force'] : [])), 0)
      assert.equal(fs.readFileSync(path.join(outside, 'deep', 'f.txt'), 'utf8'), 'PRECIOUS\n', how)
      assert.ok(!fs.lstatSync(path.join(d, 'sub')).isSymbolicLink(), how)
      assert.equal(fs.readFileSync(path.join(d, 'sub', 'deep', 'f.txt'), 'utf8'), 'v1\n', how)
    }
  })

  it('checkout --force HEAD replaces a tracked folder turned into a symlink to another tracked folder, and leaves that folder alone', () => {
    const {dir: d} = makeRepoFrom(tmp, [], {commit: false})
    fs.mkdirSync(path.join(d, 'data', 'sub'), {recursive: true})
    fs.mkdirSync(path.join(d, 'data2', 'sub'), {recursive: true})
    fs.writeFileSync(path.join(d, 'data', 'sub', 'x.txt'), 'A\n')
    fs.writeFileSync(path.join(d, 'data2', 'sub', 'x.txt'), 'B\n')
    assertExit(dsv(d, 'commit', '-m', 'v1', '--quiet'), 0)
    const committed = treeHashes(d)
    fs.rmSync(path.join(d, 'data2'), {recursive: true})
    fs.symlinkSync('data', path.join(d, 'data2'))
    assertExit(dsv(d, 'checkout', '--force', 'HEAD', '--quiet'), 0)
    assertTreeHashes(d, committed)
    assert.ok(!fs.lstatSync(path.join(d, 'data2')).isSymbolicLink())
    assert.equal(dsvJson<StatusDoc>(d, 0, 'status').clean, true)
  })

  it('--to DIR writes an exact copy of the version and leaves HEAD and the working tree alone', () => {
    const out = path.join(tmp.make('dsv-export-'), 'v1-copy')
    const r = dsvJson(dir, 0, 'checkout', 'v1', '--to', out)
    assert.equal(r.head, c1)
    assert.equal(r.written, v1.size)
    assert.equal(r.to, out)
    assertTreeHashes(out, v1, [])
    assertSameTree(out, fixturesDir, [])
    assert.equal(fs.existsSync(path.join(out, '.dsv')), false)
    assert.equal(headFile(dir), 'ref: refs/heads/main')
    assertTreeHashes(dir, v2)
    const st = dsvJson<StatusDoc>(dir, 0, 'status')
    assert.equal(st.branch, 'main')
    assert.equal(st.head, c2)
    assert.equal(st.clean, true)
  })

  it('--to a non-empty directory is refused (exit 6) and that directory is untouched', () => {
    const out = tmp.make('dsv-export-')
    fs.writeFileSync(path.join(out, 'keep.txt'), 'mine\n')
    assertJsonError(dsv(dir, 'checkout', 'v1', '--to', out, '--json'), 6, 'E_DIRTY_WORKTREE')
    assert.deepEqual(listFiles(out), ['keep.txt'])
    assert.equal(fs.readFileSync(path.join(out, 'keep.txt'), 'utf8'), 'mine\n')
  })

  it('--to a non-empty directory with --force writes the version and lists (and keeps) the files it does not have', () => {
    const out = tmp.make('dsv-export-')
    assertExit(dsv(dir, 'checkout', 'main', '--to', out, '--quiet'), 0)
    const v2only = listFiles(out).filter((p) => !listFiles(fixturesDir).includes(p))
    assert.ok(v2only.length > 0, 'main has files v1 lacks')
    fs.writeFileSync(path.join(out, 'keep.txt'), 'mine\n')
    const doc = dsvJson(dir, 0, 'checkout', 'v1', '--to', out, '--force')
    assert.deepEqual(doc.extra, [...v2only, 'keep.txt'].sort())
    const human = dsv(dir, 'checkout', 'v1', '--to', out, '--force')
    assertExit(human, 0)
    assert.match(human.stdout, /^Wrote v1 \([0-9a-f]{12}\) into .*: \d+ files\n$/)
    assert.match(human.stderr, new RegExp(`^warning: .* also holds ${v2only.length + 1} files that v1 does not have \\(left as they were\\):$`, 'm'))
    assert.match(human.stderr, /^ {2}keep\.txt$/m)
    assert.equal(fs.readFileSync(path.join(out, 'keep.txt'), 'utf8'), 'mine\n')
    // the version's own files are exactly v1's
    for (const p of listFiles(fixturesDir)) assert.equal(sha(path.join(out, p)), sha(path.join(fixturesDir, p)), p)
  })

  it('--to an existing empty folder writes into it (its mode stays); --to a new one leaves nothing beside it', () => {
    const parent = tmp.make('dsv-export-')
    const kept = path.join(parent, 'private')
    fs.mkdirSync(kept, {mode: 0o700})
    fs.chmodSync(kept, 0o700)
    assertExit(dsv(dir, 'checkout', 'v1', '--to', kept, '--quiet'), 0)
    assert.equal(fs.statSync(kept).mode & 0o777, 0o700)
    assertSameTree(kept, fixturesDir, [])
    assertExit(dsv(dir, 'checkout', 'v1', '--to', path.join(parent, 'fresh'), '--quiet'), 0)
    assert.deepEqual(fs.readdirSync(parent).sort(), ['fresh', 'private'])
  })

  it('a folder named like a dsv temp file (a killed checkout --to\'s) is neither versioned nor in the way of checkout', () => {
    const {dir: d} = makeRepoFrom(tmp, [PROMPTS])
    fs.mkdirSync(path.join(d, '.out.dsv-deadbeef.tmp', 'sub'), {recursive: true})
    fs.writeFileSync(path.join(d, '.out.dsv-deadbeef.tmp', 'sub', 'x.jsonl'), '{"id":1}\n')
    assert.equal(dsvJson<StatusDoc>(d, 0, 'status').clean, true)
    fs.appendFileSync(path.join(d, PROMPTS), '\n{"prompt": "one more"}\n')
    assertExit(dsv(d, 'commit', '-m', 'v2', '--quiet'), 0)
    assertExit(dsv(d, 'checkout', 'HEAD~1', '--quiet'), 0)
    assert.ok(fs.existsSync(path.join(d, '.out.dsv-deadbeef.tmp', 'sub', 'x.jsonl')))
  })

  it('--to a file is a usage error (exit 2), with or without --force, and the file is untouched', () => {
    const file = path.join(tmp.make('dsv-export-'), 'a-file')
    fs.writeFileSync(file, 'mine\n')
    for (const force of [[], ['--force']]) assertJsonError(dsv(dir, 'checkout', 'v1', '--to', file, '--json', ...force), 2, 'E_USAGE')
    assert.equal(fs.readFileSync(file, 'utf8'), 'mine\n')
  })

  it('a commit made on a detached HEAD can be checked out again', () => {
    assertExit(dsv(dir, 'checkout', 'v1', '--quiet'), 0)
    editJsonl(path.join(dir, GOLDEN), (rec) => (rec.id === 'ex-0060' ? null : undefined))
    fs.writeFileSync(path.join(dir, 'detached.txt'), 'made on a detached HEAD\n')
    const c = dsvJson(dir, 0, 'commit', '-m', 'on detached HEAD')
    assert.equal(c.branch, null)
    assert.deepEqual(c.parents, [c1])
    assert.deepEqual(c.examples, counts(0, 1, 0))
    assert.equal(headFile(dir), c.id)
    const detached = treeHashes(dir)

    // leaving it: a warning on stderr (even with --quiet) names the commit no branch or tag holds
    const leave = dsv(dir, 'checkout', 'main', '--quiet')
    assertExit(leave, 0)
    assert.equal(leave.stdout, '')
    assert.equal(leave.stderr, `warning: leaving 1 commit behind, on no branch or tag:\n  ${c.id.slice(0, 12)} on detached HEAD\nhint: to keep them, tag the newest: dsv tag NAME ${c.id.slice(0, 12)}\n`)
    assertTreeHashes(dir, v2)
    assert.equal(dsvJson<LogEntry[]>(dir, 0, 'log', 'main', '-n', '1')[0].id, c2, 'main did not move')

    const r = dsvJson(dir, 0, 'checkout', c.id.slice(0, 10))
    assert.equal(r.head, c.id)
    assert.equal(r.detached, true)
    assertTreeHashes(dir, detached)
    assert.deepEqual(dsvJson<LogEntry[]>(dir, 0, 'log').map((e) => e.id), [c.id, c1])
    // --json lists what is left behind; once tagged, nothing is
    assert.deepEqual(dsvJson(dir, 0, 'checkout', 'main').leftBehind, [{id: c.id, message: 'on detached HEAD'}])
    assertExit(dsv(dir, 'tag', 'kept', c.id, '--quiet'), 0)
    assertExit(dsv(dir, 'checkout', 'kept', '--quiet'), 0)
    const back = dsv(dir, 'checkout', 'main', '--json')
    assertExit(back, 0)
    assert.equal(back.json<{leftBehind?: unknown}>().leftBehind, undefined)
    assertExit(dsv(dir, 'tag', '-d', 'kept', '--quiet'), 0)
  })
})

describe('dsv rollback', () => {
  let dir: string
  let c: string[]
  let v1: Map<string, string>

  before(async () => {
    ;({dir, c, v1} = await repos.rollback.get())
  })

  it('creates a new commit whose tree is the target tree, counting the changes back', () => {
    const r = dsvJson(dir, 0, 'rollback', 'v1')
    assert.deepEqual(r.parents, [c[2]])
    assert.equal(r.target, c[0])
    assert.equal(r.branch, 'main')
    assert.deepEqual(r.examples, counts(40, 0, 4), 'prompts back (+40), 3 golden + 1 product examples restored')
    assert.deepEqual(r.files, counts(1, 0, 2))
    const [now, target] = [dsvJson(dir, 0, 'show', 'HEAD'), dsvJson(dir, 0, 'show', 'v1')]
    assert.equal(now.id, r.id)
    assert.equal(now.tree, target.tree)
    assert.deepEqual(now.contents, target.contents)
    c.push(r.id)
  })

  it('keeps the whole history', () => {
    const log = dsvJson<LogEntry[]>(dir, 0, 'log')
    assert.deepEqual(log.map((e) => e.id), [...c].reverse())
    assert.match(log[0].message, /v1/)
  })

  it('makes the working directory equal to the target version byte for byte', () => {
    assertTreeHashes(dir, v1)
    assert.equal(dsvJson<StatusDoc>(dir, 0, 'status').clean, true)
  })

  it('rolling back to the content HEAD already has: exit 1, E_NOTHING_TO_COMMIT', () => {
    assertJsonError(dsv(dir, 'rollback', 'v1', '--json'), 1, 'E_NOTHING_TO_COMMIT')
    assertJsonError(dsv(dir, 'rollback', 'HEAD', '--json'), 1, 'E_NOTHING_TO_COMMIT')
    assert.equal(dsvJson<LogEntry[]>(dir, 0, 'log').length, 4)
  })
})

describe('a temp file left by a killed checkout', function () {
  this.timeout(60_000)
  const tmp = new TempDirs()
  after(() => tmp.cleanup())

  it('is never seen by status or commit, and the next checkout that writes its folder removes it', async () => {
    const {dir, first} = await makeRepoFromAsync(tmp, ['golden', 'tables'])
    const leftover = path.join(dir, 'golden', 'golden_examples.jsonl.dsv-0badf00d.tmp')
    fs.writeFileSync(leftover, '{"id":"half-written')
    const st = dsvJson<StatusDoc>(dir, 0, 'status')
    assert.equal(st.clean, true, JSON.stringify(st.files))
    fs.appendFileSync(path.join(dir, 'golden', 'golden_examples.jsonl'), '{"id":"ex-new","input_data":"q","expected_output":"a"}\n')
    const c = dsvJson<{id: string}>(dir, 0, 'commit', '-m', 'one more', '--no-verify')
    assert.ok(!dsvJson<any>(dir, 0, 'show', c.id).contents.some((f: {path: string}) => f.path.endsWith('.tmp')))
    assert.ok(fs.existsSync(leftover))
    dsvJson(dir, 0, 'checkout', first!)
    assert.equal(fs.existsSync(leftover), false, 'the checkout that rewrote golden/ removed the leftover')
  })
})

describe('a checkout that fails part-way', function () {
  this.timeout(60_000)

  it('leaves HEAD where it was, no HEAD.lock behind, and the repository usable', () => {
    const dir = tmp.make()
    assertExit(dsv(dir, 'init', '--quiet'), 0)
    // a table large enough that its leaves fill the largest pack of the first commit
    const rows = Array.from({length: 3000}, (_, i) => JSON.stringify({id: `ex-${i}`, text: crypto.createHash('sha256').update(String(i)).digest('hex')}))
    fs.writeFileSync(path.join(dir, 'big.jsonl'), `${rows.join('\n')}\n`)
    const v1 = dsvJson<{id: string}>(dir, 0, 'commit', '-m', 'v1').id
    const packDir = path.join(dir, '.dsv', 'packs')
    const largest = fs.readdirSync(packDir).map((f) => path.join(packDir, f)).sort((x, y) => fs.statSync(y).size - fs.statSync(x).size)[0]
    fs.rmSync(path.join(dir, 'big.jsonl'))
    fs.writeFileSync(path.join(dir, 'small.jsonl'), '{"id": "only"}\n')
    assertExit(dsv(dir, 'commit', '-m', 'v2', '--quiet'), 0)
    const bytes = fs.readFileSync(largest)
    bytes[Math.floor(bytes.length / 2)] ^= 0xff // damages a leaf of big.jsonl, not v1's commit or tree
    fs.writeFileSync(largest, bytes)

    assertJsonError(dsv(dir, 'checkout', v1, '--json'), 8, 'E_CORRUPT')
    assert.equal(headFile(dir), 'ref: refs/heads/main', 'HEAD did not move')
    assert.equal(fs.existsSync(path.join(dir, '.dsv', 'HEAD.lock')), false, 'the prepared HEAD was dropped')
    assert.equal(fs.existsSync(path.join(dir, 'big.jsonl')), false, 'no damaged file was written')
    const st = dsvJson<StatusDoc>(dir, 0, 'status')
    assert.equal(st.branch, 'main')
    assertExit(dsv(dir, 'tag', 'after-failure', '--quiet'), 0)
  })
})

describe('checkout between neighbouring versions', function () {
  this.timeout(120_000)
  const tmp2 = new TempDirs()
  after(() => tmp2.cleanup())
  const JSONL = 'data/train.jsonl'
  const CSV = 'data/rows.csv'

  /** v1 and v2 of a JSONL and a CRLF CSV with quoted fields; v2 edits a few rows and renames a CSV column. */
  function twoVersions(): {dir: string; v1: Map<string, string>; v2: Map<string, string>} {
    const dir = tmp2.make()
    assertExit(dsv(dir, 'init', '--quiet'), 0)
    fs.mkdirSync(path.join(dir, 'data'))
    const text = (i: number) => crypto.createHash('sha256').update(String(i)).digest('hex')
    fs.writeFileSync(path.join(dir, JSONL), Array.from({length: 3000}, (_, i) => `${JSON.stringify({id: `ex-${i}`, text: text(i), labels: {tier: i % 3}})}\n`).join(''))
    const csvRow = (i: number, note: string) => `r${i},"${note}, with a comma",${i * 7}\r\n`
    fs.writeFileSync(path.join(dir, CSV), `key,note,value\r\n${Array.from({length: 2000}, (_, i) => csvRow(i, text(i))).join('')}`)
    assertExit(dsv(dir, 'commit', '-m', 'v1', '--quiet'), 0)
    assertExit(dsv(dir, 'tag', 'v1', '--quiet'), 0)
    const v1 = treeHashes(dir)
    const edits = editJsonl(path.join(dir, JSONL), (rec, i) => (i % 600 === 5 ? null : i % 500 === 7 ? {...rec, labels: {tier: 9}} : rec), [{id: 'ex-new-1', text: 'a'}, {id: 'ex-new-2', text: 'b'}])
    assert.ok(edits.modified > 0 && edits.removed > 0 && edits.added === 2)
    const csv = fs.readFileSync(path.join(dir, CSV), 'utf8').replace('key,note,value\r\n', 'key,comment,value\r\n').replace(csvRow(1234, text(1234)), csvRow(1234, 'edited ""quoted"" note'))
    fs.writeFileSync(path.join(dir, CSV), csv)
    assertExit(dsv(dir, 'commit', '-m', 'v2', '--quiet'), 0)
    return {dir, v1, v2: treeHashes(dir)}
  }

  for (const [how, env] of [['on worker threads', {DSV_PARALLEL_MIN_BYTES: '0'}], ['in the main thread', {}]] as const) {
    it(`copies the unchanged examples from the working files and restores both versions byte for byte (${how})`, () => {
      const {dir, v1, v2} = twoVersions()
      const run = (...args: string[]) => {
        const r = dsvEnv(dir, cleanEnv(env), ...args, '--json')
        assertExit(r, 0)
        return r.json<{written: number; copiedBytes: number}>()
      }
      const total = [JSONL, CSV].reduce((s, f) => s + fs.statSync(path.join(dir, f)).size, 0)
      const back = run('checkout', 'v1')
      assert.equal(back.written, 2)
      assert.ok(back.copiedBytes > total / 2 && back.copiedBytes < total, `copied ${back.copiedBytes} of ${total} bytes`)
      assertTreeHashes(dir, v1)
      assert.equal(dsvJson<StatusDoc>(dir, 0, 'status').clean, true)
      const forward = run('checkout', 'main')
      assert.ok(forward.copiedBytes > total / 2, `copied ${forward.copiedBytes} of ${total} bytes`)
      assertTreeHashes(dir, v2)
    })
  }

  it('rewrites from the store alone a file the stat cache cannot vouch for (edited, then --force)', () => {
    const {dir, v1} = twoVersions()
    // same size, different bytes: only the stat cache's mtime/ctime tell it apart
    const file = path.join(dir, JSONL)
    const bytes = fs.readFileSync(file)
    bytes[10] = bytes[10] === 0x61 ? 0x62 : 0x61
    fs.writeFileSync(file, bytes)
    const r = dsvJson<{copiedBytes: number}>(dir, 0, 'checkout', 'v1', '--force')
    assert.ok(r.copiedBytes < fs.statSync(path.join(dir, CSV)).size, 'nothing copied from the edited file')
    assertTreeHashes(dir, v1)
  })

  it('--to DIR copies nothing and writes the version in full', () => {
    const {dir, v1} = twoVersions()
    const to = path.join(tmp2.make(), 'out')
    const r = dsvJson<{copiedBytes: number}>(dir, 0, 'checkout', 'v1', '--to', to)
    assert.equal(r.copiedBytes, 0)
    assertTreeHashes(to, v1, [])
  })
})

describe('a version committed with a nested repository\'s files (before .git/.dsv were skipped at every depth)', () => {
  it('status is clean, and checkout neither overwrites nor removes the nested repository\'s files', async () => {
    const {Repository} = await import('../src/index.js')
    const {flattenTree, buildTree} = await import('../src/core/tree-ops.js')
    const {recordCommit} = await import('../src/core/ops/commit.js')
    const {headTree} = await import('../src/core/ops/history.js')
    const d = tmp.make()
    assertExit(dsv(d, 'init', '--quiet'), 0)
    fs.writeFileSync(path.join(d, 'good.jsonl'), '{"id":1}\n')
    fs.writeFileSync(path.join(d, 'notes.txt'), 'committed notes\n')
    const v1 = dsvJson<{id: string}>(d, 0, 'commit', '-m', 'v1').id
    // v2 as an earlier dsv would have committed it: with vendor/.git/HEAD in the tree
    const repo = await Repository.open(d)
    const files = await flattenTree(repo.store, await headTree(repo))
    files.set('vendor/.git/HEAD', {...files.get('notes.txt')!, name: 'vendor/.git/HEAD'})
    const v2 = (await recordCommit(repo, await buildTree(repo.store, files), 'v2 with a nested .git', {name: 'T', email: 't@x'}, false)).id
    await repo.close()
    const nested = path.join(d, 'vendor', '.git', 'HEAD')
    fs.mkdirSync(path.dirname(nested), {recursive: true})
    fs.writeFileSync(nested, 'ref: refs/heads/their-branch\n')
    assert.equal(dsvJson<StatusDoc>(d, 0, 'status').clean, true)
    assertExit(dsv(d, 'checkout', v1, '--quiet'), 0)
    assertExit(dsv(d, 'checkout', 'main', '--quiet'), 0)
    assert.equal(dsvJson(d, 0, 'show').id, v2)
    assert.equal(fs.readFileSync(nested, 'utf8'), 'ref: refs/heads/their-branch\n')
    assert.equal(dsvJson<StatusDoc>(d, 0, 'status').clean, true)
  })
})

describe('checkout --force and files the stat cache cannot vouch for', () => {
  const tmp3 = new TempDirs()
  after(() => tmp3.cleanup())

  const twoCommits = () => {
    const {dir} = makeRepoFrom(tmp3, [], {commit: false})
    fs.writeFileSync(path.join(dir, 'a.txt'), 'a\n')
    assertExit(dsv(dir, 'commit', '-m', 'one', '--quiet'), 0)
    fs.mkdirSync(path.join(dir, 'sub'))
    fs.writeFileSync(path.join(dir, 'sub', 'b.jsonl'), '{"id":1}\n')
    assertExit(dsv(dir, 'commit', '-m', 'two', '--quiet'), 0)
    return dir
  }

  it('removes a tracked file the target lacks although it was touched, edited, or the repository copied', () => {
    const touched = twoCommits()
    const future = new Date(Date.now() + 5000)
    fs.utimesSync(path.join(touched, 'sub', 'b.jsonl'), future, future)
    const edited = twoCommits()
    fs.appendFileSync(path.join(edited, 'sub', 'b.jsonl'), '{"id":2}\n')
    const copied = path.join(tmp3.make(), 'copy')
    fs.cpSync(twoCommits(), copied, {recursive: true})
    for (const dir of [touched, edited, copied]) {
      const r = dsvJson<{removed: number}>(dir, 0, 'checkout', 'HEAD~1', '--force')
      assert.equal(r.removed, 1, dir)
      assert.deepEqual(listFiles(dir), ['a.txt'], dir)
      assert.equal(dsvJson<StatusDoc>(dir, 0, 'status').clean, true, dir)
    }
  })

  it('never deletes through a symlinked folder, nor a folder of untracked files at a tracked file\'s path', () => {
    const linked = twoCommits()
    const elsewhere = tmp3.make()
    fs.writeFileSync(path.join(elsewhere, 'b.jsonl'), 'shared data\n')
    fs.rmSync(path.join(linked, 'sub'), {recursive: true})
    fs.symlinkSync(elsewhere, path.join(linked, 'sub'))
    assertExit(dsv(linked, 'checkout', 'HEAD~1', '--force', '--quiet'), 0)
    assert.equal(fs.readFileSync(path.join(elsewhere, 'b.jsonl'), 'utf8'), 'shared data\n')
    const folder = twoCommits()
    fs.rmSync(path.join(folder, 'sub', 'b.jsonl'))
    fs.mkdirSync(path.join(folder, 'sub', 'b.jsonl'))
    fs.writeFileSync(path.join(folder, 'sub', 'b.jsonl', 'notes.txt'), 'untracked\n')
    assertExit(dsv(folder, 'checkout', 'HEAD~1', '--force', '--quiet'), 0)
    assert.equal(fs.readFileSync(path.join(folder, 'sub', 'b.jsonl', 'notes.txt'), 'utf8'), 'untracked\n')
  })

  it('rollback --force leaves exactly the target version too', () => {
    const dir = twoCommits()
    fs.appendFileSync(path.join(dir, 'sub', 'b.jsonl'), '{"id":2}\n')
    assertExit(dsv(dir, 'rollback', 'HEAD~1', '--force', '--quiet'), 0)
    assert.deepEqual(listFiles(dir), ['a.txt'])
    assert.equal(dsvJson<StatusDoc>(dir, 0, 'status').clean, true)
  })

  it('`checkout HEAD --force` discards changes and stays on the branch, as git does; HEAD~0 detaches', () => {
    const dir = twoCommits()
    fs.appendFileSync(path.join(dir, 'sub', 'b.jsonl'), '{"id":2}\n')
    for (const rev of ['HEAD', '@']) {
      const r = dsvJson<{branch: string | null; detached: boolean}>(dir, 0, 'checkout', rev, '--force')
      assert.deepEqual([r.branch, r.detached], ['main', false], rev)
      assert.equal(dsvJson<StatusDoc>(dir, 0, 'status').branch, 'main')
    }
    assert.equal(fs.readFileSync(path.join(dir, 'sub', 'b.jsonl'), 'utf8'), '{"id":1}\n')
    assert.equal(dsvJson<{detached: boolean}>(dir, 0, 'checkout', 'HEAD~0').detached, true)
  })

  it('--to refuses the store, the working directory and folders in it that would be versioned', () => {
    const dir = twoCommits()
    for (const to of ['.dsv', path.join('.dsv', 'out'), '.', 'inner']) {
      assertJsonError(dsv(dir, 'checkout', 'HEAD', '--to', to, '--force', '--json'), 2, 'E_USAGE')
    }
    assert.ok(!fs.existsSync(path.join(dir, 'inner')))
    assert.equal(dsvJson<StatusDoc>(dir, 0, 'status').clean, true)
    fs.writeFileSync(path.join(dir, '.dsvignore'), 'exports/\n')
    assertExit(dsv(dir, 'commit', '-m', 'ignore exports', '--quiet'), 0)
    assertExit(dsv(dir, 'checkout', 'HEAD~1', '--to', path.join('exports', 'v1'), '--quiet'), 0)
    assert.deepEqual(listFiles(path.join(dir, 'exports', 'v1')), ['a.txt', 'sub/b.jsonl'])
    assert.equal(dsvJson<StatusDoc>(dir, 0, 'status').clean, true)
  })
})
