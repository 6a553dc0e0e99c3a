/**
 * The remote contract, run against both transports: a directory remote and Google Cloud
 * Storage (the real @google-cloud/storage client inside the real dsv binary, against the
 * Cloud Storage emulator of firebase-tools with our precondition layer in front; see
 * tools/gcs-emulator/). Every test uses a fresh remote (a new directory or bucket prefix).
 */
import assert from 'node:assert/strict'
import fs from 'node:fs'
import path from 'node:path'
import {spawn} from 'node:child_process'
import {Storage} from '@google-cloud/storage'
import {
  assertExit, assertJsonError, assertSameTree, binPath, copyFixtures, defaultEnv, dsvEnvAsync, TempDirs, type RunResult,
} from './helpers.js'
import {requireGcsEmulator, startGcsEmulator, type GcsEmulator} from './gcs-emulator.js'

/** A JSONL dataset of `n` examples, deterministic; `edit` changes some of them. */
export function writeDataset(file: string, n: number, edit: (i: number) => boolean = () => false, tag = 'v2'): void {
  const lines: string[] = []
  for (let i = 0; i < n; i++) {
    const rec = {id: `ex-${String(i).padStart(7, '0')}`, input_data: {text: `example ${i}: how many ${i % 97} apples are in ${i % 13} baskets of ${(i * 7919) % 1000}?`},
      expected_output: {answer: String((i * 31) % 1009), tier: edit(i) ? `edited-${tag}` : ['A', 'B', 'C'][i % 3]}, labels: {edge_case: i % 17 === 0}, validation_status: 'validated'}
    lines.push(JSON.stringify(rec))
  }
  fs.mkdirSync(path.dirname(file), {recursive: true})
  fs.writeFileSync(file, `${lines.join('\n')}\n`)
}

interface Transport {
  kind: 'path' | 'gcs'
  env: NodeJS.ProcessEnv
  newUrl(): string
  /** names of the files under the remote (relative), for checks on what arrived */
  list(url: string): Promise<string[]>
  /** flips a byte in the middle of a remote file */
  damage(url: string, name: string): Promise<void>
}

function pathTransport(tmp: TempDirs): Transport {
  return {
    kind: 'path',
    env: defaultEnv(),
    newUrl: () => path.join(tmp.make('dsv-remote-'), 'remote'),
    async list(url) {
      const out: string[] = []
      const walk = (d: string, rel: string) => {
        if (!fs.existsSync(d)) return
        for (const e of fs.readdirSync(d, {withFileTypes: true})) {
          const r = rel ? `${rel}/${e.name}` : e.name
          if (e.isDirectory()) walk(path.join(d, e.name), r)
          else out.push(r)
        }
      }
      walk(url, '')
      return out.sort()
    },
    async damage(url, name) {
      const file = path.join(url, name)
      const bytes = fs.readFileSync(file)
      bytes[Math.floor(bytes.length / 2)] ^= 0xff
      fs.writeFileSync(file, bytes)
    },
  }
}

let prefixes = 0
function gcsTransport(emu: GcsEmulator): Transport {
  const storage = new Storage({apiEndpoint: emu.url, projectId: emu.env.GOOGLE_CLOUD_PROJECT})
  const split = (url: string) => {
    const m = /^gs:\/\/([^/]+)\/(.*)$/.exec(url)!
    return {bucket: storage.bucket(m[1]), prefix: m[2]}
  }
  return {
    kind: 'gcs',
    env: {...defaultEnv(), ...emu.env},
    newUrl: () => `gs://dsv-test-bucket/run-${process.pid}-${prefixes++}/dataset`,
    async list(url) {
      const {bucket, prefix} = split(url)
      const [files] = await bucket.getFiles({prefix: `${prefix}/`})
      return files.map((f) => f.name.slice(prefix.length + 1)).sort()
    },
    async damage(url, name) {
      const {bucket, prefix} = split(url)
      const file = bucket.file(`${prefix}/${name}`)
      const [bytes] = await file.download()
      bytes[Math.floor(bytes.length / 2)] ^= 0xff
      await file.save(bytes, {resumable: false})
    },
  }
}

for (const kind of ['path', 'gcs'] as const) {
  describe(`remotes: the contract over ${kind === 'path' ? 'a directory' : 'Google Cloud Storage (emulator)'}`, function () {
    this.timeout(300_000)
    const tmp = new TempDirs()
    let t: Transport
    let emu: GcsEmulator | undefined

    before(async function () {
      if (kind === 'gcs') {
        requireGcsEmulator(this)
        emu = await startGcsEmulator()
        t = gcsTransport(emu)
        // the emulator makes a bucket on its first write (it has no bucket-create route)
        await new Storage({apiEndpoint: emu.url, projectId: emu.env.GOOGLE_CLOUD_PROJECT}).bucket('dsv-test-bucket').file('.created').save('x', {resumable: false})
      } else t = pathTransport(tmp)
    })
    after(async () => {
      await emu?.stop()
      tmp.cleanup()
    })

    const run = (cwd: string, ...args: string[]) => dsvEnvAsync(cwd, t.env, ...args)
    const ok = async (cwd: string, ...args: string[]): Promise<any> => {
      const r = await run(cwd, ...args, '--json')
      assertExit(r, 0, `dsv ${args.join(' ')}`)
      return r.json()
    }
    /** A repository with some fixtures committed and `url` added as origin. */
    const repoWithRemote = async (url: string, subset = ['golden', 'tables', 'common_voice']): Promise<string> => {
      const dir = tmp.make()
      copyFixtures(dir, subset)
      await ok(dir, 'init')
      await ok(dir, 'commit', '-m', 'initial import', '--no-verify')
      await ok(dir, 'remote', 'add', 'origin', url)
      return dir
    }
    /** A repository of `n` generated examples, committed, with `url` as origin. */
    const generatedRepo = async (url: string, n: number): Promise<string> => {
      const dir = tmp.make()
      writeDataset(path.join(dir, 'data/train.jsonl'), n)
      await ok(dir, 'init')
      await ok(dir, 'commit', '-m', 'v1')
      await ok(dir, 'remote', 'add', 'origin', url)
      return dir
    }
    const cloneTo = async (url: string): Promise<string> => {
      const dir = path.join(tmp.make(), 'clone')
      await ok(path.dirname(dir), 'clone', url, dir)
      return dir
    }
    const commitFile = async (dir: string, rel: string, content: string, message: string): Promise<string> => {
      fs.mkdirSync(path.dirname(path.join(dir, rel)), {recursive: true})
      fs.writeFileSync(path.join(dir, rel), content)
      return (await ok(dir, 'commit', '-m', message, '--no-verify')).id
    }

    it('push, then clone: every file byte for byte, the history, the tags; fsck passes', async () => {
      const url = t.newUrl()
      const a = await repoWithRemote(url, ['.'])
      await commitFile(a, 'notes/readme.txt', 'second version\n', 'second')
      await ok(a, 'tag', 'v1', 'HEAD~1', '-m', 'first release')
      await ok(a, 'tag', 'v2')
      const pushed = await ok(a, 'push', 'origin', 'main', '--tags')
      assert.deepEqual(pushed.refs.map((r: any) => [r.ref, r.status]).sort(), [['refs/heads/main', 'created'], ['refs/tags/v1', 'created'], ['refs/tags/v2', 'created']])
      assert.ok(pushed.objects > 20 && pushed.packs === 1, `objects ${pushed.objects}, packs ${pushed.packs}`)
      // marker + pack + index + 3 refs: a handful of uploads, not one per file or example
      assert.equal(pushed.uploads, 6)
      const files = await t.list(url)
      assert.equal(files.filter((f) => f.startsWith('packs/')).length, 1)

      const b = await cloneTo(url)
      assertSameTree(b, a)
      const logA = await ok(a, 'log')
      const logB = await ok(b, 'log')
      assert.deepEqual(logB.map((e: any) => e.id), logA.map((e: any) => e.id))
      assert.deepEqual(await ok(b, 'tag'), await ok(a, 'tag'))
      assert.equal((await ok(b, 'fsck')).ok, true)
      assert.deepEqual(await ok(b, 'remote'), [{name: 'origin', url: kind === 'path' ? url : url}])
      const st = await ok(b, 'status')
      assert.deepEqual(st.upstream, {branch: 'main', upstream: 'origin/main', ahead: 0, behind: 0})
      // a second push has nothing to send
      const again = await ok(a, 'push')
      assert.deepEqual([again.objects, again.bytes, again.uploads], [0, 0, 0])
      assert.equal(again.refs[0].status, 'up-to-date')
    })

    it('sends only what the remote lacks: a 1% edit of 20,000 examples sends a small share of the first push (at this size the changed tree nodes dominate; bench/ measures 1,000,000)', async () => {
      const url = t.newUrl()
      const a = await generatedRepo(url, 20_000)
      const first = await ok(a, 'push')
      writeDataset(path.join(a, 'data/train.jsonl'), 20_000, (i) => i % 100 === 37)
      const c2 = await ok(a, 'commit', '-m', 'v2: 1% relabelled')
      assert.equal(c2.examples.modified, 200)
      const second = await ok(a, 'push')
      const share = second.bytes / first.bytes
      assert.ok(share < 0.15, `the incremental push sent ${second.bytes} bytes, ${(100 * share).toFixed(1)}% of the first push's ${first.bytes}`)
      assert.ok(second.objects < first.objects / 2, `objects: ${second.objects} vs ${first.objects}`)
      // a clone of the new version has exactly its examples
      const b = await cloneTo(url)
      assertSameTree(b, a)
      const diff = await ok(b, 'diff', 'HEAD~1', 'HEAD', '--stat')
      assert.equal(diff.totals.examples.modified, 200)
    })

    it('fetch updates origin/main only; status says behind; pull fast-forwards the working directory', async () => {
      const url = t.newUrl()
      const a = await repoWithRemote(url)
      await ok(a, 'push')
      const b = await cloneTo(url)
      await commitFile(a, 'golden/extra.jsonl', '{"id":"x1","input_data":"q","expected_output":"a"}\n', 'a: extra')
      fs.rmSync(path.join(a, 'tables'), {recursive: true})
      const head = (await ok(a, 'commit', '-m', 'a: drop tables', '--no-verify')).id
      await ok(a, 'push')

      const fetched = await ok(b, 'fetch')
      assert.deepEqual(fetched.refs.filter((r: any) => r.status !== 'up-to-date').map((r: any) => [r.localRef, r.status, r.new]), [['refs/remotes/origin/main', 'updated', head]])
      assert.ok(fetched.objects > 0)
      assert.ok(fs.existsSync(path.join(b, 'tables')), 'fetch must not touch the working directory')
      assert.equal((await ok(b, 'status')).upstream.behind, 2)
      const human = await run(b, 'status')
      assert.match(human.stdout, /behind 'origin\/main' by 2 commits/)
      const pulled = await ok(b, 'pull')
      assert.equal(pulled.status, 'fast-forward')
      assert.equal(pulled.to, head)
      assert.equal(pulled.objects, 0, 'everything was fetched already')
      assertSameTree(b, a)
      assert.equal((await ok(b, 'status')).upstream.behind, 0)
      assert.equal((await ok(b, 'fsck')).ok, true)
    })

    it('two teammates push at once from the same version: exactly one wins; the other is rejected, changes nothing, and succeeds after a pull', async () => {
      const url = t.newUrl()
      const a = await repoWithRemote(url)
      await ok(a, 'push')
      const b = await cloneTo(url)
      await commitFile(a, 'golden/from-a.jsonl', '{"id":"a1","input_data":"qa","expected_output":"aa"}\n', 'a: add')
      await commitFile(b, 'golden/from-b.jsonl', '{"id":"b1","input_data":"qb","expected_output":"bb"}\n', 'b: add')
      const [ra, rb] = await Promise.all([run(a, 'push', '--json'), run(b, 'push', '--json')])
      const results = [ra, rb]
      assert.deepEqual(results.map((r) => r.code).sort(), [0, 6], `exits: ${results.map((r) => `${r.code} ${r.stdout}`).join('\n')}`)
      const [winner, loser] = ra.code === 0 ? [a, b] : [b, a]
      const lost = assertJsonError(ra.code === 0 ? rb : ra, 6, 'E_NON_FAST_FORWARD')
      assert.match(lost.hint, /dsv pull/)
      const remoteHead = (await ok(winner, 'log', '-n', '1'))[0].id
      // the rejected push changed nothing on the remote
      const check = await cloneTo(url)
      assert.equal((await ok(check, 'log', '-n', '1'))[0].id, remoteHead)

      const pulled = await ok(loser, 'pull')
      assert.equal(pulled.status, 'merged')
      await ok(loser, 'push')
      const final = await cloneTo(url)
      assert.ok(fs.existsSync(path.join(final, 'golden/from-a.jsonl')) && fs.existsSync(path.join(final, 'golden/from-b.jsonl')))
      const ids = (await ok(final, 'log')).map((e: any) => e.id)
      assert.ok(ids.includes(remoteHead), 'the winner\'s commit is in the history')
      assert.equal((await ok(final, 'fsck')).ok, true)
    })

    it('a file edited on both sides stops pull with E_MERGE_CONFLICT and changes nothing; --reset takes the remote\'s commits', async () => {
      const url = t.newUrl()
      const a = await repoWithRemote(url)
      await ok(a, 'push')
      const b = await cloneTo(url)
      await commitFile(a, 'golden/shared.jsonl', '{"id":"s","v":"a"}\n', 'a edits')
      await ok(a, 'push')
      const mine = await commitFile(b, 'golden/shared.jsonl', '{"id":"s","v":"b"}\n', 'b edits')
      const r = await run(b, 'pull', '--json')
      const err = assertJsonError(r, 6, 'E_MERGE_CONFLICT')
      assert.deepEqual(err.conflicts, ['golden/shared.jsonl'])
      assert.equal((await ok(b, 'log', '-n', '1'))[0].id, mine)
      assert.equal(fs.readFileSync(path.join(b, 'golden/shared.jsonl'), 'utf8'), '{"id":"s","v":"b"}\n')
      const st = await ok(b, 'status')
      assert.deepEqual([st.clean, st.upstream.ahead, st.upstream.behind], [true, 1, 1])
      await ok(b, 'tag', 'my-work')
      const reset = await ok(b, 'pull', '--reset')
      assert.equal(reset.status, 'reset')
      assertSameTree(b, a)
      assert.equal((await ok(b, 'show', 'my-work')).id, mine)
    })

    it('tags: a tag already on the remote is not moved without --force; fetch never moves a local tag', async () => {
      const url = t.newUrl()
      const a = await repoWithRemote(url)
      await ok(a, 'tag', 'release')
      await ok(a, 'push', 'origin', 'main', 'release')
      const b = await cloneTo(url)
      await commitFile(a, 'x.txt', 'x\n', 'more')
      await ok(a, 'tag', 'release', '--force')
      const r = await run(a, 'push', 'origin', 'release', '--json')
      assertJsonError(r, 6, 'E_NON_FAST_FORWARD')
      const forced = await ok(a, 'push', 'origin', 'main', 'release', '--force')
      assert.deepEqual(forced.refs.map((u: any) => u.status).sort(), ['fast-forward', 'forced'].sort())
      const f = await ok(b, 'fetch')
      assert.equal(f.refs.find((u: any) => u.localRef === 'refs/tags/release').status, 'kept-local')
    })

    it('verifies what it receives: a damaged pack on the remote is refused and nothing is stored', async () => {
      const url = t.newUrl()
      const a = await repoWithRemote(url)
      await ok(a, 'push')
      const b = await cloneTo(url)
      await commitFile(a, 'golden/more.jsonl', '{"id":"m","input_data":"q","expected_output":"a"}\n', 'more')
      await ok(a, 'push')
      for (const p of (await t.list(url)).filter((f) => f.startsWith('packs/'))) await t.damage(url, p)
      const before = fs.readFileSync(path.join(b, '.dsv/refs/remotes/origin/main'), 'utf8')
      const r = await run(b, 'fetch', '--json')
      assertJsonError(r, 8, 'E_CORRUPT')
      assert.equal(fs.readFileSync(path.join(b, '.dsv/refs/remotes/origin/main'), 'utf8'), before, 'origin/main must not move')
      assert.equal((await ok(b, 'fsck')).ok, true)
      // a clone of the damaged remote fails and leaves no directory behind
      const parent = tmp.make()
      const c = await run(parent, 'clone', url, 'copy', '--json')
      assertJsonError(c, 8, 'E_CORRUPT')
      assert.equal(fs.existsSync(path.join(parent, 'copy')), false)
    })

    it('a push killed at random points leaves the remote readable and finishes when run again, without re-sending the packs that arrived', async function () {
      const url = t.newUrl()
      const a = await generatedRepo(url, 30_000)
      // small packs: the push makes several uploads, so kills land between them
      const env = {...t.env, DSV_PACK_LIMIT: String(256 << 10)}
      let reusedSeen = 0
      for (const delay of [150, 400, 700, 1000, 1400]) {
        writeDataset(path.join(a, 'data/train.jsonl'), 30_000, (i) => i % 50 === delay % 50, `d${delay}`)
        await ok(a, 'commit', '-m', `edit ${delay}`)
        const killed = await runKilledAfter(a, env, delay, ['push'])
        const listing = await t.list(url)
        const packsBefore = listing.filter((f) => f.endsWith('.pack')).length
        if (listing.some((f) => f.startsWith('refs/'))) {
          // whatever the remote holds now is complete: it clones and checks
          const check = await cloneTo(url)
          assert.equal((await ok(check, 'fsck')).ok, true, `after a kill at ${delay} ms (${killed})`)
        }
        const rerun = await run(a, 'push', '--json')
        assertExit(rerun, 0, `push re-run after a kill at ${delay} ms`)
        const doc = rerun.json()
        reusedSeen += doc.packsReused
        const packsAfter = (await t.list(url)).filter((f) => f.endsWith('.pack')).length
        assert.equal(packsAfter, packsBefore + doc.packs - doc.packsReused, 'packs that arrived before the kill were not sent again')
      }
      // killed right after its first pack arrived (seen in the trace): the re-run reuses it
      writeDataset(path.join(a, 'data/train.jsonl'), 30_000, (i) => i % 40 === 3, 'last')
      await ok(a, 'commit', '-m', 'last edit')
      const count = async (dir: string) => (await t.list(url)).filter((f) => f.startsWith(dir)).length
      const [packs0, indexes0] = [await count('packs/'), await count('index/')]
      // 16 KiB packs: dozens of uploads remain after the first, so the kill lands before the index
      assert.equal(await runKilledOnLine(a, {...env, DSV_PACK_LIMIT: String(16 << 10), DSV_TRACE: 'remote'}, /remote create packs\/\w+\.pack -> created/, ['push']), 'killed')
      assert.ok((await count('packs/')) > packs0, 'a pack arrived before the kill')
      assert.equal(await count('index/'), indexes0, 'nothing was published')
      const rerun = await dsvEnvAsync(a, {...env, DSV_PACK_LIMIT: String(16 << 10)}, 'push', '--json')
      assertExit(rerun, 0, 'push re-run after a kill after its first pack')
      assert.ok(rerun.json().packsReused >= 1, `the pack that arrived was sent again: ${rerun.stdout}`)
      reusedSeen += rerun.json().packsReused

      const final = await cloneTo(url)
      assertSameTree(final, a)
      assert.equal((await ok(final, 'fsck')).ok, true)
      this.test!.title += ` (${reusedSeen} packs reused)`
    })

    it('a fetch killed at random points leaves the store readable and finishes when run again', async () => {
      const url = t.newUrl()
      const a = await generatedRepo(url, 30_000)
      await run(a, 'push').then((r) => assertExit(r, 0))
      const b = tmp.make()
      await ok(b, 'init')
      await ok(b, 'remote', 'add', 'origin', url)
      for (const delay of [200, 500, 900]) {
        await runKilledAfter(b, t.env, delay, ['fetch'])
        assert.equal((await ok(b, 'fsck')).ok, true, `fsck after a fetch killed at ${delay} ms`)
      }
      await ok(b, 'fetch')
      await ok(b, 'checkout', 'origin/main', '--force')
      assertSameTree(b, a)
      assert.equal((await ok(b, 'fsck')).ok, true)
      assert.deepEqual(fs.readdirSync(path.join(b, '.dsv/incoming')), [], 'nothing is left in incoming/')
    })

    it('a pull killed at random points is finished by running it again', async () => {
      const url = t.newUrl()
      const a = tmp.make()
      writeDataset(path.join(a, 'data/train.jsonl'), 30_000)
      fs.mkdirSync(path.join(a, 'clips'))
      for (let i = 0; i < 40; i++) fs.writeFileSync(path.join(a, `clips/c${i}.bin`), Buffer.alloc(50_000, i))
      await ok(a, 'init')
      await ok(a, 'commit', '-m', 'v1')
      await ok(a, 'remote', 'add', 'origin', url)
      await ok(a, 'push')
      const b = await cloneTo(url)
      for (const delay of [300, 700, 1200]) {
        writeDataset(path.join(a, 'data/train.jsonl'), 30_000, (i) => i % 20 === delay % 20, `p${delay}`)
        for (let i = 0; i < 40; i++) fs.writeFileSync(path.join(a, `clips/c${i}.bin`), Buffer.alloc(50_000, (i + delay) % 251))
        await ok(a, 'commit', '-m', `edit ${delay}`)
        await ok(a, 'push')
        await runKilledAfter(b, t.env, delay, ['pull'])
        const again = await run(b, 'pull', '--json')
        assertExit(again, 0, `pull re-run after a kill at ${delay} ms`)
        assertSameTree(b, a)
        assert.equal((await ok(b, 'status')).clean, true)
      }
      assert.equal((await ok(b, 'fsck')).ok, true)
    })

    it('several processes pushing to one remote, many rounds: every accepted push is in the history, every rejected one is told so, nothing is lost', async () => {
      const url = t.newUrl()
      const seed = await repoWithRemote(url, ['golden'])
      await ok(seed, 'push')
      const workers = await Promise.all([0, 1, 2, 3].map(() => cloneTo(url)))
      const accepted: string[] = []
      let rejected = 0
      for (let round = 0; round < 4; round++) {
        // everyone starts from the same remote version, commits a file of their own, pushes at once
        await Promise.all(workers.map((w) => ok(w, 'pull')))
        const commits = await Promise.all(workers.map((w, i) => commitFile(w, `contrib/w${i}-r${round}.jsonl`, `{"id":"w${i}-r${round}","v":${round}}\n`, `worker ${i} round ${round}`)))
        const results = await Promise.all(workers.map((w) => run(w, 'push', '--json')))
        const winners = results.filter((r) => r.code === 0)
        assert.equal(winners.length, 1, `round ${round}: exactly one push wins the race, got ${winners.length}`)
        accepted.push(commits[results.indexOf(winners[0])])
        for (const r of results.filter((x) => x.code !== 0)) {
          assertJsonError(r, 6, 'E_NON_FAST_FORWARD')
          rejected++
        }
        // the others pull (merge) and push again until they get in
        await Promise.all(workers.map(async (w, i) => {
          if (results[i].code === 0) return
          for (let attempt = 0; attempt < 10; attempt++) {
            await ok(w, 'pull')
            const again = await run(w, 'push', '--json')
            if (again.code === 0) return void accepted.push(commits[i])
            assertJsonError(again, 6, 'E_NON_FAST_FORWARD')
          }
          assert.fail(`worker ${i} never got its push in`)
        }))
      }
      assert.equal(rejected, 4 * 3)
      const final = await cloneTo(url)
      const history = new Set((await ok(final, 'log')).map((e: any) => e.id))
      for (const id of accepted) assert.ok(history.has(id), `accepted commit ${id} is missing from the remote's history`)
      for (let i = 0; i < 4; i++) for (let round = 0; round < 4; round++) assert.ok(fs.existsSync(path.join(final, `contrib/w${i}-r${round}.jsonl`)), `w${i}-r${round} lost`)
      for (const w of [...workers, final]) assert.equal((await ok(w, 'fsck')).ok, true)
    })
  })
}

/** Runs dsv and SIGKILLs it as soon as it prints a line matching `pattern` on stderr. */
function runKilledOnLine(cwd: string, env: NodeJS.ProcessEnv, pattern: RegExp, args: string[]): Promise<'killed' | 'finished'> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [binPath, ...args], {cwd, env, stdio: ['ignore', 'ignore', 'pipe']})
    let seen = ''
    child.stderr.on('data', (b: Buffer) => {
      seen += b.toString('utf8')
      if (pattern.test(seen)) child.kill('SIGKILL')
    })
    child.on('error', reject)
    child.on('exit', (code) => resolve(code === null ? 'killed' : 'finished'))
  })
}

/** Runs dsv and SIGKILLs it after `ms` (unless it ends first); says which happened. */
function runKilledAfter(cwd: string, env: NodeJS.ProcessEnv, ms: number, args: string[]): Promise<'killed' | 'finished'> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [binPath, ...args], {cwd, env, stdio: 'ignore'})
    let finished = false
    const timer = setTimeout(() => child.kill('SIGKILL'), ms)
    child.on('error', reject)
    child.on('exit', (code) => {
      clearTimeout(timer)
      finished = code !== null
      resolve(finished ? 'finished' : 'killed')
    })
  })
}

export type {RunResult}
