/**
 * End to end: what dsv takes in (authors, config values, messages, flags, revisions) and
 * what it prints about it: metadata with control characters never reaches the terminal
 * raw, bad values are refused with a clear message, and errors say what to do.
 */
import assert from 'node:assert/strict'
import fs from 'node:fs'
import path from 'node:path'
import {Repository} from '../src/core/repository.js'
import {readCommit} from '../src/core/ops/history.js'
import {encodeCommit, type Person} from '../src/core/model.js'
import {TempDirs, assertExit, assertJsonError, cleanEnv, dsv, dsvEnv, dsvJson, git, makeRepoFromAsync, type LogEntry} from './helpers.js'

const tmp = new TempDirs()
after(() => tmp.cleanup())

/** A repository with one small committed table. */
async function smallRepo(files: Record<string, string> = {'a.jsonl': '{"id":"a"}\n'}): Promise<string> {
  return (await makeRepoFromAsync(tmp, [], {files})).dir
}

/**
 * A commit by `author` on top of HEAD, written with the store's API: dsv refuses such an
 * author now, but a commit made elsewhere (an older dsv, a teammate's pull) may hold one.
 */
async function forgeCommit(dir: string, author: Person, message: string): Promise<void> {
  const repo = await Repository.open(dir)
  try {
    await repo.locked(async () => {
      const parent = repo.headCommit()!
      const c = await readCommit(repo, parent)
      const id = await repo.store.put('commit', encodeCommit({...c, parents: [parent], author, message, timestamp: c.timestamp + 1}))
      await repo.store.flush()
      repo.refs.update('refs/heads/main', parent, id, 'test: forged commit')
    })
  } finally {
    await repo.close()
  }
}

// ESC, BEL and CR: what a hostile message uses to drive a terminal or overwrite a line
// eslint-disable-next-line no-control-regex
const RAW_CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/

describe('metadata on the terminal: control characters are escaped', () => {
  let dir: string
  const message = 'msg \u001b[31mred\rOVER\nsecond \u001b]0;pwned\u0007 line'

  before(async () => {
    dir = await smallRepo()
  })

  it('commit, log, log --oneline, show and tag print messages, authors and tag messages escaped; --json keeps them exact', async () => {
    const c = dsv(dir, 'commit', '--allow-empty', '-m', message)
    assertExit(c, 0)
    assert.doesNotMatch(c.stdout, RAW_CONTROL)
    assert.match(c.stdout, /\] msg \\u001b\[31mred\\rOVER\n/)
    await forgeCommit(dir, {name: 'Eve \u001b[2J', email: 'eve@example.com'}, message)
    assertExit(dsv(dir, 'tag', 'esc', '-m', 'rel \u001b]0;pwned\u0007\u001b[2Jx'), 0)

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

  it('error messages quoting a name or a file from the data are escaped on stderr; --json keeps them exact', () => {
    const rev = 'v\u001b[2Jx'
    const r = dsv(dir, 'show', rev)
    assertExit(r, 4)
    assert.doesNotMatch(r.stderr, RAW_CONTROL, r.stderr)
    assert.match(r.stderr, /v\\u001b\[2Jx/)
    assert.ok(assertJsonError(dsv(dir, 'show', rev, '--json'), 4, 'E_BAD_REVISION').message.includes(rev))

    // a newline in a name cannot forge a line of its own (a fake hint)
    const forged = dsv(dir, 'show', 'v1\nhint: all is fine')
    assertExit(forged, 4)
    assert.equal(forged.stderr.split('\n').filter((l) => l.startsWith('hint:')).length, 1, forged.stderr)
    assert.match(forged.stderr, /v1\\nhint: all is fine/)

    const bad = path.join(dir, 'bad\u001b]0;x\u0007.jsonl')
    fs.writeFileSync(bad, '{"id": 1}\nnot json \u001b[31m\n')
    const c = dsv(dir, 'commit', '-m', 'bad')
    assert.notEqual(c.status, 0)
    assert.doesNotMatch(c.stderr, RAW_CONTROL, c.stderr)
    assert.match(c.stderr, /bad\\u001b\]0;x\\u0007\.jsonl/)
    fs.rmSync(bad)
  })
})

describe('authors: --author, environment, dsv config and git config', () => {
  let dir: string
  const lastAuthor = (d: string) => dsvJson<LogEntry[]>(d, 0, 'log', '-n', '1')[0].author

  before(async () => {
    dir = await smallRepo()
  })

  it('--author refuses control characters and an empty email, and trims name and email', () => {
    const forged = dsv(dir, 'commit', '--allow-empty', '-m', 'x', '--author', 'Mallory\nAuthor: Trusted <t@corp>', '--json')
    assert.match(assertJsonError(forged, 2, 'E_USAGE').message, /--author: the name holds a control character \(U\+000A\)/)
    assert.match(assertJsonError(dsv(dir, 'commit', '--allow-empty', '-m', 'x', '--author', 'A <>', '--json'), 2, 'E_USAGE').message, /needs an email/)
    assert.match(assertJsonError(dsv(dir, 'tag', 't1', '-m', 'x', '--author', 'A <a\u001b@b>', '--json'), 2, 'E_USAGE').message, /the email holds a control character/)
    assertExit(dsv(dir, 'commit', '--allow-empty', '-m', 'spaced', '--author', '  Spaced   Name   <  a@b  >', '--quiet'), 0)
    assert.deepEqual(lastAuthor(dir), {name: 'Spaced   Name', email: 'a@b'})
  })

  it('control characters from the environment or dsv config are refused (E_CONFIG) and values are trimmed', () => {
    const home = tmp.make()
    const bad = dsvEnv(dir, cleanEnv({DSV_AUTHOR_NAME: 'Eve\nAuthor: Trusted', DSV_AUTHOR_EMAIL: 'e@x'}, home), 'commit', '--allow-empty', '-m', 'x', '--json')
    assert.match(assertJsonError(bad, 2, 'E_CONFIG').message, /DSV_AUTHOR_NAME\/DSV_AUTHOR_EMAIL holds a control character/)
    assert.match(assertJsonError(dsv(dir, 'config', 'user.name', 'a\rb', '--json'), 2, 'E_CONFIG').message, /user\.name holds a control character/)
    assertJsonError(dsv(dir, 'config', 'user.email', '  ', '--json'), 2, 'E_CONFIG')
    assertExit(dsv(dir, 'config', 'user.name', '  Conf Name '), 0)
    assertExit(dsv(dir, 'config', 'user.email', ' conf@example.com'), 0)
    assertExit(dsvEnv(dir, cleanEnv({DSV_AUTHOR_NAME: ' Env Name '}, home), 'commit', '--allow-empty', '-m', 'x', '--quiet'), 0)
    assert.deepEqual(lastAuthor(dir), {name: 'Env Name', email: 'conf@example.com'})
    assertExit(dsv(dir, 'config', '--unset', 'user.name'), 0)
    assertExit(dsv(dir, 'config', '--unset', 'user.email'), 0)
  })

  it("falls back to git's global config (~/.gitconfig over $XDG_CONFIG_HOME/git/config; the repository's own config wins)", async () => {
    const home = tmp.make()
    const env = cleanEnv({}, home)
    const outside = await smallRepo()
    // XDG alone
    fs.mkdirSync(path.join(home, '.config', 'git'), {recursive: true})
    fs.writeFileSync(path.join(home, '.config', 'git', 'config'), '[user]\n\tname = Xdg Person\n\temail = xdg@example.com\n')
    assertExit(dsvEnv(outside, env, 'commit', '--allow-empty', '-m', 'xdg', '--quiet'), 0)
    assert.deepEqual(lastAuthor(outside), {name: 'Xdg Person', email: 'xdg@example.com'})
    // ~/.gitconfig wins; quoted values keep # and ;, comments are dropped, other sections ignored
    fs.writeFileSync(path.join(home, '.gitconfig'), [
      '# global settings', '[core]', '\tname = Not Me', '[user "work"]', '\tname = Not Me Either',
      '[User]', '\tname = "Global # Gitter" ; the name', '\tEMAIL = global@example.com # mail', '',
    ].join('\n'))
    assertExit(dsvEnv(outside, env, 'commit', '--allow-empty', '-m', 'global', '--quiet'), 0)
    assert.deepEqual(lastAuthor(outside), {name: 'Global # Gitter', email: 'global@example.com'})

    // inside a git repository: its user.name wins, the global email fills in
    const gitRoot = tmp.make()
    git(gitRoot, 'init', '-q')
    git(gitRoot, 'config', 'user.name', 'Repo Person')
    const inside = path.join(gitRoot, 'data')
    fs.mkdirSync(inside)
    fs.writeFileSync(path.join(inside, 'a.jsonl'), '{"id":"a"}\n')
    assertExit(dsvEnv(inside, env, 'init', '--quiet'), 0)
    assertExit(dsvEnv(inside, env, 'commit', '-m', 'in git', '--quiet'), 0)
    assert.deepEqual(lastAuthor(inside), {name: 'Repo Person', email: 'global@example.com'})
  })
})

describe('dsv config: bad values are refused', () => {
  let dir: string

  before(async () => {
    dir = await smallRepo()
  })

  it("core.compression must be a whole number in range: '' and ' ' are not 0", () => {
    for (const bad of ['', ' ', '1e1', '0x3', '+3']) {
      const err = assertJsonError(dsv(dir, 'config', 'core.compression', bad, '--json'), 2, 'E_CONFIG')
      assert.match(err.message, /core\.compression must be a whole number from 0 \(none\) to 19/)
    }
    assertExit(dsv(dir, 'config', 'core.compression', '0'), 0)
    assert.equal(dsvJson(dir, 0, 'config', 'core.compression').value, 0)
  })

  it('--unset of a key that is not set exits 2 (E_CONFIG) and says so', () => {
    const err = assertJsonError(dsv(dir, 'config', '--unset', 'keys.nothere', '--json'), 2, 'E_CONFIG')
    assert.match(err.message, /keys\.nothere is not set: nothing to unset/)
    const text = dsv(dir, 'config', '--unset', 'user.name')
    assertExit(text, 2)
    assert.match(text.stderr, /user\.name is not set/)
    assertExit(dsv(dir, 'config', 'keys.x/*.jsonl', 'id'), 0)
    assertExit(dsv(dir, 'config', '--unset', 'keys.x/*.jsonl'), 0)
  })

  it('keys.<pattern> and labels.<pattern> refuse patterns that match no file', () => {
    for (const [pattern, why] of [['[', /\[ at character 1 is never closed/], ['data/[ab.tsv', /never closed/], ['#x', /comment/], ['!x', /negated/], ['a\\', /lone backslash/], [' ', /empty/]] as const) {
      const err = assertJsonError(dsv(dir, 'config', `keys.${pattern}`, 'id', '--json'), 2, 'E_CONFIG')
      assert.match(err.message, why)
    }
    assertJsonError(dsv(dir, 'config', 'labels.[', 'tier', '--json'), 2, 'E_CONFIG')
    for (const good of ['data/[ab].tsv', '[]]x', 'a\\[b', '**/*.jsonl']) assertExit(dsv(dir, 'config', `keys.${good}`, 'id'), 0, good)
    assert.equal(fs.readFileSync(path.join(dir, '.dsv', 'config.json'), 'utf8').includes('"["'), false)
  })
})

describe('rollback and log: messages, counts and filters', () => {
  let dir: string
  let first: string

  before(async () => {
    // a rules file, so that the commit records a quality score (with one decimal: 91.7)
    ;({dir, first} = (await makeRepoFromAsync(tmp, [], {files: {
      'a.jsonl': '{"id":"a","t":1}\n{"id":"b"}\n{"id":"c","t":2}\n',
      'dsv.yaml': 'files:\n- pattern: "*.jsonl"\n  required: [id, t]\n',
    }})) as {dir: string; first: string})
  })

  it('rollback -m "" is refused like commit -m "" (E_USAGE), before anything changes', () => {
    fs.appendFileSync(path.join(dir, 'a.jsonl'), '{"id":"d","t":3}\n')
    assertExit(dsv(dir, 'commit', '-m', 'add d', '--quiet'), 0)
    for (const empty of ['', '  ']) {
      const err = assertJsonError(dsv(dir, 'rollback', first, '-m', empty, '--json'), 2, 'E_USAGE')
      assert.match(err.message, /empty commit message/)
    }
    assert.match(fs.readFileSync(path.join(dir, 'a.jsonl'), 'utf8'), /"d"/)
    assert.equal(dsvJson<LogEntry[]>(dir, 0, 'log').length, 2)
  })

  it('log -n 0 prints nothing and exits 0, as git', () => {
    assert.deepEqual(dsvJson(dir, 0, 'log', '-n', '0'), [])
    const r = dsv(dir, 'log', '-n', '0')
    assertExit(r, 0)
    assert.equal(r.stdout, '')
  })

  it('--min-quality takes decimals (scores have one); no match says so, not "No commits yet."', () => {
    const score = dsvJson(dir, 0, 'log', first)[0].quality.overall
    assert.equal(score, 91.7)
    assert.deepEqual(dsvJson<LogEntry[]>(dir, 0, 'log', '--min-quality', '91.7').map((e) => e.id).includes(first), true)
    assert.deepEqual(dsvJson(dir, 0, 'log', '--min-quality', '99.5'), [])
    const none = dsv(dir, 'log', '--min-quality', '99.5')
    assertExit(none, 0)
    assert.equal(none.stdout, 'No commit has a recorded quality of 99.5 or more.\n')
    for (const bad of ['100.5', '-1', 'x', '9e1']) assertJsonError(dsv(dir, 'log', '--min-quality', bad, '--json'), 2, 'E_USAGE')
  })
})

describe('show: an annotated tag first, and the Code and Quality lines log prints', () => {
  let dir: string
  let gitHead: string

  before(async () => {
    const gitRoot = tmp.make()
    git(gitRoot, 'init', '-q')
    fs.writeFileSync(path.join(gitRoot, 'train.py'), 'print(1)\n')
    git(gitRoot, 'add', 'train.py')
    git(gitRoot, '-c', 'user.name=G', '-c', 'user.email=g@x', 'commit', '-q', '-m', 'code')
    gitHead = git(gitRoot, 'rev-parse', 'HEAD')
    dir = path.join(gitRoot, 'data')
    fs.mkdirSync(dir)
    fs.writeFileSync(path.join(dir, 'a.jsonl'), '{"id":"a","t":1}\n{"id":"b"}\n{"id":"c","t":2}\n')
    fs.writeFileSync(path.join(dir, 'dsv.yaml'), 'files:\n- pattern: "*.jsonl"\n  required: [id, t]\n')
    assertExit(dsv(dir, 'init', '--quiet'), 0)
    assertExit(dsv(dir, 'commit', '-m', 'data', '--quiet'), 0)
    assertExit(dsv(dir, 'tag', 'v1', '-m', 'release for run 42\n\nsecond paragraph', '--author', 'Tag Ger <tagger@example.com>'), 0)
    assertExit(dsv(dir, 'tag', 'light'), 0)
  })

  it('show v1 prints the tag, its tagger and message before the commit; --json has "tag"', () => {
    const r = dsv(dir, 'show', 'v1')
    assertExit(r, 0)
    assert.match(r.stdout, /^tag v1\nTagger: Tag Ger <tagger@example\.com>\nDate: {3}\S+\n\nrelease for run 42\n\nsecond paragraph\n\ncommit [0-9a-f]{64} \(HEAD -> main, tag: light, tag: v1\)\n/)
    const doc = dsvJson(dir, 0, 'show', 'v1')
    assert.equal(doc.tag.name, 'v1')
    assert.match(doc.tag.object, /^[0-9a-f]{64}$/)
    assert.notEqual(doc.tag.object, doc.id)
    assert.deepEqual(doc.tag.tagger, {name: 'Tag Ger', email: 'tagger@example.com'})
    assert.equal(doc.tag.message, 'release for run 42\n\nsecond paragraph')
    assert.equal(typeof doc.tag.timestamp, 'number')
    assert.equal(typeof doc.tag.date, 'string')
    for (const rev of ['light', 'HEAD', 'v1~0']) {
      assert.equal('tag' in dsvJson(dir, 0, 'show', rev), false, rev)
      assert.match(dsv(dir, 'show', rev).stdout, /^commit /, rev)
    }
  })

  it('show prints Code: and Quality: as log does', () => {
    const show = dsv(dir, 'show').stdout
    const log = dsv(dir, 'log', '-n', '1').stdout
    assert.match(show, new RegExp(`Code: ${gitHead.slice(0, 12)}\\n`))
    assert.match(show, /\nQuality: {2}91\.7% below thresholds; gold 2, silver 1, bronze 0, rejected 0\n/)
    // the same commit block in both
    assert.ok(show.startsWith(log.trimEnd()), `${show}\n---\n${log}`)
  })
})

describe('diff: messages that say what to do', () => {
  let dir: string

  before(async () => {
    dir = await smallRepo({'a.jsonl': '{"id":"a"}\n', 'train.jsonl': '{"id":"t"}\n'})
    fs.appendFileSync(path.join(dir, 'train.jsonl'), '{"id":"u"}\n')
    assertExit(dsv(dir, 'commit', '-m', 'second', '--quiet'), 0)
  })

  it('A...B is a usage error that suggests A..B', () => {
    const err = assertJsonError(dsv(dir, 'diff', 'HEAD~1...HEAD', '--json'), 2, 'E_USAGE')
    assert.match(err.message, /HEAD~1\.\.\.HEAD: A\.\.\.B \(changes since the common ancestor\) is not supported/)
    assert.match(err.hint, /dsv diff HEAD~1\.\.HEAD$/)
  })

  it('an unknown revision that names an existing path hints `dsv diff -- PATH`', () => {
    const err = assertJsonError(dsv(dir, 'diff', 'train.jsonl', '--json'), 4, 'E_BAD_REVISION')
    assert.match(err.message, /unknown revision: 'train\.jsonl'/)
    assert.match(err.hint, /dsv diff -- train\.jsonl/)
    const text = dsv(dir, 'diff', 'train.jsonl')
    assertExit(text, 4)
    assert.match(text.stderr, /hint: 'train\.jsonl' is a path: to diff it, put it after --: dsv diff -- train\.jsonl/)
    // a name that is no path keeps the usual hint
    assert.doesNotMatch(assertJsonError(dsv(dir, 'diff', 'nothere', '--json'), 4, 'E_BAD_REVISION').hint, /after --/)
  })

  it('a JSONL line that is not JSON: the reason is complete (what, at which column), the hint fits the command', () => {
    fs.writeFileSync(path.join(dir, 'a.jsonl'), '{"id":"a"}\nhello world\n')
    const diff = assertJsonError(dsv(dir, 'diff', '--json'), 5, 'E_INVALID_DATA')
    assert.equal(diff.message, "a.jsonl:2: not valid JSON: unexpected 'h' at column 1")
    assert.equal(diff.hint, 'fix the file (or add it to .dsvignore) and run the command again')
    const status = assertJsonError(dsv(dir, 'status', '--json'), 5, 'E_INVALID_DATA')
    assert.doesNotMatch(status.hint, /nothing was written/)
    const commit = assertJsonError(dsv(dir, 'commit', '-m', 'bad', '--json'), 5, 'E_INVALID_DATA')
    assert.equal(commit.hint, 'fix the file (or add it to .dsvignore) and run the command again; nothing was written')

    fs.writeFileSync(path.join(dir, 'a.jsonl'), '{"id":"a"}\n{"id": "b", "n": 1,}\n{"id": "c"} x\n')
    assert.equal(assertJsonError(dsv(dir, 'diff', '--json'), 5, 'E_INVALID_DATA').message,
      "a.jsonl:2: not valid JSON: expected double-quoted property name at column 20 (found '}')")
    fs.writeFileSync(path.join(dir, 'a.jsonl'), '{"id":"a"}\n{"id":"c"} x\n')
    assert.equal(assertJsonError(dsv(dir, 'diff', '--json'), 5, 'E_INVALID_DATA').message,
      "a.jsonl:2: not valid JSON: unexpected non-whitespace character after the JSON value at column 12 (found 'x')")
    fs.writeFileSync(path.join(dir, 'a.jsonl'), '{"id":"a"}\n{"id": "unterminated\n')
    assert.equal(assertJsonError(dsv(dir, 'diff', '--json'), 5, 'E_INVALID_DATA').message,
      'a.jsonl:2: not valid JSON: unterminated string at the end of the line')
    fs.writeFileSync(path.join(dir, 'a.jsonl'), '{"id":"a"}\n')
  })
})

describe('an unknown command', () => {
  it('with --json prints the error document on stdout (E_USAGE, exit 2); without, the error on stderr', () => {
    const dir = tmp.make()
    const err = assertJsonError(dsv(dir, 'frob', '--json'), 2, 'E_USAGE')
    assert.equal(err.message, 'command frob not found')
    assert.match(err.hint, /dsv --help/)
    assert.equal(assertJsonError(dsv(dir, 'quality', 'frob', '--json'), 2, 'E_USAGE').message, 'command quality frob not found')
    const text = dsv(dir, 'frob')
    assertExit(text, 2)
    assert.equal(text.stdout, '')
    assert.match(text.stderr, /command frob not found/)
  })
})
