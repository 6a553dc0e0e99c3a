/**
 * The worker-thread paths (ingest, diff scan for commit counts and `dsv diff`, checkout, quality check) give the same results as the
 * in-process ones. Large datasets take them on their own; DSV_PARALLEL_MIN_BYTES=0
 * forces them here on small data.
 */
import {strict as assert} from 'node:assert'
import {createHash} from 'node:crypto'
import {cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {dsvEnv} from './helpers.js'

const ROOT = join(import.meta.dirname, '..')

/** On workers, or in-process; 'split': on workers that finish their pack after every file (as with large files). */
type Mode = boolean | 'split'

function dsv(cwd: string, parallel: Mode, ...args: string[]) {
  return dsvWith(cwd, parallel, {}, ...args)
}

function dsvWith(cwd: string, parallel: Mode, extra: Record<string, string>, ...args: string[]) {
  const env: NodeJS.ProcessEnv = {...process.env, DSV_AUTHOR_NAME: 'Par', DSV_AUTHOR_EMAIL: 'par@example.com', CI: 'true', DSV_VERIFY_COUNTS: '1', DSV_PARALLEL_MIN_BYTES: parallel ? '0' : '1000000000000', ...extra}
  if (parallel === 'split') env.DSV_PACK_SPLIT_BYTES = '1'
  return dsvEnv(cwd, env, ...args)
}

function hashTree(dir: string, rel = ''): Record<string, string> {
  const out: Record<string, string> = {}
  for (const name of readdirSync(join(dir, rel)).sort()) {
    if (rel === '' && name === '.dsv') continue
    const path = rel ? `${rel}/${name}` : name
    if (statSync(join(dir, path)).isDirectory()) Object.assign(out, hashTree(dir, path))
    else out[path] = createHash('sha256').update(readFileSync(join(dir, path))).digest('hex')
  }
  return out
}

/** Edits several examples of each fixture table: relabels, deletions, additions. */
function editFixtures(dir: string): void {
  const golden = join(dir, 'golden', 'golden_examples.jsonl')
  const rows = readFileSync(golden, 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l))
  rows[4].expected_output.tier = 'C'
  rows[20].labels.edge_case = !rows[20].labels.edge_case
  rows.splice(30, 2)
  rows.push({...rows[0], id: 'ex-par-1'})
  writeFileSync(golden, `${rows.map((r) => JSON.stringify(r)).join('\n')}\n`)
  const tsv = join(dir, 'common_voice', 'validated.tsv')
  const lines = readFileSync(tsv, 'utf8').split('\n')
  const cells = lines[3].split('\t')
  cells[6] = String(Number(cells[6]) + 2)
  lines[3] = cells.join('\t')
  writeFileSync(tsv, lines.join('\n'))
}

describe('worker-thread paths match the in-process ones', function () {
  this.timeout(120_000)
  const dirs: string[] = []
  const copy = () => {
    const d = mkdtempSync(join(tmpdir(), 'dsv-par-'))
    dirs.push(d)
    cpSync(join(ROOT, 'fixtures'), d, {recursive: true})
    return d
  }
  after(() => dirs.forEach((d) => rmSync(d, {recursive: true, force: true})))

  it('commit, status, diff, checkout and checkout --to agree, and restore byte for byte (also with a pack per file)', () => {
    const results = (['split', true, false] as const).map((parallel) => {
      const d = copy()
      const original = hashTree(d)
      assert.equal(dsv(d, parallel, 'init').code, 0)
      const v1 = dsv(d, parallel, 'commit', '-m', 'v1', '--json')
      assert.equal(v1.code, 0, v1.stderr + v1.stdout)
      const packs = readdirSync(join(d, '.dsv', 'packs')).length
      // 6 tables: a pack each when split, else one per worker; and the main thread's
      if (parallel === 'split') assert.ok(packs >= 7, `${packs} packs`)
      else assert.ok(packs <= 4, `${packs} packs`)
      editFixtures(d)
      const edited = hashTree(d)
      const st = dsv(d, parallel, 'status', '--json').json()
      const v2 = dsv(d, parallel, 'commit', '-m', 'v2', '--json').json()
      const diff = dsv(d, parallel, 'diff', v1.json().id, v2.id, '--json')
      assert.equal(diff.code, 0, diff.stderr + diff.stdout)
      const {from: _f, to: _t, ...changes} = diff.json()
      const co = dsv(d, parallel, 'checkout', v1.json().id, '--json')
      assert.equal(co.code, 0, co.stderr + co.stdout)
      assert.deepEqual(hashTree(d), original, 'checkout of v1 is not byte-exact')
      const out = join(d, '..', `${d.split('/').pop()}-to`)
      dirs.push(out)
      assert.equal(dsv(d, parallel, 'checkout', v2.id, '--to', out).code, 0)
      assert.deepEqual(hashTree(out), edited, 'checkout --to of v2 is not byte-exact')
      assert.equal(dsv(d, parallel, 'fsck').code, 0)
      // quality: checked afresh (no cache) and from the outcomes cached by that run
      const fresh = dsvWith(d, parallel, {DSV_NO_CACHE: '1'}, 'quality', 'check', v2.id, '--json')
      assert.equal(fresh.code, 0, fresh.stderr + fresh.stdout)
      const first = dsv(d, parallel, 'quality', 'check', v2.id, '--json')
      const cached = dsv(d, parallel, 'quality', 'check', v2.id, '--json')
      assert.equal(first.stdout, fresh.stdout)
      assert.equal(cached.stdout, fresh.stdout)
      const {commit: _c, target: _q, ...quality} = fresh.json()
      return {tableIds: v1.json().tree + v2.tree, status: st.files, examples: v2.examples, changes, quality}
    })
    assert.deepEqual(results[0], results[2])
    assert.deepEqual(results[1], results[2])
    assert.deepEqual(results[0].examples, {added: 1, removed: 2, modified: 3})
    assert.deepEqual(results[0].changes.totals.examples, {added: 1, removed: 2, modified: 3, moved: 0})
    assert.equal(results[0].quality.examples, results[0].quality.files.reduce((s: number, f: {examples: number}) => s + f.examples, 0))
  })

  it('a damaged pack stops dsv diff with E_CORRUPT (exit 8), on workers and in-process', () => {
    const d = mkdtempSync(join(tmpdir(), 'dsv-par-'))
    dirs.push(d)
    const write = (version: number) => {
      for (let f = 0; f < 4; f++) {
        const lines = Array.from({length: 3000}, (_, i) => JSON.stringify({id: `f${f}-${i}`, text: `example ${i} of file ${f}`, version}))
        writeFileSync(join(d, `part-${f}.jsonl`), `${lines.join('\n')}\n`)
      }
    }
    write(1)
    assert.equal(dsv(d, true, 'init').code, 0)
    const v1 = dsv(d, 'split', 'commit', '-m', 'v1', '--json') // a pack per file, and the main thread's
    assert.equal(v1.code, 0, v1.stderr + v1.stdout)
    const packsDir = join(d, '.dsv', 'packs')
    const v1Packs = readdirSync(packsDir).map((f) => join(packsDir, f)).sort((a, b) => statSync(a).size - statSync(b).size)
    write(2) // every example modified: the diff reads every leaf of v1
    const v2 = dsv(d, true, 'commit', '-m', 'v2', '--json')
    assert.equal(v2.code, 0, v2.stderr + v2.stdout)
    // v1's packs but the smallest (its tree and commit): the leaves the diff's scans read
    for (const pack of v1Packs.slice(1)) {
      const bytes = readFileSync(pack)
      for (let at = 64; at < bytes.length; at += 997) bytes[at] ^= 0x5a
      writeFileSync(pack, bytes)
    }
    for (const parallel of [true, false]) {
      const r = dsv(d, parallel, 'diff', v1.json().id, v2.json().id, '--json')
      assert.equal(r.code, 8, `parallel ${parallel}: ${r.stderr}${r.stdout}`)
      assert.equal(r.json().error.code, 'E_CORRUPT')
    }
  })

  it('reports invalid data found on a worker with its file and line', () => {
    const d = copy()
    assert.equal(dsv(d, true, 'init').code, 0)
    writeFileSync(join(d, 'golden', 'broken.jsonl'), '{"id": 1}\n{"id": 2\n')
    const r = dsv(d, true, 'commit', '-m', 'x', '--json')
    assert.equal(r.code, 5)
    assert.deepEqual([r.json().error.code, r.json().error.file, r.json().error.line], ['E_INVALID_DATA', 'golden/broken.jsonl', 2])
  })
})
