/**
 * Unit deltas between leaves (records with their length prefixes), as ingestion stores
 * changed leaves: every kind of edit round-trips exactly through applyDelta, and an
 * example edited in place costs a few bytes, found without indexing the base.
 */
import {strict as assert} from 'node:assert'
import {createHash} from 'node:crypto'
import {applyDelta, computeDelta} from '../src/core/delta.js'
import {encodeLeaf, leafRecordSpans, leafUnitHeader} from '../src/core/table-nodes.js'

const record = (i: number, label = 'B') =>
  Buffer.from(`${JSON.stringify({id: `ex-${i}`, input_data: createHash('sha256').update(String(i)).digest('hex').repeat(6), expected_output: {tier: label}})}\n`)

function delta(base: Buffer[], target: Buffer[]): {delta: Buffer; target: Buffer} {
  const b = encodeLeaf(base)
  const t = encodeLeaf(target)
  const d = computeDelta(b, leafRecordSpans(b), t, leafRecordSpans(t), leafUnitHeader)
  assert.deepEqual(applyDelta(b, d), t, 'applyDelta rebuilds the target exactly')
  return {delta: d, target: t}
}

describe('leaf deltas', () => {
  const base = Array.from({length: 16}, (_, i) => record(i))

  it('an example edited in place costs a few bytes', () => {
    const edited = base.map((r, i) => (i === 7 ? record(7, 'A') : r))
    const {delta: d, target} = delta(base, edited)
    assert.ok(d.length < 40, `${d.length} bytes for a one-letter edit of a ${target.length}-byte leaf`)
  })

  it('inserted, deleted, moved, duplicated and rewritten examples all round-trip', () => {
    const cases: Record<string, Buffer[]> = {
      inserted: [...base.slice(0, 5), record(100), record(101), ...base.slice(5)],
      deleted: [...base.slice(0, 3), ...base.slice(6)],
      'moved to the end': [...base.slice(1), base[0]],
      reversed: [...base].reverse(),
      duplicated: [...base.slice(0, 8), base[2], base[2], ...base.slice(8)],
      'all new': Array.from({length: 12}, (_, i) => record(1000 + i)),
      'every other one edited': base.map((r, i) => (i % 2 ? record(i, 'C') : r)),
      empty: [],
      'longer and shorter': base.map((r, i) => (i % 3 === 0 ? Buffer.concat([r.subarray(0, -1), Buffer.from(' extra\n')]) : i % 3 === 1 ? r.subarray(0, 20) : r)),
    }
    for (const [name, target] of Object.entries(cases)) {
      const {delta: d, target: t} = delta(base, target)
      assert.ok(d.length > 0, name)
      if (name !== 'all new' && name !== 'empty') assert.ok(d.length < t.length / 2, `${name}: ${d.length} of ${t.length} bytes`)
    }
  })

  it('round-trips random edits of random leaves', () => {
    let seed = 7
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff
      return seed % n
    }
    for (let round = 0; round < 300; round++) {
      const from = Array.from({length: 1 + rand(40)}, () => record(rand(60), 'AB'[rand(2)]))
      const to = [...from]
      for (let edits = rand(5); edits > 0; edits--) {
        const at = rand(to.length + 1)
        const op = rand(3)
        if (op === 0) to.splice(at, 0, record(rand(60), 'ABC'[rand(3)]))
        else if (op === 1 && to.length > 0) to.splice(Math.min(at, to.length - 1), 1)
        else if (to.length > 0) to[Math.min(at, to.length - 1)] = record(rand(60), 'D')
      }
      delta(from, to)
    }
  })
})
