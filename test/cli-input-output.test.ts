/**
 * End to end: what dsv takes in (authors, config values, messages, flags, revisions) and
 * what it prints about it: metadata with control characters never reaches the terminal
 * raw, bad values are refused with a clear message, and errors say what to do.
 */
import assert from 'node:assert/strict'
import fs from 'node:fs'
import path from 'node:path'
import {TempDirs, assertExit, assertJsonError, cleanEnv, dsv, dsvEnv, dsvJson, git, makeRepoFromAsync, type LogEntry} from './helpers.js'

const tmp = new TempDirs()
after(() => tmp.cleanup())

/** A repository with one small committed table. */
async function smallRepo(files: Record<string, string> = {'a.jsonl': '{"id":"a"}\n'}): Promise<string> {
  return (await makeRepoFromAsync(tmp, [], {files})).dir
}

// ESC, BEL and CR: what a hostile message uses to drive a terminal or overwrite a line
// eslint-disable-next-line no-control-regex
const RAW_CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/

describe('metadata on the terminal: control characters are escaped', () => {
  let dir: string
  const message = 'msg \u001b[31mred\rOVER\nsecond \u001b]0;pwned\u0007 line'
  const env = cleanEnv({DSV_AUTHOR_NAME: 'Eve \u001b[2J', DSV_AUTHOR_EMAIL: 'eve@example.com'})

  before(async () => {
    dir = await smallRepo()
  })

  it('commit, log, log --oneline, show and tag print messages, authors and tag messages escaped; --json keeps them exact', () => {
    const c = dsvEnv(dir, env, 'commit', '--allow-empty', '-m', message)
    assertExit(c, 0)
    assert.doesNotMatch(c.stdout, RAW_CONTROL)
    assert.match(c.stdout, /\] msg \\u001b\[31mred\\rOVER\n/)
    assertExit(dsvEnv(dir, env, 'tag', 'esc', '-m', 'rel \u001b]0;pwned\u0007\u001b[2Jx'), 0)

    const log = dsv(dir, 'log')
    const oneline = dsv(dir, 'log', '--oneline')
    const show = dsv(dir, 'show')
    const tags = dsv(dir, 'tag')
    for (const r of [log, oneline, show, tags]) {
      assertExit(r, 0)
      assert.doesNotMatch(r.stdout, RAW_CONTROL, r.stdout)
    }
    // a multi-line message keeps its line break, indented, as git shows it
    assert.match(log.stdout, /\n {4}msg \\u001b\[31mred\\rOVER\n {4}second \\u001b\]0;pwned\\u0007 line\n/)
    assert.match(log.stdout, /Author: Eve \\u001b\[2J <eve@example\.com>/)
    assert.match(show.stdout, /Author: Eve \\u001b\[2J <eve@example\.com>/)
    assert.match(oneline.stdout, /\) msg \\u001b\[31mred\\rOVER {2}\[/)
    assert.doesNotMatch(oneline.stdout, /second/)
    assert.match(tags.stdout, /esc +[0-9a-f]{12} {2}rel \\u001b\]0;pwned\\u0007\\u001b\[2Jx/)

    const entry = dsvJson<LogEntry[]>(dir, 0, 'log', '-n', '1')[0]
    assert.equal(entry.message, message)
    assert.equal(entry.author.name, 'Eve \u001b[2J')
    const tagDoc = dsvJson<Array<{name: string; message: string}>>(dir, 0, 'tag')
    assert.equal(tagDoc.find((t) => t.name === 'esc')!.message, 'rel \u001b]0;pwned\u0007\u001b[2Jx')
  })
})
