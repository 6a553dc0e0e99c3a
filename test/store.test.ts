/**
 * The store through the public library API, on the real LevelDB and real pack files:
 * deduplication and delta cost of a small edit, content identity of tables, hash
 * verification on read, format refusal, and one writer at a time.
 */
import {strict as assert} from 'node:assert'
import {spawn} from 'node:child_process'
import {mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync, mkdirSync, openSync, writeSync, closeSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {randomBytes} from 'node:crypto'
import {join} from 'node:path'
import {Repository, DsvError} from '../dist/index.js' // the built library, as users get it

process.env.DSV_AUTHOR_NAME = 'Store Test'
process.env.DSV_AUTHOR_EMAIL = 'store@example.com'
const BIN = join(import.meta.dirname, '..', 'bin', 'run.js')

const WORDS = 'pricing renewal seats contract demo budget team migration security review pipeline storage audit label model training deadline quarter region partner invoice support upgrade trial onboarding compliance'.split(' ')

/** Example text drawn from a word list by a fixed PRNG: compresses like real notes (~4-5:1). */
function examples(n: number, edit: (i: number) => string = () => 'A'): string {
  const lines: string[] = []
  let x = 12345
  const rnd = () => ((x = (x * 1103515245 + 12345) >>> 0) >>> 8) / 0x1000000
  for (let i = 0; i < n; i++) {
    const words = Array.from({length: 12 + (i % 9)}, () => WORDS[Math.floor(rnd() * WORDS.length)])
    lines.push(JSON.stringify({id: `ex-${i}`, input_data: {text: `Customer ${Math.floor(rnd() * 1e6)}: ${words.join(' ')}`}, expected_output: {tier: edit(i)}, quality_score: Math.round(rnd() * 100) / 100}))
  }
  return `${lines.join('\n')}\n`
}

function packBytes(root: string): number {
  const dir = join(root, '.dsv', 'packs')
  return readdirSync(dir).reduce((s, f) => s + statSync(join(dir, f)).size, 0)
}

describe('store (library API, real LevelDB)', function () {
  this.timeout(120_000)
  const dirs: string[] = []
  const fresh = async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dsv-store-'))
    dirs.push(dir)
    await Repository.init(dir)
    return dir
  }
  after(() => dirs.forEach((d) => rmSync(d, {recursive: true, force: true})))

  it('stores a 1% edit of 20,000 examples in a small fraction of the first version', async () => {
    const dir = await fresh()
    writeFileSync(join(dir, 'train.jsonl'), examples(20_000))
    let repo = await Repository.open(dir)
    const v1 = await repo.commit({message: 'v1'})
    await repo.close()
    assert.deepEqual(v1.examples, {added: 20_000, removed: 0, modified: 0})
    const afterV1 = packBytes(dir)
    writeFileSync(join(dir, 'train.jsonl'), examples(20_000, (i) => (i % 100 === 7 ? 'B' : 'A')))
    repo = await Repository.open(dir)
    const v2 = await repo.commit({message: 'v2'})
    await repo.close()
    assert.deepEqual(v2.examples, {added: 0, removed: 0, modified: 200})
    const growth = (packBytes(dir) - afterV1) / afterV1
    assert.ok(growth < 0.1, `a 1% edit grew the store by ${(growth * 100).toFixed(1)}%`)
  })

  it('gives equal content the same table id however it was built', async () => {
    const a = await fresh()
    const b = await fresh()
    writeFileSync(join(a, 'd.jsonl'), examples(3000))
    writeFileSync(join(b, 'd.jsonl'), examples(3000, (i) => (i === 5 ? 'C' : 'A')))
    let rb = await Repository.open(b)
    await rb.commit({message: 'different first'})
    await rb.close()
    writeFileSync(join(b, 'd.jsonl'), examples(3000))
    rb = await Repository.open(b)
    await rb.commit({message: 'then the same'})
    const tableB = (await rb.show()).contents.find((f) => f.path === 'd.jsonl')!.oid
    await rb.close()
    const ra = await Repository.open(a)
    await ra.commit({message: 'direct'})
    const tableA = (await ra.show()).contents.find((f) => f.path === 'd.jsonl')!.oid
    await ra.close()
    assert.equal(tableA, tableB)
  })

  it('rejects an object whose bytes no longer match its id', async () => {
    const dir = await fresh()
    writeFileSync(join(dir, 'clip.bin'), randomBytes(200_000)) // incompressible: stored raw
    let repo = await Repository.open(dir)
    await repo.commit({message: 'clip'})
    await repo.close()
    // flip one byte in the middle of the largest pack: inside the clip's bytes
    const packs = join(dir, '.dsv', 'packs')
    const largest = readdirSync(packs).sort((x, y) => statSync(join(packs, y)).size - statSync(join(packs, x)).size)[0]
    const path = join(packs, largest)
    const middle = Math.floor(statSync(path).size / 2)
    const fd = openSync(path, 'r+')
    writeSync(fd, Buffer.from([readFileSync(path)[middle] ^ 0xff]), 0, 1, middle)
    closeSync(fd)
    repo = await Repository.open(dir)
    const out = join(dir, '..', `${Date.now()}-out`)
    dirs.push(out)
    await assert.rejects(repo.checkout('HEAD', {to: out}), (e: unknown) => e instanceof DsvError && e.code === 'E_CORRUPT')
    const f = await repo.fsck()
    await repo.close()
    assert.equal(f.ok, false)
  })

  it('refuses a store whose format version it does not know', async () => {
    const dir = await fresh()
    writeFileSync(join(dir, '.dsv', 'format'), '{"formatVersion": 3}\n')
    await assert.rejects(Repository.open(dir), (e: unknown) => e instanceof DsvError && e.code === 'E_UNSUPPORTED_FORMAT')
  })

  it('lets two concurrent writers through one at a time, both commits kept', async () => {
    const dir = await fresh()
    mkdirSync(join(dir, 'a'))
    writeFileSync(join(dir, 'a', 'one.jsonl'), examples(20_000))
    const run = (msg: string) =>
      new Promise<{code: number | null; out: string}>((resolve) => {
        const c = spawn(process.execPath, [BIN, 'commit', '-m', msg, '--json'], {cwd: dir, env: {...process.env, CI: 'true'}})
        let out = ''
        c.stdout.on('data', (d) => (out += d))
        c.on('exit', (code) => resolve({code, out}))
      })
    const first = run('first')
    await new Promise((r) => setTimeout(r, 150))
    writeFileSync(join(dir, 'a', 'two.jsonl'), examples(10))
    const second = run('second')
    const results = await Promise.all([first, second])
    // Whichever gets the store first commits what it sees (node's start-up decides the
    // order on a loaded machine, not the 150 ms head start); the other waits, then commits
    // what is left, or finds nothing left to commit. Neither is refused as "locked".
    assert.ok(results.some((r) => r.code === 0), JSON.stringify(results))
    for (const r of results) assert.ok(r.code === 0 || (r.code === 1 && r.out.includes('E_NOTHING_TO_COMMIT')), r.out)
    const repo = await Repository.open(dir)
    const log = await repo.log()
    const f = await repo.fsck()
    const st = await repo.status()
    await repo.close()
    assert.equal(f.ok, true)
    assert.equal(log.length, results.filter((r) => r.code === 0).length)
    if (!st.clean) assert.deepEqual(st.files.map((x) => x.path), ['a/two.jsonl'])
  })
})
