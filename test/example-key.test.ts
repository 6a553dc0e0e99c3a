/**
 * Field paths on parsed examples read the example's own fields only: an example without
 * a `constructor` or `toString` field has none (JavaScript objects inherit both), so a
 * key, a quality rule or an export naming such a field sees it missing, not a function.
 */
import assert from 'node:assert/strict'
import fs from 'node:fs'
import path from 'node:path'
import {getPath, keyOf, parseRecord} from '../src/core/example-key.js'
import {fixturesDir} from './helpers.js'

describe('field paths on parsed examples', () => {
  const line = fs.readFileSync(path.join(fixturesDir, 'golden', 'golden_examples.jsonl'), 'utf8').split('\n')[0]
  const example = parseRecord(Buffer.from(line), 'jsonl', '') as Record<string, unknown>

  it('read nested fields, and nothing an example does not have itself', () => {
    assert.equal(getPath(example, 'expected_output.tier'), (example.expected_output as Record<string, unknown>).tier)
    assert.equal(getPath(example, 'id'), example.id)
    for (const p of ['constructor', 'toString', '__proto__', 'expected_output.constructor', 'labels.hasOwnProperty', 'no_such_field', 'id.length']) {
      assert.equal(getPath(example, p), undefined, p)
    }
    assert.equal(keyOf(example, ['constructor']), null)
  })

  it('read a field named like an Object.prototype member when the example has one', () => {
    const withField = parseRecord(Buffer.from(JSON.stringify({...example, constructor: 'c-1', labels: {toString: 'x'}})), 'jsonl', '') as Record<string, unknown>
    assert.equal(getPath(withField, 'constructor'), 'c-1')
    assert.equal(getPath(withField, 'labels.toString'), 'x')
    assert.equal(keyOf(withField, ['constructor']), 'c-1')
  })

  it('keep a CSV/TSV column named __proto__ as a field, as JSON.parse keeps such a key', () => {
    for (const [format, header, row] of [['csv', 'id,__proto__,label\n', 'r-1,x,cat\n'], ['tsv', 'id\t__proto__\tlabel\n', 'r-1\tx\tcat\n']] as const) {
      const ex = parseRecord(Buffer.from(row), format, header) as Record<string, unknown>
      assert.deepEqual(Object.keys(ex), ['id', '__proto__', 'label'], format)
      assert.equal(getPath(ex, '__proto__'), 'x', format)
      assert.equal(Object.getPrototypeOf(ex), Object.prototype, format)
    }
    const fromJson = parseRecord(Buffer.from('{"id":"r-1","__proto__":"x"}\n'), 'jsonl', '') as Record<string, unknown>
    assert.equal(getPath(fromJson, '__proto__'), 'x')
  })
})
