/**
 * End to end on real datasets nobody on this project wrote (../shared/datasets, copied into
 * temp dirs): GSM8K train.jsonl (keyless, 7,473 lines) and a Polish Common Voice
 * validated.tsv (key `path`). Skipped when the datasets are not there.
 */
import assert from 'node:assert/strict'
import fs from 'node:fs'
import path from 'node:path'
import {
  TempDirs,
  assertExit,
  counts,
  dsvAsync,
  editLines,
  editTsvByKey,
  sha256File,
  sharedDatasets,
  type RunResult,
  type StatusDoc,
} from './helpers.js'

const GSM8K = path.join(sharedDatasets, 'gsm8k', 'train.jsonl')
const CV = path.join(sharedDatasets, 'common-voice-pl', 'validated.tsv')

const tmp = new TempDirs()
after(() => tmp.cleanup())

/** A temp repository holding a copy of `source` at `rel` (writable), committed once. */
async function repoWith(source: string, rel: string): Promise<{dir: string; first: string; file: string}> {
  const dir = tmp.make('dsv-real-')
  const file = path.join(dir, rel)
  fs.mkdirSync(path.dirname(file), {recursive: true})
  fs.copyFileSync(source, file)
  fs.chmodSync(file, 0o644)
  assertExit(await dsvAsync(dir, 'init', '--quiet'), 0)
  const c = await dsvAsync(dir, 'commit', '-m', `import ${rel}`, '--json')
  assertExit(c, 0)
  return {dir, first: c.json().id, file}
}

async function json<T = any>(p: Promise<RunResult>, code = 0): Promise<T> {
  const r = await p
  assertExit(r, code)
  return r.json<T>()
}

type Repo = {dir: string; first: string; file: string}

/** Both repositories are prepared at once, before either describe runs. */
const prepared: {gsm8k?: Promise<Repo>; cv?: Promise<Repo>} = {}
function prepare(which: 'gsm8k' | 'cv'): Promise<Repo> {
  prepared.gsm8k ??= fs.existsSync(GSM8K) ? repoWith(GSM8K, 'gsm8k/train.jsonl') : undefined
  prepared.cv ??= fs.existsSync(CV) ? repoWith(CV, 'common_voice_pl/validated.tsv') : undefined
  for (const p of Object.values(prepared)) p?.catch(() => {}) // reported where awaited
  return prepared[which]!
}

describe('real data: GSM8K train.jsonl (keyless)', function () {
  this.timeout(120_000)
  let repo: Promise<Repo>
  const rel = 'gsm8k/train.jsonl'
  const lines = [0, 1234, 3000, 5555, 7472]
  let original: string

  before(function () {
    if (!fs.existsSync(GSM8K)) this.skip()
    original = sha256File(GSM8K)
    repo = prepare('gsm8k')
  })

  it('commits all 7,473 lines as examples', async () => {
    const {dir} = await repo
    const total = fs.readFileSync(GSM8K, 'utf8').split('\n').filter((l) => l.trim() !== '').length
    assert.equal(total, 7473)
    const log = await json(dsvAsync(dir, 'log', '--json'))
    assert.deepEqual(log[0].examples, counts(total, 0, 0))
    const show = await json(dsvAsync(dir, 'show', '--json'))
    assert.deepEqual(show.contents.map((e: {path: string; examples: number}) => [e.path, e.examples]), [[rel, total]])
  })

  it(`editing ${lines.length} answers in place: status says ${lines.length} modified, 0 added, 0 removed`, async () => {
    const {dir, file} = await repo
    const wanted = new Set(lines)
    const changed = editLines(file, (line, i) => {
      if (!wanted.has(i)) return line
      const rec = JSON.parse(line)
      return JSON.stringify({...rec, answer: rec.answer.replace(/#### /, '#### (checked) ')})
    })
    assert.equal(changed, lines.length)
    const st = await json<StatusDoc>(dsvAsync(dir, 'status', '--json'))
    assert.deepEqual(st.files, [{path: rel, status: 'modified', kind: 'table', examples: counts(0, 0, lines.length)}])
    assert.deepEqual(st.examples, counts(0, 0, lines.length))
    const c = await json(dsvAsync(dir, 'commit', '-m', 'fix 5 answers', '--json'))
    assert.deepEqual(c.examples, counts(0, 0, lines.length))
  })

  it('checkout of the first version gives the original file back (same SHA-256)', async () => {
    const {dir, first, file} = await repo
    assert.notEqual(sha256File(file), original)
    const r = await json(dsvAsync(dir, 'checkout', first, '--json'))
    assert.equal(r.written, 1)
    assert.equal(sha256File(file), original)
  })
})

describe('real data: Common Voice (pl) validated.tsv (key `path`)', function () {
  this.timeout(120_000)
  let repo: Promise<Repo>
  const rel = 'common_voice_pl/validated.tsv'
  let original: string
  let keys: string[]

  before(function () {
    if (!fs.existsSync(CV)) this.skip()
    original = sha256File(CV)
    const rows = fs.readFileSync(CV, 'utf8').split('\n').filter((l) => l !== '').slice(1)
    const pathCol = fs.readFileSync(CV, 'utf8').split('\n')[0].split('\t').indexOf('path')
    keys = [rows[5], rows[300], rows.at(-1)!].map((r) => r.split('\t')[pathCol])
    assert.equal(new Set(keys).size, 3)
    repo = prepare('cv')
  })

  it('changing up_votes of 3 rows: 3 modified examples', async () => {
    const {dir, file} = await repo
    assert.equal(editTsvByKey(file, 'path', keys, 'up_votes', (v) => String(Number(v) + 10)), 3)
    const st = await json<StatusDoc>(dsvAsync(dir, 'status', '--json'))
    assert.deepEqual(st.files, [{path: rel, status: 'modified', kind: 'table', examples: counts(0, 0, 3)}])
    assertExit(await dsvAsync(dir, 'commit', '-m', 'votes', '--quiet'), 0)
  })

  it('checkout of the first version restores the table byte for byte', async () => {
    const {dir, first, file} = await repo
    assert.notEqual(sha256File(file), original)
    assertExit(await dsvAsync(dir, 'checkout', first, '--quiet'), 0)
    assert.equal(sha256File(file), original)
  })
})
