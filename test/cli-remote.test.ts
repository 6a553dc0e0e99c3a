/**
 * Remote commands' usage and errors (transport-independent, on directory remotes):
 * remote add/remove/-v, bad URLs and names, missing or empty remotes, clone refusals,
 * --dry-run, and the one-line output when stdout is not a terminal.
 */
import assert from 'node:assert/strict'
import fs from 'node:fs'
import path from 'node:path'
import {spawnSync} from 'node:child_process'
import crypto from 'node:crypto'
import {decodeRemoteIndex, encodeRemoteIndex} from '../src/core/remote/remote-index.js'
import {assertExit, assertJsonError, defaultEnv, dsvAsync, dsvEnvAsync, dsvJsonAsync, makeRepoFromAsync, repoRoot, sha256, TempDirs} from './helpers.js'

describe('remotes: commands and errors', function () {
  this.timeout(120_000)
  const tmp = new TempDirs()
  after(() => tmp.cleanup())

  it('remote add, -v, remove: only the URL is stored; removing drops the remote-tracking refs', async () => {
    const {dir} = await makeRepoFromAsync(tmp, ['golden'])
    const remoteDir = path.join(tmp.make(), 'r')
    assert.deepEqual(await dsvJsonAsync(dir, 0, 'remote', 'add', 'origin', remoteDir), {name: 'origin', url: remoteDir})
    await dsvJsonAsync(dir, 0, 'remote', 'add', 'team', 'gs://team-datasets/contact-tier')
    const v = await dsvAsync(dir, 'remote', '-v')
    assertExit(v, 0)
    assert.equal(v.stdout, `origin\t${remoteDir}\nteam\tgs://team-datasets/contact-tier\n`)
    assert.deepEqual(JSON.parse(fs.readFileSync(path.join(dir, '.dsv/config.json'), 'utf8')).remote, {origin: {url: remoteDir}, team: {url: 'gs://team-datasets/contact-tier'}})
    assertJsonError(await dsvAsync(dir, 'remote', 'add', 'origin', '/elsewhere', '--json'), 6, 'E_REMOTE_EXISTS')

    await dsvJsonAsync(dir, 0, 'push', 'origin')
    assert.ok(fs.existsSync(path.join(dir, '.dsv/refs/remotes/origin/main')))
    await dsvJsonAsync(dir, 0, 'remote', 'remove', 'origin')
    assert.equal(fs.existsSync(path.join(dir, '.dsv/refs/remotes/origin/main')), false)
    assert.deepEqual((await dsvJsonAsync(dir, 0, 'remote')).map((r: any) => r.name), ['team'])
    assertJsonError(await dsvAsync(dir, 'remote', 'remove', 'origin', '--json'), 4, 'E_NO_REMOTE')
  })

  it('refuses bad remote names and URLs with the reason', async () => {
    const {dir} = await makeRepoFromAsync(tmp, ['golden'], {commit: false})
    for (const [name, url, exit, code] of [
      ['a/b', '/tmp/x', 4, 'E_BAD_REF_NAME'],
      ['..', '/tmp/x', 4, 'E_BAD_REF_NAME'],
      ['x', 'ftp://host/path', 2, 'E_BAD_URL'],
      ['x', 'gs://Bad_Bucket/p', 2, 'E_BAD_URL'],
      ['x', 'gs://bucket/a//b', 2, 'E_BAD_URL'],
      ['x', 'host:path', 2, 'E_BAD_URL'],
      ['x', 'file://relative/path', 2, 'E_BAD_URL'],
    ] as const) {
      const err = assertJsonError(await dsvAsync(dir, 'remote', 'add', name, url, '--json'), exit, code)
      assert.ok(err.message.includes(code === 'E_BAD_URL' ? url : name), err.message)
    }
  })

  it('push and fetch need a remote; push names a real branch; a detached HEAD must say what to push', async () => {
    const {dir} = await makeRepoFromAsync(tmp, ['golden'])
    const none = assertJsonError(await dsvAsync(dir, 'push', '--json'), 4, 'E_NO_REMOTE')
    assert.match(none.hint, /dsv remote add/)
    assertJsonError(await dsvAsync(dir, 'fetch', '--json'), 4, 'E_NO_REMOTE')
    assertJsonError(await dsvAsync(dir, 'push', 'nope', '--json'), 4, 'E_NO_REMOTE')
    await dsvJsonAsync(dir, 0, 'remote', 'add', 'origin', path.join(tmp.make(), 'r'))
    assertJsonError(await dsvAsync(dir, 'push', 'origin', 'no-such-branch', '--json'), 4, 'E_BAD_REVISION')
    await dsvJsonAsync(dir, 0, 'checkout', 'HEAD')
    await dsvJsonAsync(dir, 0, 'tag', 'v1')
    await dsvJsonAsync(dir, 0, 'checkout', 'v1')
    assertJsonError(await dsvAsync(dir, 'push', '--json'), 2, 'E_USAGE')
    assert.equal((await dsvJsonAsync(dir, 0, 'push', 'origin', 'v1')).refs[0].status, 'created')
  })

  it('--dry-run counts what would be sent and sends nothing', async () => {
    const {dir} = await makeRepoFromAsync(tmp, ['golden', 'tables'])
    const remote = path.join(tmp.make(), 'r')
    await dsvJsonAsync(dir, 0, 'remote', 'add', 'origin', remote)
    const dry = await dsvJsonAsync(dir, 0, 'push', '--dry-run')
    assert.equal(dry.dryRun, true)
    assert.ok(dry.objects > 5)
    assert.deepEqual([dry.bytes, dry.uploads], [0, 0])
    assert.equal(fs.existsSync(remote), false, 'a dry run writes nothing')
    assert.equal(fs.existsSync(path.join(dir, '.dsv/refs/remotes/origin/main')), false)
    const real = await dsvJsonAsync(dir, 0, 'push')
    assert.equal(real.objects, dry.objects)
  })

  it('clone: a missing remote, an empty remote, a non-empty target: clear errors and nothing left behind', async () => {
    const parent = tmp.make()
    const missing = path.join(parent, 'does-not-exist')
    const e1 = assertJsonError(await dsvAsync(parent, 'clone', missing, 'c1', '--json'), 11, 'E_REMOTE_NOT_FOUND')
    assert.ok(e1.message.includes(missing))
    assert.equal(fs.existsSync(path.join(parent, 'c1')), false)

    const empty = path.join(parent, 'empty-remote')
    fs.mkdirSync(empty)
    assertJsonError(await dsvAsync(parent, 'clone', empty, 'c2', '--json'), 4, 'E_REMOTE_EMPTY')
    assert.equal(fs.existsSync(path.join(parent, 'c2')), false)

    const {dir} = await makeRepoFromAsync(tmp, ['golden'])
    const remote = path.join(tmp.make(), 'r')
    await dsvJsonAsync(dir, 0, 'remote', 'add', 'origin', remote)
    await dsvJsonAsync(dir, 0, 'push')
    fs.mkdirSync(path.join(parent, 'busy'))
    fs.writeFileSync(path.join(parent, 'busy/keep.txt'), 'mine\n')
    assertJsonError(await dsvAsync(parent, 'clone', remote, 'busy', '--json'), 6, 'E_OUTPUT_EXISTS')
    assert.equal(fs.readFileSync(path.join(parent, 'busy/keep.txt'), 'utf8'), 'mine\n')
    // an empty existing directory is fine, and the default name is the URL's last part
    fs.mkdirSync(path.join(parent, 'ready'))
    await dsvJsonAsync(parent, 0, 'clone', remote, 'ready')
    await dsvJsonAsync(parent, 0, 'clone', remote)
    assert.ok(fs.existsSync(path.join(parent, 'r/golden')) && fs.existsSync(path.join(parent, 'ready/golden')))
  })

  it('prints one line when stdout is not a terminal', async () => {
    const {dir} = await makeRepoFromAsync(tmp, ['golden'])
    const remote = path.join(tmp.make(), 'r')
    await dsvJsonAsync(dir, 0, 'remote', 'add', 'origin', remote)
    const lines = (s: string) => s.split('\n').filter(Boolean)
    const push = await dsvAsync(dir, 'push')
    assertExit(push, 0)
    assert.equal(lines(push.stdout).length, 1, push.stdout)
    assert.match(push.stdout, /^origin: pushed main \(new [0-9a-f]{12}\); \d+ objects, [\d.]+ KiB in 1 pack\n$/)
    assert.equal(push.stderr, '')
    const parent = tmp.make()
    const clone = await dsvAsync(parent, 'clone', remote, 'c')
    assertExit(clone, 0)
    assert.equal(lines(clone.stdout).length, 1, clone.stdout)
    // -q silences it, also grouped with other short flags
    fs.writeFileSync(path.join(dir, 'golden/quiet.jsonl'), '{"id":"q1"}\n')
    const quiet = await dsvAsync(dir, 'commit', '-qm', 'quietly')
    assertExit(quiet, 0)
    assert.equal(quiet.stdout, '')
    const quietPush = await dsvAsync(dir, 'push', '-q')
    assertExit(quietPush, 0)
    assert.equal(quietPush.stdout + quietPush.stderr, '')
    for (const cmd of [['fetch'], ['pull']]) {
      const r = await dsvAsync(path.join(parent, 'c'), ...cmd)
      assertExit(r, 0)
      assert.equal(lines(r.stdout).length, 1, r.stdout)
      assert.match(r.stdout, cmd[0] === 'pull' ? /main [0-9a-f]{12}\.\.[0-9a-f]{12}/ : /origin\/main [0-9a-f]{12}\.\.[0-9a-f]{12}/)
    }
  })

  for (const workers of [false, true])
    it(`push re-hashes what it sends${workers ? ' (on worker threads)' : ''}: a damaged local pack is refused (exit 8) and nothing is published`, async () => {
      const {dir} = await makeRepoFromAsync(tmp, ['golden', 'tables', 'common_voice'])
      const remote = path.join(tmp.make(), 'r')
      await dsvJsonAsync(dir, 0, 'remote', 'add', 'origin', remote)
      const packs = fs.readdirSync(path.join(dir, '.dsv/packs')).map((f) => path.join(dir, '.dsv/packs', f))
      const biggest = packs.sort((a, b) => fs.statSync(b).size - fs.statSync(a).size)[0]
      const bytes = fs.readFileSync(biggest)
      bytes[Math.floor(bytes.length * 0.6)] ^= 0x5a
      fs.writeFileSync(biggest, bytes)
      const env = workers ? {DSV_PARALLEL_MIN_BYTES: '0'} : {}
      const r = await dsvEnvAsync(dir, {...defaultEnv(), ...env}, 'push', '--json')
      assertJsonError(r, 8, 'E_CORRUPT')
      const published = fs.existsSync(remote) ? fs.readdirSync(remote) : []
      assert.ok(!published.includes('index') && !published.includes('refs'), `published: ${published}`)
    })

  // The line's rate and time left are checked in progress-view.test.ts: which phases a live
  // line catches here depends on the machine's speed. A push of ~20 MiB lasts a few seconds,
  // well past the 300 ms before the line appears plus ink's loading, even on a fast machine.
  it('shows a live progress line on a terminal, then the one-line summary', async function () {
    const {dir} = await makeRepoFromAsync(tmp, [], {commit: false})
    const lines: string[] = []
    for (let i = 0; i < 1_000_000; i++) lines.push(JSON.stringify({id: `e${i}`, text: `example ${(i * 7919) % 100_003} with a few more words ${i}`, label: i % 7}))
    fs.mkdirSync(path.join(dir, 'data'))
    fs.writeFileSync(path.join(dir, 'data/big.jsonl'), `${lines.join('\n')}\n`)
    await dsvJsonAsync(dir, 0, 'commit', '-m', 'v1')
    await dsvJsonAsync(dir, 0, 'remote', 'add', 'origin', path.join(tmp.make(), 'r'))
    // util-linux's script gives dsv a pseudo-terminal; CI unset, as on a developer's machine
    const env = {...defaultEnv(), CI: undefined, TERM: 'xterm-256color'}
    const shell = `${JSON.stringify(process.execPath)} ${JSON.stringify(path.join(repoRoot, 'bin/run.js'))} push`
    const r = spawnSync('script', ['-qec', shell, '/dev/null'], {cwd: dir, env, encoding: 'utf8'})
    assert.equal(r.status, 0, r.stdout + r.stderr)
    const shown = r.stdout.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '')
    assert.match(shown, /(sending|checking objects|packing objects) [\d.]+( [KM]iB)?\/[\d.]+ ([KM]iB|objects)? ?\(\d+%\)/, shown.slice(-2000))
    assert.match(shown, /origin: pushed main \(new [0-9a-f]{12}\); \d+ objects, [\d.]+ MiB in 1 pack/)
  })

  it('two clones pushing the same commit at once both succeed: one sends it, the other finds it there', async () => {
    const {dir: a} = await makeRepoFromAsync(tmp, ['golden', 'tables'])
    const first = path.join(tmp.make(), 'first')
    await dsvJsonAsync(a, 0, 'remote', 'add', 'first', first)
    await dsvJsonAsync(a, 0, 'push', 'first')
    const parent = tmp.make()
    await dsvJsonAsync(parent, 0, 'clone', first, 'b')
    const b = path.join(parent, 'b')
    const shared = path.join(tmp.make(), 'shared')
    for (const d of [a, b]) await dsvJsonAsync(d, 0, 'remote', 'add', 'team', shared)
    for (let round = 0; round < 3; round++) {
      // from the second round on, the same new commit in both (b pulls it from a through the first remote)
      if (round > 0) await commitAndSync(a, b, round)
      const results = await Promise.all([a, b].map((d) => dsvAsync(d, 'push', 'team', 'main', '--json')))
      for (const r of results) assertExit(r, 0, `round ${round}`)
      const statuses = results.map((r) => r.json().refs[0].status)
      assert.equal(statuses.filter((x: string) => x === 'up-to-date').length, 1, `round ${round}: exactly one push found the commit already there (${statuses})`)
    }
    const c = path.join(parent, 'c')
    await dsvJsonAsync(parent, 0, 'clone', shared, 'c')
    assert.equal((await dsvJsonAsync(c, 0, 'log'))[0].id, (await dsvJsonAsync(a, 0, 'log'))[0].id)
    assert.equal((await dsvJsonAsync(c, 0, 'fsck')).ok, true)

    async function commitAndSync(x: string, y: string, round: number): Promise<void> {
      fs.writeFileSync(path.join(x, `golden/r${round}.jsonl`), `{"id":"r${round}"}\n`)
      await dsvJsonAsync(x, 0, 'commit', '-m', `round ${round}`, '--no-verify')
      await dsvJsonAsync(x, 0, 'push', 'first')
      await dsvJsonAsync(y, 0, 'pull', 'origin')
    }
  })

  for (const workers of [false, true])
    it(`fetch re-hashes every object${workers ? ' (on worker threads)' : ''}: a remote pack whose name matches its bytes but holds a wrong object is refused`, async () => {
      const {dir} = await makeRepoFromAsync(tmp, ['golden'], {commit: false, files: {'audio/clip.bin': crypto.randomBytes(200_000)}})
      await dsvJsonAsync(dir, 0, 'commit', '-m', 'v1', '--no-verify')
      const remote = path.join(tmp.make(), 'r')
      await dsvJsonAsync(dir, 0, 'remote', 'add', 'origin', remote)
      await dsvJsonAsync(dir, 0, 'push')
      // a forger's remote: flip a byte of the incompressible blob (stored raw), then rename the
      // pack after its new SHA-256 and publish a matching index, so only the objects can tell
      const [packName] = fs.readdirSync(path.join(remote, 'packs'))
      const [indexName] = fs.readdirSync(path.join(remote, 'index'))
      const pack = fs.readFileSync(path.join(remote, 'packs', packName))
      const at = pack.indexOf(fs.readFileSync(path.join(dir, 'audio/clip.bin')).subarray(1000, 1064))
      assert.ok(at > 0, 'the blob is stored raw in the pack')
      pack[at + 10] ^= 0xff
      const newSha = sha256(pack)
      const index = decodeRemoteIndex(fs.readFileSync(path.join(remote, 'index', indexName)), indexName)
      index.packs[0] = {...index.packs[0], packSha: newSha}
      const newIndex = encodeRemoteIndex(index)
      fs.rmSync(path.join(remote, 'packs', packName))
      fs.rmSync(path.join(remote, 'index', indexName))
      fs.writeFileSync(path.join(remote, 'packs', `${newSha}.pack`), pack)
      fs.writeFileSync(path.join(remote, 'index', `${sha256(newIndex)}.idx`), newIndex)

      const parent = tmp.make()
      const env = {...defaultEnv(), ...(workers ? {DSV_PARALLEL_MIN_BYTES: '0'} : {})}
      const err = assertJsonError(await dsvEnvAsync(parent, env, 'clone', remote, 'c', '--json'), 8, 'E_CORRUPT')
      assert.match(err.message, /does not match its SHA-256 id/)
      assert.equal(fs.existsSync(path.join(parent, 'c')), false)
    })
})

