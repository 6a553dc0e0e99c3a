/**
 * Chunking rules (src/core/chunking.ts): XXH32 against its reference vectors, each rule's
 * boundary byte, and the rule a table keeps: tables committed before rules existed (a
 * repository written by an older dsv) stay on rule 1, so an edit still changes only the
 * leaf around it; tables new to a repository take rule 2.
 */
import {strict as assert} from 'node:assert'
import {spawnSync} from 'node:child_process'
import {createHash} from 'node:crypto'
import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {Repository} from '../dist/index.js' // the built library, as users get it
import {boundaryByte, chunkingOf, xxh32} from '../dist/core/chunking.js'
import {listLeaves, readTable} from '../dist/core/table-read.js'

process.env.DSV_AUTHOR_NAME = 'Chunking Test'
process.env.DSV_AUTHOR_EMAIL = 'chunking@example.com'

describe('chunking rules', function () {
  this.timeout(60_000)
  const dirs: string[] = []
  after(() => dirs.forEach((d) => rmSync(d, {recursive: true, force: true})))

  it('XXH32 (seed 0) matches the reference vectors, short inputs and whole 16-byte stripes', () => {
    const vectors: Array<[string, number]> = [
      ['', 0x02cc5d05], ['a', 0x550d7456], ['abc', 0x32d153ff], ['ABC', 0x80712ed5], ['0', 0x48454cb2], ['01', 0x034d0471],
      ['012', 0x48009497], ['0123', 0x0a0b4c93], ['01234', 0x8aa3b71c], ['012345', 0x994e4577],
      ['Nobody inspects the spammish repetition', 0xe2293b2f],
    ]
    for (const [text, expected] of vectors) assert.equal(xxh32(Buffer.from(text)), expected, JSON.stringify(text))
    assert.equal(xxh32(Buffer.from('9eff1f4b5e532fddb5544d2a952b', 'hex')), 0xe5aa0ab4)
  })

  it('rule 1 is the last byte of the SHA-256, rule 2 the low byte of the XXH32; both end ~1 record in 16', () => {
    const records = readFileSync(join(import.meta.dirname, '..', 'fixtures', 'golden', 'golden_examples.jsonl')).toString('utf8').split('\n').filter(Boolean).map((l) => Buffer.from(`${l}\n`))
    const [rule1, rule2] = [boundaryByte(1), boundaryByte(2)]
    for (const r of records) {
      assert.equal(rule1(r), createHash('sha256').update(r).digest()[31])
      assert.equal(rule2(r), xxh32(r) & 0xff)
    }
    // over many distinct records, the low 4 bits are zero about 1 time in 16 under both
    const many = Array.from({length: 32_000}, (_, i) => Buffer.from(`{"id":"ex-${i}","text":"example number ${i * 7919}"}\n`))
    for (const rule of [rule1, rule2]) {
      const ends = many.filter((r) => (rule(r) & 0x0f) === 0).length
      assert.ok(ends > 1700 && ends < 2300, `${ends} boundaries in 32,000 records`)
    }
    assert.deepEqual([chunkingOf(null), chunkingOf({}), chunkingOf({chunking: 1}), chunkingOf({chunking: 2}), chunkingOf({chunking: 7})], [2, 1, 1, 2, 2])
  })

  it('a table keeps the rule it was first committed with (an edit changes one leaf); a new table takes rule 2', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dsv-chunking-'))
    dirs.push(dir)
    // fixtures committed twice by dsv at 435cf61, before chunking rules existed
    const untar = spawnSync('tar', ['xzf', join(import.meta.dirname, 'data', 'format1-repo.tar.gz'), '-C', dir])
    assert.equal(untar.status, 0, String(untar.stderr))
    const golden = join(dir, 'golden', 'golden_examples.jsonl')
    const lines = readFileSync(golden, 'utf8').split('\n')
    lines[40] = lines[40].replace(`"id":"ex-0041"`, `"id":"ex-0041","reviewed":true`)
    assert.notEqual(lines[40], readFileSync(golden, "utf8").split("\n")[40], "the edit applies")
    writeFileSync(golden, lines.join('\n'))
    const added = Array.from({length: 400}, (_, i) => JSON.stringify({id: `new-${i}`, text: `a new example ${i}`}))
    writeFileSync(join(dir, 'new.jsonl'), `${added.join('\n')}\n`)

    const repo = await Repository.open(dir)
    try {
      const tableOf = async (rev: string, path: string) => {
        const entry = (await repo.show(rev)).contents.find((e) => e.path === path)
        assert.ok(entry, `${path} in ${rev}`)
        const raw = JSON.parse((await repo.store.get(entry.oid, 'table')).content.toString('utf8'))
        return {raw, leaves: (await listLeaves(repo.store, await readTable(repo.store, entry.oid))).map((l: {oid: string}) => l.oid)}
      }
      const before = await tableOf('HEAD', 'golden/golden_examples.jsonl')
      await repo.commit({message: 'one example edited, a new file'})
      const after = await tableOf('HEAD', 'golden/golden_examples.jsonl')
      assert.equal('chunking' in before.raw, false)
      assert.equal('chunking' in after.raw, false, 'the edited table stays on rule 1')
      const fresh = after.leaves.filter((l: string) => !before.leaves.includes(l))
      assert.ok(before.leaves.length >= 3, `${before.leaves.length} leaves`)
      assert.equal(fresh.length, 1, 'only the leaf holding the edited example is new')
      assert.equal((await tableOf('HEAD', 'new.jsonl')).raw.chunking, 2, 'a new table takes rule 2')
    } finally {
      await repo.close()
    }
  })
})
