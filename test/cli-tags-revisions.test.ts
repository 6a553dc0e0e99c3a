/**
 * End to end: tags (lightweight, annotated, list, --force, -d, bad names) and revision
 * syntax (HEAD~N, HEAD^, names, full and abbreviated ids, unknown and ambiguous ones).
 */
import assert from 'node:assert/strict'
import fs from 'node:fs'
import path from 'node:path'
import {
  TempDirs,
  assertExit,
  assertJsonError,
  dsv,
  dsvAsync,
  dsvJson,
  editJsonl,
  makeRepoFromAsync,
  prepareAll,
  prepared,
  repoRoot,
  type LogEntry,
  type RunResult,
} from './helpers.js'

const GOLDEN = 'golden/golden_examples.jsonl'

const tmp = new TempDirs()
after(() => tmp.cleanup())

/** A repository with three commits c[0] (oldest) .. c[2] (HEAD, main). */
async function threeCommits(): Promise<{dir: string; c: string[]}> {
  const {dir, first} = await makeRepoFromAsync(tmp, [GOLDEN], {commit: 'one'})
  const c = [first!]
  for (const [i, id] of ['ex-0001', 'ex-0002'].entries()) {
    editJsonl(path.join(dir, GOLDEN), (rec) => (rec.id === id ? {...rec, quality_score: 0.5} : undefined))
    const r = await dsvAsync(dir, 'commit', '-m', ['two', 'three'][i], '--json')
    assertExit(r, 0)
    c.push(r.json().id)
  }
  return {dir, c}
}

// both describes' repositories are made at once, in the background
const repos = {
  tags: prepared(threeCommits),
  revisions: prepared(async () => {
    const {dir, c} = await threeCommits()
    assertExit(await dsvAsync(dir, 'tag', 'light', c[0], '--quiet'), 0)
    assertExit(await dsvAsync(dir, 'tag', 'annotated', c[1], '-m', 'an annotated tag', '--quiet'), 0)
    return {dir, c}
  }),
}
prepareAll(repos)

describe('dsv tag', () => {
  let dir: string
  let c: string[]

  before(async () => {
    ;({dir, c} = await repos.tags.get())
  })

  it('creates a lightweight tag on a revision', () => {
    const t = dsvJson(dir, 0, 'tag', 'v1', 'HEAD~2')
    assert.equal(t.name, 'v1')
    assert.equal(t.target, c[0])
    assert.equal(t.message ?? null, null)
    assert.equal(fs.readFileSync(path.join(dir, '.dsv/refs/tags/v1'), 'utf8').trim(), c[0])
  })

  it('creates an annotated tag with -m', () => {
    const t = dsvJson(dir, 0, 'tag', 'v2', 'HEAD~1', '-m', 'release for training run 42')
    assert.equal(t.name, 'v2')
    assert.equal(t.target, c[1])
    assert.equal(t.message, 'release for training run 42')
    // the ref names a tag object, not the commit
    const ref = fs.readFileSync(path.join(dir, '.dsv/refs/tags/v2'), 'utf8').trim()
    assert.match(ref, /^[0-9a-f]{64}$/)
    assert.notEqual(ref, c[1])
  })

  it('lists tags with their targets and messages (--json and human), and log decorates them', async () => {
    const [list, human, log] = await Promise.all([dsvAsync(dir, 'tag', '--json'), dsvAsync(dir, 'tag'), dsvAsync(dir, 'log', '--json')])
    assertExit(list, 0)
    const tags = list.json<Array<{name: string; target: string; message: string | null}>>()
    assert.deepEqual(tags.map((t) => [t.name, t.target, t.message]), [['v1', c[0], null], ['v2', c[1], 'release for training run 42']])
    assertExit(human, 0)
    const lines = human.stdout.trimEnd().split('\n')
    assert.equal(lines.length, 2)
    assert.match(lines[0], new RegExp(`^v1 +${c[0].slice(0, 12)}$`))
    assert.match(lines[1], new RegExp(`^v2 +${c[1].slice(0, 12)}  release for training run 42$`))
    assert.deepEqual(log.json<LogEntry[]>().map((e) => e.tags), [[], ['v2'], ['v1']])
  })

  it('refuses to move an existing tag without --force (exit 6, E_TAG_EXISTS)', () => {
    const err = assertJsonError(dsv(dir, 'tag', 'v1', 'HEAD', '--json'), 6, 'E_TAG_EXISTS')
    assert.match(err.message, /v1/)
    assert.equal(fs.readFileSync(path.join(dir, '.dsv/refs/tags/v1'), 'utf8').trim(), c[0])
  })

  it('moves an existing tag with --force', () => {
    const t = dsvJson(dir, 0, 'tag', 'v1', 'HEAD', '--force')
    assert.equal(t.target, c[2])
    const tags = dsvJson<Array<{name: string; target: string}>>(dir, 0, 'tag')
    assert.deepEqual(tags.map((x) => [x.name, x.target]), [['v1', c[2]], ['v2', c[1]]])
  })

  it('deletes a tag with -d; the version it named stays', () => {
    const d = dsvJson(dir, 0, 'tag', '-d', 'v2')
    assert.equal(d.deleted, 'v2')
    assert.equal(fs.existsSync(path.join(dir, '.dsv/refs/tags/v2')), false)
    assert.deepEqual(dsvJson<Array<{name: string}>>(dir, 0, 'tag').map((t) => t.name), ['v1'])
    assertJsonError(dsv(dir, 'show', 'v2', '--json'), 4, 'E_BAD_REVISION')
    assert.equal(dsvJson(dir, 0, 'show', c[1]).id, c[1])
  })

  it('deleting a tag that does not exist fails with exit 4', () => {
    const err = assertJsonError(dsv(dir, 'tag', '-d', 'no-such-tag', '--json'), 4, 'E_BAD_REVISION')
    assert.match(err.message, /no-such-tag/)
    assert.deepEqual(fs.readdirSync(path.join(dir, '.dsv/refs/tags')), ['v1'])
  })

  describe('bad tag names: exit 4, E_BAD_REF_NAME, no ref written', () => {
    const names = ['a..b', '/x', '-x', 'x.lock', 'a b', 'x@{1}']
    const runs = new Map<string, Promise<RunResult>>()
    before(() => {
      // '--' so that "-x" reaches dsv as a name rather than as an unknown flag
      for (const n of names) runs.set(n, dsvAsync(dir, 'tag', '--json', '--', n))
    })
    for (const n of names)
      it(`rejects ${JSON.stringify(n)}`, async () => {
        const err = assertJsonError(await runs.get(n)!, 4, 'E_BAD_REF_NAME')
        assert.equal(err.name, n)
      })
    it('and no ref was written for any of them', async () => {
      await Promise.all(runs.values())
      assert.deepEqual(fs.readdirSync(path.join(dir, '.dsv/refs/tags')), ['v1'])
    })
  })
})

describe('revisions', () => {
  let dir: string
  let c: string[]
  const runs = new Map<string, Promise<RunResult>>()
  const show = async (rev: string): Promise<RunResult> => {
    if (!runs.has(rev)) runs.set(rev, dsvAsync(dir, 'show', rev, '--json'))
    return runs.get(rev)!
  }
  const resolvesTo = async (rev: string, id: string) => {
    const r = await show(rev)
    assertExit(r, 0, `show ${rev}`)
    assert.equal(r.json().id, id, `${rev} resolves to ${id}`)
  }

  before(async () => {
    ;({dir, c} = await repos.revisions.get())
    // start every lookup at once (they are independent): the its below only await them
    for (const rev of ['HEAD', 'HEAD~1', 'HEAD~2', 'HEAD^', 'main~2', 'light', 'annotated~1',
      c[0], c[1].slice(0, 6), c[2].slice(0, 4).toUpperCase(), 'no-such-rev', 'HEAD~99', c[0].slice(0, 3)])
      void show(rev)
  })

  it('HEAD is the newest commit', () => resolvesTo('HEAD', c[2]))
  it('HEAD~1 is its parent', () => resolvesTo('HEAD~1', c[1]))
  it('HEAD~2 is the first commit', () => resolvesTo('HEAD~2', c[0]))
  it('HEAD^ is the parent', () => resolvesTo('HEAD^', c[1]))
  it('a branch name with ~N', () => resolvesTo('main~2', c[0]))
  it('a lightweight tag name', () => resolvesTo('light', c[0]))
  it('an annotated tag name (peeled to its commit) with ~N', () => resolvesTo('annotated~1', c[0]))
  it('a full commit id', () => resolvesTo(c[0], c[0]))
  it('a 6-character prefix', () => resolvesTo(c[1].slice(0, 6), c[1]))
  it('a 4-character upper-case prefix', () => resolvesTo(c[2].slice(0, 4).toUpperCase(), c[2]))

  it('an unknown name: exit 4, E_BAD_REVISION', async () => {
    const err = assertJsonError(await show('no-such-rev'), 4, 'E_BAD_REVISION')
    assert.equal(err.rev, 'no-such-rev')
  })

  it('HEAD~99 (past the first commit): exit 4, E_BAD_REVISION', async () => {
    const err = assertJsonError(await show('HEAD~99'), 4, 'E_BAD_REVISION')
    assert.equal(err.rev, 'HEAD~99')
  })

  it('a prefix shorter than 4 characters is not an id: exit 4', async () => {
    assertJsonError(await show(c[0].slice(0, 3)), 4, 'E_BAD_REVISION')
  })

  it('the id of an object that is not a commit (a tree) is refused: exit 4', async () => {
    const tree = (await show('HEAD')).json().tree
    assert.match(tree, /^[0-9a-f]{64}$/)
    assertJsonError(dsv(dir, 'checkout', tree, '--json'), 4, 'E_BAD_REVISION')
    assert.equal(fs.readFileSync(path.join(dir, '.dsv/HEAD'), 'utf8').trim(), 'ref: refs/heads/main')
  })

  it('an ambiguous prefix: exit 4, E_AMBIGUOUS_REVISION', async function () {
    // Two commits sharing their first 4 hex digits need ~300 commits on average (birthday
    // bound for 16^4). That many runs of the CLI would take minutes, so the history is made
    // through the library (dist/, what the CLI runs) and only the lookup goes through the CLI.
    this.timeout(120_000)
    const dist = path.join(repoRoot, 'dist', 'index.js')
    if (!fs.existsSync(dist)) this.skip()
    const {Repository} = (await import(dist)) as typeof import('../src/index.js')
    const amb = tmp.make()
    fs.writeFileSync(path.join(amb, 'data.jsonl'), '{"id":"a"}\n')
    await Repository.init(amb)
    const repo = await Repository.open(amb)
    const byPrefix = new Map<string, string>()
    let pair: [string, string] | null = null
    try {
      for (let i = 0; i < 5000 && !pair; i++) {
        const {id} = await repo.commit({message: `commit ${i}`, author: 'Lib Author <lib@example.com>', allowEmpty: true})
        const p = id.slice(0, 4)
        const other = byPrefix.get(p)
        if (other) pair = [other, id]
        else byPrefix.set(p, id)
      }
    } finally {
      await repo.close()
    }
    assert.ok(pair, 'found two commits sharing a 4-digit prefix')
    const prefix = pair[0].slice(0, 4)
    const err = assertJsonError(dsv(amb, 'show', prefix, '--json'), 4, 'E_AMBIGUOUS_REVISION')
    assert.deepEqual(err.candidates.map((x: {oid: string}) => x.oid).sort(), [...pair].sort())
    // one more digit than they share resolves
    let n = 4
    while (pair[0][n] === pair[1][n]) n++
    assert.equal(dsvJson(amb, 0, 'show', pair[1].slice(0, n + 1)).id, pair[1])
  })
})

describe('ref names that are folders of other refs', () => {
  it('a tag cannot be both a name and a folder of names (exit 4, E_BAD_REF_NAME); the folder is not a revision', async () => {
    const {dir} = await makeRepoFromAsync(tmp, [GOLDEN], {commit: 'one'})
    assertExit(dsv(dir, 'tag', 'rel/1.0', '--quiet'), 0)
    const err = assertJsonError(dsv(dir, 'tag', 'rel', '--json'), 4, 'E_BAD_REF_NAME')
    assert.equal(err.conflict, 'refs/tags/rel/1.0')
    assert.equal(assertJsonError(dsv(dir, 'tag', 'rel/1.0/x', '--json'), 4, 'E_BAD_REF_NAME').conflict, 'refs/tags/rel/1.0')
    assertJsonError(dsv(dir, 'show', 'rel', '--json'), 4, 'E_BAD_REVISION')
    assertJsonError(dsv(dir, 'diff', 'rel', 'HEAD', '--json'), 4, 'E_BAD_REVISION')
    assert.deepEqual(dsvJson<Array<{name: string}>>(dir, 0, 'tag', '--json').map((t) => t.name), ['rel/1.0'])
    // once rel/1.0 is gone, rel is free again; so is a after a/b/c, with the folders pruned
    assertExit(dsv(dir, 'tag', '-d', 'rel/1.0', '--quiet'), 0)
    assertExit(dsv(dir, 'tag', 'rel', '--quiet'), 0)
    assertExit(dsv(dir, 'tag', 'a/b/c', '--quiet'), 0)
    assertExit(dsv(dir, 'tag', '-d', 'a/b/c', '--quiet'), 0)
    assert.ok(!fs.existsSync(path.join(dir, '.dsv/refs/tags/a')))
    assertExit(dsv(dir, 'tag', 'a', '--quiet'), 0)
    // the log an earlier dsv kept of a deleted ref does not stand in the way
    fs.mkdirSync(path.join(dir, '.dsv/logs/refs/tags/old'), {recursive: true})
    fs.writeFileSync(path.join(dir, '.dsv/logs/refs/tags/old/1.0'), `${'0'.repeat(64)} ${'1'.repeat(64)} 1700000000 tag: old/1.0\n`)
    assertExit(dsv(dir, 'tag', 'old', '--quiet'), 0)
    assertExit(dsv(dir, 'tag', '-d', 'old', '--quiet'), 0)
    assert.deepEqual(dsvJson<Array<{name: string}>>(dir, 0, 'tag', '--json').map((t) => t.name), ['a', 'rel'])
    assertExit(dsv(dir, 'fsck', '--quiet'), 0)
  })
})

describe('a tag and a branch of the same name', () => {
  it('`checkout NAME` takes the branch (as git does), other commands the tag', async () => {
    const {dir, c} = await threeCommits()
    assertExit(dsv(dir, 'tag', 'main', c[0], '--quiet'), 0)
    assertExit(dsv(dir, 'checkout', c[1], '--quiet'), 0)
    const r = dsvJson(dir, 0, 'checkout', 'main')
    assert.equal(r.head, c[2])
    assert.equal(r.branch, 'main')
    assert.equal(r.detached, false)
    assert.equal(fs.readFileSync(path.join(dir, '.dsv', 'HEAD'), 'utf8').trim(), 'ref: refs/heads/main')
    assert.equal(dsvJson(dir, 0, 'show', 'main').id, c[0])
  })
})
