/**
 * End to end: repositories damaged by hand or by accident (broken refs, a damaged or lost
 * index, a HEAD pointing anywhere, `.dsv` that is not a store) and names that must
 * round-trip: every command reports the damage clearly (exit 8, or 3 for no store), fsck
 * lists all of it, and what can be repaired from the CLI can be.
 */
import assert from 'node:assert/strict'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {TempDirs, assertExit, assertJsonError, dsv, dsvAsync, dsvJson, makeRepoFromAsync, type LogEntry} from './helpers.js'

const tmp = new TempDirs()
after(() => tmp.cleanup())

interface Fsck {
  ok: boolean
  objects: number
  problems: Array<{kind: string; oid?: string; ref?: string; message: string}>
  warnings?: Array<{ref?: string; message: string}>
}

/** A fresh repository with two commits (each test damages its own). */
async function twoCommits(): Promise<{dir: string; first: string; second: string}> {
  const {dir, first} = await makeRepoFromAsync(tmp, [], {files: {'data/a.jsonl': '{"id":"a1"}\n{"id":"a2"}\n'}})
  fs.appendFileSync(path.join(dir, 'data/a.jsonl'), '{"id":"a3"}\n')
  const r = await dsvAsync(dir, 'commit', '-m', 'second', '--json')
  assertExit(r, 0)
  return {dir, first: first!, second: r.json<{id: string}>().id}
}

describe('tag names that creation accepts are revisions too', () => {
  for (const name of ['vé', 'データ', 'a,b', 'x=y'])
    it(`'${name}': show, log, checkout and refs/tags/NAME resolve it`, async () => {
      const {dir, first} = await twoCommits()
      assertExit(dsv(dir, 'tag', name, 'HEAD~1', '--quiet'), 0)
      assert.equal(dsvJson<{id: string}>(dir, 0, 'show', name).id, first)
      assert.equal(dsvJson<{id: string}>(dir, 0, 'show', `refs/tags/${name}`).id, first)
      assert.equal(dsvJson<{id: string}>(dir, 0, 'show', `${name}~0`).id, first)
      assert.deepEqual(dsvJson<LogEntry[]>(dir, 0, 'log', name).map((e) => e.id), [first])
      assert.equal(dsvJson<{head: string}>(dir, 0, 'checkout', name).head, first)
    })

  it('tags/NAME and heads/NAME are short for refs/tags/NAME and refs/heads/NAME (as in git)', async () => {
    const {dir, first, second} = await twoCommits()
    assertExit(dsv(dir, 'tag', 'v1', 'HEAD~1', '--quiet'), 0)
    assert.equal(dsvJson<{id: string}>(dir, 0, 'show', 'tags/v1').id, first)
    assert.equal(dsvJson<{id: string}>(dir, 0, 'show', 'heads/main').id, second)
    assert.equal(dsvJson<{id: string}>(dir, 0, 'show', 'heads/main^').id, first)
  })

  it('a name no ref can have is still an unknown revision (exit 4), never a path outside refs', async () => {
    const {dir} = await twoCommits()
    for (const rev of ['../HEAD', 'refs/../HEAD', 'tags/../../format', 'a b'])
      assertJsonError(dsv(dir, 'show', rev, '--json'), 4, 'E_BAD_REVISION')
  })
})

describe('damaged refs: reported each once, ignored with a warning elsewhere, deletable', () => {
  const damage = (dir: string) => {
    fs.writeFileSync(path.join(dir, '.dsv/refs/tags/bad'), `${'0'.repeat(63)}Z\n`)
    fs.writeFileSync(path.join(dir, '.dsv/refs/tags/zz'), `${'0'.repeat(63)}1\n`)
  }

  it('fsck reports the damaged ref and the ref to a missing object, and checks the good refs', async () => {
    const {dir} = await twoCommits()
    const healthy = dsvJson<Fsck>(dir, 0, 'fsck')
    damage(dir)
    const r = dsv(dir, 'fsck', '--json')
    assertExit(r, 8)
    const doc = r.json<Fsck>()
    assert.equal(doc.ok, false)
    assert.deepEqual(doc.problems.map((p) => p.ref).sort(), ['refs/tags/bad', 'refs/tags/zz'], JSON.stringify(doc.problems))
    assert.equal(doc.objects, healthy.objects, 'everything reachable from the good refs is still checked')
    const human = dsv(dir, 'fsck')
    assertExit(human, 8)
    assert.match(human.stdout, /^2 problems found/m)
    assert.match(human.stderr, /ref refs\/tags\/bad: .*damaged/)
    assert.match(human.stderr, /ref refs\/tags\/zz: /)
  })

  it('"1 problem found", in the singular', async () => {
    const {dir} = await twoCommits()
    fs.writeFileSync(path.join(dir, '.dsv/refs/tags/bad'), 'garbage\n')
    const r = dsv(dir, 'fsck')
    assertExit(r, 8)
    assert.match(r.stdout, /^1 problem found \(/m)
  })

  it('log and tag carry on without the damaged ref, warning on stderr', async () => {
    const {dir, first, second} = await twoCommits()
    assertExit(dsv(dir, 'tag', 'v1', 'HEAD~1', '--quiet'), 0)
    damage(dir)
    const log = dsv(dir, 'log', '--json')
    assertExit(log, 0)
    assert.deepEqual(log.json<LogEntry[]>().map((e) => e.id), [second, first])
    assert.match(log.stderr, /warning: ignoring broken ref refs\/tags\/bad/)
    const tags = dsv(dir, 'tag', '--json')
    assertExit(tags, 0)
    assert.deepEqual(tags.json<Array<{name: string}>>().map((t) => t.name), ['v1'])
    assert.match(tags.stderr, /warning: ignoring broken ref refs\/tags\/bad/)
    assert.match(tags.stderr, /warning: ignoring broken ref refs\/tags\/zz/)
    assertExit(dsv(dir, 'tag'), 0)
  })

  it('tag -d deletes a damaged tag (the repair), after which fsck passes', async () => {
    const {dir} = await twoCommits()
    damage(dir)
    const del = dsv(dir, 'tag', '-d', 'bad', '--json')
    assertExit(del, 0)
    assert.deepEqual(del.json(), {deleted: 'bad', target: null})
    assert.ok(!fs.existsSync(path.join(dir, '.dsv/refs/tags/bad')))
    const human = dsv(dir, 'tag', '-d', 'zz')
    assertExit(human, 0)
    assert.match(human.stdout, /Deleted tag 'zz'/)
    assertExit(dsv(dir, 'fsck', '--quiet'), 0)
  })

  it('naming a damaged ref is still an error (exit 8, E_CORRUPT)', async () => {
    const {dir} = await twoCommits()
    damage(dir)
    assertJsonError(dsv(dir, 'show', 'bad', '--json'), 8, 'E_CORRUPT')
  })
})

describe('a damaged or lost index (.dsv/index)', () => {
  const removeTables = (dir: string) => {
    const idx = path.join(dir, '.dsv/index')
    const tables = fs.readdirSync(idx).filter((f) => f.endsWith('.ldb'))
    assert.ok(tables.length > 0, 'LevelDB wrote a table file')
    for (const f of tables) fs.rmSync(path.join(idx, f))
  }

  it('every command, fsck included, fails with E_CORRUPT (exit 8) naming .dsv/index and the repair', async () => {
    const {dir} = await twoCommits()
    removeTables(dir)
    for (const cmd of [['fsck'], ['status'], ['log'], ['show', 'HEAD'], ['tag'], ['commit', '--allow-empty', '-m', 'x']]) {
      const err = assertJsonError(dsv(dir, ...cmd, '--json'), 8, 'E_CORRUPT')
      assert.match(err.message, /\.dsv\/index/, err.message)
      assert.match(err.hint, /dsv fsck --reindex/)
      assert.equal(err.stack, undefined)
    }
    const human = dsv(dir, 'status')
    assertExit(human, 8)
    assert.match(human.stderr, /^error: .*\.dsv\/index.*\nhint: .*dsv fsck --reindex/m)
  })

  it('fsck --reindex rebuilds it from the packs: history, tags and fsck come back', async () => {
    const {dir, first, second} = await twoCommits()
    assertExit(dsv(dir, 'tag', 'v1', 'HEAD~1', '-m', 'annotated', '--quiet'), 0)
    const before = dsvJson<Fsck>(dir, 0, 'fsck')
    removeTables(dir)
    const r = dsv(dir, 'fsck', '--reindex', '--json')
    assertExit(r, 0)
    const doc = r.json<Fsck & {reindexed: {packs: number; objects: number}}>()
    assert.equal(doc.ok, true)
    assert.equal(doc.objects, before.objects)
    assert.ok(doc.reindexed.objects >= before.objects, JSON.stringify(doc.reindexed))
    assert.deepEqual(dsvJson<LogEntry[]>(dir, 0, 'log').map((e) => e.id), [second, first])
    assert.equal(dsvJson<{id: string}>(dir, 0, 'show', 'v1').id, first)
    assert.equal(dsvJson<{clean: boolean}>(dir, 0, 'status').clean, true)
    assert.deepEqual(fs.readdirSync(path.join(dir, '.dsv')).filter((f) => f.startsWith('index')), ['index'], 'no leftovers')
    // and the repository works on: a new commit, then a clean fsck
    fs.appendFileSync(path.join(dir, 'data/a.jsonl'), '{"id":"a4"}\n')
    assertExit(dsv(dir, 'commit', '-m', 'third', '--quiet'), 0)
    assertExit(dsv(dir, 'fsck', '--quiet'), 0)
  })

  it('--reindex waits for a reader holding the index open, then replaces it', async () => {
    const {dir, second} = await twoCommits()
    const {IndexDb} = await import('../src/core/index-db.js')
    const reader = await IndexDb.open(path.join(dir, '.dsv/index'))
    let done = false
    const run = dsvAsync(dir, 'fsck', '--reindex', '--json').then((r) => ((done = true), r))
    await new Promise((resolve) => setTimeout(resolve, 2000))
    assert.equal(done, false, 'reindex did not wait for the reader')
    await reader.close()
    const r = await run
    assertExit(r, 0)
    assert.equal(r.json<{ok: boolean}>().ok, true)
    assert.equal(dsvJson<LogEntry[]>(dir, 0, 'log')[0].id, second)
  })

  it('a deleted index: a clear error (not "missing" objects), and --reindex brings it back', async () => {
    const {dir, second} = await twoCommits()
    fs.rmSync(path.join(dir, '.dsv/index'), {recursive: true})
    const err = assertJsonError(dsv(dir, 'fsck', '--json'), 8, 'E_CORRUPT')
    assert.match(err.message, /\.dsv\/index/)
    assert.doesNotMatch(err.message, /missing from the store/)
    const r = dsv(dir, 'fsck', '--reindex')
    assertExit(r, 0)
    assert.match(r.stdout, /reindexed \d+ objects from \d+ packs?/i)
    assert.equal(dsvJson<LogEntry[]>(dir, 0, 'log')[0].id, second)
  })

  it('an object the index lacks is reported as unknown to the index, with the hint', async () => {
    const {dir, second} = await twoCommits()
    // a commit id no pack holds: fsck cannot tell lost objects from a lost index entry
    fs.writeFileSync(path.join(dir, '.dsv/refs/tags/ghost'), `${'ab'.repeat(32)}\n`)
    const r = dsv(dir, 'fsck')
    assertExit(r, 8)
    assert.match(r.stderr, /not in the index/)
    assert.match(r.stderr, /dsv fsck --reindex/)
    assert.ok(second)
  })
})

describe('HEAD must name a branch or a commit', () => {
  for (const [what, text] of [
    ['a path outside .dsv', 'ref: ../../etc/passwd\n'],
    ['a tag', 'ref: refs/tags/v1\n'],
    ['a bad branch name', 'ref: refs/heads/a..b\n'],
    ['garbage', 'nonsense\n'],
  ] as const)
    it(`HEAD holding ${what}: every command fails with E_CORRUPT (exit 8), fsck reports it, nothing is written`, async () => {
      const {dir, first} = await twoCommits()
      assertExit(dsv(dir, 'tag', 'v1', 'HEAD~1', '--quiet'), 0)
      fs.writeFileSync(path.join(dir, '.dsv/HEAD'), text)
      const fsck = dsv(dir, 'fsck', '--json')
      assertExit(fsck, 8)
      assert.ok(fsck.json<Fsck>().problems.some((p) => p.ref === 'HEAD' && /HEAD is damaged/.test(p.message)), fsck.stdout)
      for (const cmd of [['status'], ['log'], ['commit', '--allow-empty', '-m', 'x'], ['checkout', 'v1']]) {
        const err = assertJsonError(dsv(dir, ...cmd, '--json'), 8, 'E_CORRUPT')
        assert.match(err.message, /HEAD is damaged/)
      }
      assert.equal(fs.readFileSync(path.join(dir, '.dsv/refs/tags/v1'), 'utf8').trim(), first, 'the tag did not move')
      assert.ok(!fs.existsSync(path.join(dir, 'etc')) && !fs.existsSync(path.join(dir, '.dsv/../etc')), 'nothing written outside .dsv')
    })

  it('fsck warns (still ok) when HEAD names a branch that does not exist while commits do', async () => {
    const {dir} = await twoCommits()
    assertExit(dsv(dir, 'tag', 'v1', '--quiet'), 0)
    fs.rmSync(path.join(dir, '.dsv/refs/heads/main'))
    const r = dsv(dir, 'fsck', '--json')
    assertExit(r, 0)
    const doc = r.json<Fsck>()
    assert.equal(doc.ok, true)
    assert.deepEqual(doc.warnings?.map((w) => w.ref), ['HEAD'])
    assert.match(doc.warnings![0].message, /refs\/heads\/main.*does not exist/)
    const human = dsv(dir, 'fsck')
    assertExit(human, 0)
    assert.match(human.stderr, /^warning: HEAD: .*refs\/heads\/main/m)
    // a new repository has no commits: no warning
    const fresh = tmp.make()
    assertExit(dsv(fresh, 'init', '--quiet'), 0)
    assert.deepEqual(dsvJson<Fsck>(fresh, 0, 'fsck').warnings, [])
  })
})

describe('init where no store can be made, and .dsv that is not a store', () => {
  it('init on a file, or below one: exit 2, E_USAGE naming it', () => {
    const dir = tmp.make()
    fs.writeFileSync(path.join(dir, 'afile'), 'x\n')
    for (const target of ['afile', 'afile/sub']) {
      const err = assertJsonError(dsv(dir, 'init', target, '--json'), 2, 'E_USAGE')
      assert.match(err.message, /afile/)
      assert.match(err.message, /not a folder/)
    }
    assert.equal(fs.readFileSync(path.join(dir, 'afile'), 'utf8'), 'x\n')
    assert.deepEqual(fs.readdirSync(dir), ['afile'], 'nothing left behind')
  })

  it('an empty .dsv folder: other commands say it is not a store; init makes the store in it', () => {
    const dir = tmp.make()
    fs.mkdirSync(path.join(dir, '.dsv'))
    const err = assertJsonError(dsv(dir, 'status', '--json'), 3, 'E_NOT_A_REPO')
    assert.match(err.message, /\.dsv exists but is not a dsv repository/)
    assert.match(err.hint, /dsv init/)
    assertExit(dsv(dir, 'init', '--quiet'), 0)
    assertExit(dsv(dir, 'status', '--quiet'), 0)
    assertJsonError(dsv(dir, 'init', '--json'), 3, 'E_ALREADY_INITIALISED')
  })

  it('a .dsv file, or a .dsv folder holding something else: init refuses, other commands agree', () => {
    const dir = tmp.make()
    fs.writeFileSync(path.join(dir, '.dsv'), 'not a store\n')
    let err = assertJsonError(dsv(dir, 'init', '--json'), 3, 'E_NOT_A_REPO')
    assert.match(err.message, /\.dsv is a file/)
    err = assertJsonError(dsv(dir, 'status', '--json'), 3, 'E_NOT_A_REPO')
    assert.match(err.message, /\.dsv is a file/)
    const other = tmp.make()
    fs.mkdirSync(path.join(other, '.dsv'))
    fs.writeFileSync(path.join(other, '.dsv/notes.txt'), 'mine\n')
    err = assertJsonError(dsv(other, 'init', '--json'), 3, 'E_NOT_A_REPO')
    assert.match(err.message, /\.dsv exists but is not a dsv repository/)
    assert.equal(fs.readFileSync(path.join(other, '.dsv/notes.txt'), 'utf8'), 'mine\n')
    assert.match(assertJsonError(dsv(other, 'log', '--json'), 3, 'E_NOT_A_REPO').message, /\.dsv exists but is not a dsv repository/)
  })
})

describe('fsck messages', () => {
  it('name a damaged object once', async () => {
    const {dir} = await twoCommits()
    // the first commit's pack (the oldest), reached by the walk from the second commit
    // rather than as a root: without the reflog only the refs are roots
    fs.rmSync(path.join(dir, '.dsv/logs'), {recursive: true})
    const packs = path.join(dir, '.dsv/packs')
    const oldest = fs.readdirSync(packs).map((f) => path.join(packs, f)).sort((a, b) => fs.statSync(a).mtimeMs - fs.statSync(b).mtimeMs)[0]
    const bytes = fs.readFileSync(oldest)
    bytes[bytes.length - 3] ^= 0xff
    fs.writeFileSync(oldest, bytes)
    const r = dsv(dir, 'fsck')
    assertExit(r, 8)
    assert.match(r.stderr, /object [0-9a-f]{64}: /)
    for (const line of r.stderr.trim().split('\n')) assert.doesNotMatch(line, /object ([0-9a-f]{64}): object \1/, line)
  })
})

describe('names that resolve the way they were created', () => {
  it('a tag name of 198 characters resolves; show of an annotated tag named vé prints the tag; checkout HEAD with no commits says so', async () => {
    const {dir} = await makeRepoFromAsync(tmp, [], {commit: false})
    fs.writeFileSync(path.join(dir, 'a.jsonl'), '{"id":1}\n')
    const empty = dsv(dir, 'checkout', 'HEAD', '--json')
    assertJsonError(empty, 4, 'E_BAD_REVISION')
    assert.match(empty.json<{error: {message: string}}>().error.message, /no commits yet/)
    const id = dsvJson<{id: string}>(dir, 0, 'commit', '-m', 'one').id
    const long = 'v'.repeat(198)
    assertExit(dsv(dir, 'tag', long, '--quiet'), 0)
    assert.equal(dsvJson<{id: string}>(dir, 0, 'show', long).id, id)
    assertExit(dsv(dir, 'tag', 'vé', '-m', 'release é', '--quiet'), 0)
    const shown = dsvJson<{tag?: {name: string; message: string}}>(dir, 0, 'show', 'vé')
    assert.deepEqual([shown.tag?.name, shown.tag?.message], ['vé', 'release é'])
    assert.deepEqual(dsvJson<{tag?: unknown}>(dir, 0, 'show', 'tags/vé').tag !== undefined, true)
  })
})

describe('lock files left empty by a process killed while creating them', () => {
  const longAgo = new Date(Date.now() - 60_000)

  it('an empty repository lock or ref lock older than a few seconds is taken over; a live holder still blocks, naming the file to delete', async () => {
    const {dir} = await twoCommits()
    const repoLock = path.join(dir, '.dsv', 'lock')
    const refLock = path.join(dir, '.dsv', 'refs', 'heads', 'main.lock')
    for (const lock of [repoLock, refLock]) {
      fs.writeFileSync(lock, '')
      fs.utimesSync(lock, longAgo, longAgo)
    }
    assertExit(dsv(dir, 'status', '--quiet'), 0)
    fs.appendFileSync(path.join(dir, 'data/a.jsonl'), '{"id":"a4"}\n')
    assertExit(dsv(dir, 'commit', '-m', 'third', '--quiet'), 0)
    assert.equal(dsvJson<LogEntry[]>(dir, 0, 'log').length, 3)
    assert.ok(!fs.existsSync(repoLock) && !fs.existsSync(refLock))

    // a fresh empty lock may be one being written this moment: it still blocks
    fs.writeFileSync(repoLock, '')
    assertJsonError(dsv(dir, 'tag', 'y', '--json'), 7, 'E_LOCKED')
    fs.rmSync(repoLock)
    // a half-written pack nobody touched for a while is removed; a fresh one (a live writer's) is kept
    const packs = path.join(dir, '.dsv', 'packs')
    fs.writeFileSync(path.join(packs, '0123456789abcdef.pack.tmp'), 'old')
    fs.utimesSync(path.join(packs, '0123456789abcdef.pack.tmp'), new Date(Date.now() - 11 * 60_000), new Date(Date.now() - 11 * 60_000))
    fs.writeFileSync(path.join(packs, 'fedcba9876543210.pack.tmp'), 'fresh')
    assertExit(dsv(dir, 'status', '--quiet'), 0)
    assert.deepEqual(fs.readdirSync(packs).filter((n) => n.endsWith('.tmp')), ['fedcba9876543210.pack.tmp'])
    fs.rmSync(path.join(packs, 'fedcba9876543210.pack.tmp'))

    // a lock whose holder is alive (this test's own process) is respected
    fs.writeFileSync(repoLock, `${process.pid} ${os.hostname()}\n`)
    try {
      const err = assertJsonError(dsv(dir, 'tag', 'x', '--json'), 7, 'E_LOCKED')
      assert.match(err.hint, /delete .*\.dsv[/\\]lock/)
    } finally {
      fs.rmSync(repoLock)
    }
  })
})

describe('bit rot in a pack: fsck --reindex leaves the damaged objects out, and committing the data again repairs every version', () => {
  it('a flipped byte inside a stored example: fsck and checkout say so (exit 8); after --reindex and a commit of the original file, v1 checks out byte for byte and fsck passes', async () => {
    const {dir} = await makeRepoFromAsync(tmp, [], {commit: false})
    assertExit(dsv(dir, 'config', 'core.compression', '0', '--quiet'), 0) // blocks stored raw: the byte to flip can be found
    const original = Array.from({length: 200}, (_, i) => JSON.stringify({id: `k${i}`, text: `example number ${i} with some text`})).join('\n') + '\n'
    fs.writeFileSync(path.join(dir, 'a.jsonl'), original)
    fs.writeFileSync(path.join(dir, 'b.txt'), 'kept\n')
    const v1 = dsvJson<{id: string}>(dir, 0, 'commit', '-m', 'v1').id
    fs.rmSync(path.join(dir, 'a.jsonl'))
    assertExit(dsv(dir, 'commit', '-m', 'v2 without a.jsonl', '--quiet'), 0)

    const packs = path.join(dir, '.dsv', 'packs')
    const needle = Buffer.from('example number 57 with')
    const pack = fs.readdirSync(packs).map((n) => path.join(packs, n)).find((p) => fs.readFileSync(p).includes(needle))!
    const bytes = fs.readFileSync(pack)
    bytes[bytes.indexOf(needle) + 8] ^= 0x20 // "number" -> "Number"
    fs.writeFileSync(pack, bytes)

    const out = tmp.make('dsv-rot-')
    assertJsonError(dsv(dir, 'checkout', v1, '--to', path.join(out, 'before'), '--json'), 8, 'E_CORRUPT')
    // written beside the folder and renamed into place only when complete: nothing is left
    assert.deepEqual(fs.readdirSync(out), [])
    const f1 = dsv(dir, 'fsck')
    assertExit(f1, 8)
    assert.match(f1.stderr, /content does not match its SHA-256 id/)
    // the damaged leaf is named with the file and the commit that hold it: what to put back
    assert.match(f1.stderr, new RegExp(`object [0-9a-f]{64} \\(in a\\.jsonl, commit ${v1.slice(0, 12)}\\): content does not match`))
    assert.match(f1.stderr, /hint: `dsv fsck --reindex` leaves damaged objects out/)
    const damaged = (dsvJson<Fsck>(dir, 8, 'fsck').problems as Array<{path?: string; commit?: string}>).filter((p) => p.path)
    assert.deepEqual(damaged.map((p) => [p.path, p.commit]), [['a.jsonl', v1]])

    const r = dsv(dir, 'fsck', '--reindex', '--json')
    assertExit(r, 8)
    const doc = r.json<Fsck>()
    assert.equal(doc.problems.filter((p) => /is damaged \(its bytes do not match its id\): left out of the index/.test(p.message)).length, 1)

    fs.writeFileSync(path.join(dir, 'a.jsonl'), original)
    assertExit(dsv(dir, 'commit', '-m', 'a.jsonl back', '--quiet'), 0)
    assertExit(dsv(dir, 'checkout', v1, '--to', path.join(out, 'after'), '--quiet'), 0)
    assert.equal(fs.readFileSync(path.join(out, 'after', 'a.jsonl'), 'utf8'), original)
    const f2 = dsvJson<Fsck>(dir, 0, 'fsck')
    assert.equal(f2.ok, true)
  })
})
