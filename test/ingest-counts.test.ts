/**
 * Example counts worked out while a table is ingested (src/core/ingest-counts.ts), on real
 * files and real packs: version 2 of a keyed JSONL is ingested against version 1's leaves
 * and its counts are held to the ones computed here from the two files, key by key; the
 * cases the tally must not answer (keyless, common leaves out of order) give null, so that
 * the commit falls back to the diff's scan.
 */
import {strict as assert} from 'node:assert'
import {createHash} from 'node:crypto'
import {mkdirSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {ingestTable, type IngestResult} from '../src/core/ingest.js'
import {PackLeafStore, type StoredLeaf} from '../src/core/leaf-store.js'

const line = (id: string, text: string) => `${JSON.stringify({id, text})}\n`
const text = (i: number) => createHash('sha256').update(String(i)).digest('hex').repeat(3)

describe('example counts while ingesting', () => {
  let dir: string
  let packDir: string
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'dsv-counts-'))
    packDir = join(dir, 'packs')
    mkdirSync(packDir)
  })
  afterEach(() => rmSync(dir, {recursive: true, force: true}))

  /** Ingests v1, then v2 against v1's leaves; returns v2's result. */
  function ingestTwice(v1: string[], v2: string[]): IngestResult {
    const file = join(dir, 'train.jsonl')
    writeFileSync(file, v1.join(''))
    const first = new PackLeafStore(packDir, 3, new Map())
    const r1 = ingestTable({absPath: file, relPath: 'train.jsonl', format: 'jsonl', oldLeaves: []}, first)
    const locations = new Map<string, StoredLeaf>(first.finish().map((e) => [e.oid.toString('hex'), {packId: e.packId, blockOffset: e.blockOffset, entryOffset: e.entryOffset, base: e.base?.toString('hex')}]))
    writeFileSync(file, v2.join(''))
    const second = new PackLeafStore(packDir, 3, locations)
    const r2 = ingestTable({absPath: file, relPath: 'train.jsonl', format: 'jsonl', oldLeaves: r1.leaves, counting: {keys: {}, old: {format: 'jsonl', header: ''}}}, second)
    second.finish()
    return r2
  }

  /** The counts from the two versions' lines, by id (the reference). */
  function byKey(v1: string[], v2: string[]): {added: number; removed: number; modified: number} {
    const index = (lines: string[]) => new Map(lines.filter((l) => l.trim()).map((l) => [JSON.parse(l).id as string, l.trimEnd()]))
    const a = index(v1)
    const b = index(v2)
    let added = 0
    let removed = 0
    let modified = 0
    for (const [k, l] of b) if (!a.has(k)) added++
    else if (a.get(k) !== l) modified++
    for (const k of a.keys()) if (!b.has(k)) removed++
    return {added, removed, modified}
  }

  const v1 = Array.from({length: 4000}, (_, i) => line(`ex-${i}`, text(i)))

  it('edits, deletions, insertions and a blank line: the counts the keys give', () => {
    const v2 = v1.flatMap((l, i) => {
      if (i % 97 === 3) return [] // deleted
      if (i % 89 === 5) return [line(`ex-${i}`, 'relabelled')] // modified in place
      if (i % 211 === 7) return [l, line(`new-${i}`, text(-i))] // inserted after
      if (i === 1234) return [l, '\n'] // a blank line is not an example
      return [l]
    })
    const r = ingestTwice(v1, v2)
    assert.deepEqual(r.changes, byKey(v1, v2))
    assert.ok(r.changes!.added > 10 && r.changes!.removed > 10 && r.changes!.modified > 10, JSON.stringify(r.changes))
  })

  it('an example moved inside the file and a last line that lost its newline are not changes', () => {
    const v2 = [...v1]
    const [moved] = v2.splice(100, 1)
    v2.splice(2000, 0, moved)
    v2[v2.length - 1] = v2[v2.length - 1].trimEnd()
    v2[50] = line('ex-50', 'edited')
    const r = ingestTwice(v1, v2)
    assert.deepEqual(r.changes, {added: 0, removed: 0, modified: 1})
  })

  it('answers null for a file rewritten wholesale (more than 32 MB changed): memory stays bounded', function () {
    this.timeout(60_000)
    const big = Array.from({length: 160_000}, (_, i) => line(`ex-${i}`, text(i)))
    const r = ingestTwice(big, big.map((l) => l.replace('","text":"', '", "text": "')))
    assert.equal(r.changes, null)
  })

  it('answers null when only the diff can say: no key, or common leaves out of order', () => {
    const keyless = (lines: string[]) => lines.map((l) => `${JSON.stringify({text: JSON.parse(l).text})}\n`)
    assert.equal(ingestTwice(keyless(v1), keyless(v1.map((l, i) => (i === 7 ? line('x', 'y') : l)))).changes, null)
    const swapped = [...v1.slice(2000), ...v1.slice(0, 2000)] // the leaves come back in another order
    assert.equal(ingestTwice(v1, swapped).changes, null)
  })
})
