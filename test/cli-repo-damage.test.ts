/**
 * End to end: repositories damaged by hand or by accident (broken refs, a damaged or lost
 * index, a HEAD pointing anywhere, `.dsv` that is not a store) and names that must
 * round-trip: every command reports the damage clearly (exit 8, or 3 for no store), fsck
 * lists all of it, and what can be repaired from the CLI can be.
 */
import assert from 'node:assert/strict'
import fs from 'node:fs'
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
