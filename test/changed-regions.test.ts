/**
 * The record-tree walk behind `dsv diff` and checkout (src/core/changed-regions.ts), on
 * tables committed by the real binary into a real store: the changed regions hold
 * exactly the leaves one version has and the other lacks, and a rewrite plan (ranges of
 * the old file plus the leaves it lacks) rebuilds the new file byte for byte, through
 * edits, insertions, deletions, a block moved elsewhere, repeated content and a header.
 */
import {strict as assert} from 'node:assert'
import {createHash} from 'node:crypto'
import {writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {Repository} from '../src/core/repository.js'
import {changedRegions, rewritePlan} from '../src/core/changed-regions.js'
import {listLeaves, readTable, type LeafSpan} from '../src/core/table-read.js'
import {decodeLeaf} from '../src/core/table-nodes.js'
import {flattenTree} from '../src/core/tree-ops.js'
import {readCommit} from '../src/core/ops/history.js'
import type {Table} from '../src/core/model.js'
import {dsv, dsvJson, TempDirs} from './helpers.js'

const text = (i: number) => createHash('sha256').update(String(i)).digest('hex').repeat(2)
const jsonl = (ids: number[]) => ids.map((i) => `${JSON.stringify({id: `ex-${i}`, text: text(i)})}\n`).join('')
const range = (from: number, to: number) => Array.from({length: to - from}, (_, i) => from + i)

describe('changed regions and rewrite plans of two table versions', function () {
  this.timeout(120_000)
  const tmp = new TempDirs()
  after(() => tmp.cleanup())

  /** Commits `v1` then `v2` as `file`; returns both versions' tables, with the store open. */
  async function twoVersions(file: string, v1: string, v2: string): Promise<{repo: Repository; a: Table; b: Table}> {
    const dir = tmp.make('dsv-regions-')
    assert.equal(dsv(dir, 'init').code, 0)
    writeFileSync(join(dir, file), v1)
    const c1 = dsvJson(dir, 0, 'commit', '-m', 'v1', '--json').id
    writeFileSync(join(dir, file), v2)
    const c2 = dsvJson(dir, 0, 'commit', '-m', 'v2', '--json').id
    const repo = await Repository.open(dir)
    const table = async (commit: string) => readTable(repo.store, (await flattenTree(repo.store, (await readCommit(repo, commit)).tree)).get(file)!.oid)
    return {repo, a: await table(c1), b: await table(c2)}
  }

  async function leafRecords(repo: Repository, oid: string): Promise<Buffer> {
    return Buffer.concat(decodeLeaf((await repo.store.get(oid, 'leaf')).content))
  }

  /** The regions hold exactly the leaves not common to both versions, each as listed in its table. */
  async function checkRegions(repo: Repository, a: Table, b: Table): Promise<void> {
    const regions = await changedRegions(repo.store, a, b)
    const [la, lb] = [await listLeaves(repo.store, a), await listLeaves(repo.store, b)]
    const ids = (l: LeafSpan[]) => new Set(l.map((s) => s.oid))
    const [ia, ib] = [ids(la), ids(lb)]
    const inRegions = (side: 'old' | 'new') => regions.flatMap((r) => r[side])
    for (const [side, mine, theirs] of [['old', la, ib], ['new', lb, ia]] as const) {
      const listed = inRegions(side)
      const byStart = new Map(mine.map((s) => [s.start, s]))
      for (const s of listed) assert.deepEqual(s, byStart.get(s.start), `a ${side} region span is not a leaf of its table`)
      const lacking = mine.filter((s) => !theirs.has(s.oid)).map((s) => s.start)
      const listedStarts = new Set(listed.map((s) => s.start))
      for (const start of lacking) assert.ok(listedStarts.has(start), `the ${side} leaf at record ${start} is missing from the regions`)
    }
  }

  /** Applying the plan to version a's records gives version b's records byte for byte; returns the bytes copied. */
  async function checkRewrite(repo: Repository, a: Table, b: Table, v1: string, v2: string): Promise<number> {
    const oldRecords = Buffer.from(v1).subarray(Buffer.byteLength(a.header))
    const parts: Buffer[] = []
    let copied = 0
    for (const p of await rewritePlan(repo.store, a, b)) {
      if ('oid' in p) parts.push(await leafRecords(repo, p.oid))
      else {
        parts.push(oldRecords.subarray(p.from, p.from + p.length))
        copied += p.length
      }
    }
    assert.ok(Buffer.concat(parts).equals(Buffer.from(v2).subarray(Buffer.byteLength(b.header))), 'the plan does not rebuild version 2')
    return copied
  }

  const base = range(0, 3000)
  const cases: Array<{name: string; v2: number[]; minCopied: number}> = [
    {name: 'scattered edits, insertions and deletions', v2: base.flatMap((i) => (i % 400 === 7 ? [] : i % 500 === 3 ? [i, 90_000 + i] : [i % 450 === 11 ? 80_000 + i : i])), minCopied: 0.5},
    {name: 'a block moved to the end', v2: [...range(0, 1000), ...range(2000, 3000), ...range(1000, 2000)], minCopied: 0.9},
    {name: 'the same block twice', v2: [...range(0, 3000), ...range(500, 900)], minCopied: 0.8},
    {name: 'everything reversed', v2: [...base].reverse(), minCopied: 0},
  ]
  for (const c of cases) {
    it(`JSONL: ${c.name}`, async () => {
      const v1 = jsonl(base)
      const v2 = jsonl(c.v2)
      const {repo, a, b} = await twoVersions('train.jsonl', v1, v2)
      try {
        await checkRegions(repo, a, b)
        const copied = await checkRewrite(repo, a, b, v1, v2)
        assert.ok(copied >= c.minCopied * Buffer.byteLength(v2), `${copied} of ${Buffer.byteLength(v2)} bytes copied`)
      } finally {
        await repo.close()
      }
    })
  }

  it('a CSV with a header, and a version grown from an empty file', async () => {
    const csv = (ids: number[]) => `id,text\n${ids.map((i) => `ex-${i},"${text(i)}"\n`).join('')}`
    const v1 = csv(base)
    const v2 = csv(base.map((i) => (i % 300 === 5 ? 70_000 + i : i)))
    const {repo, a, b} = await twoVersions('train.csv', v1, v2)
    try {
      await checkRegions(repo, a, b)
      assert.ok((await checkRewrite(repo, a, b, v1, v2)) > 0)
    } finally {
      await repo.close()
    }
    const grown = await twoVersions('grown.jsonl', '', jsonl(base))
    try {
      await checkRegions(grown.repo, grown.a, grown.b)
      assert.equal(await checkRewrite(grown.repo, grown.a, grown.b, '', jsonl(base)), 0)
    } finally {
      await grown.repo.close()
    }
  })
})
