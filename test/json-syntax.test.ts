/**
 * The byte-level JSON check that commit uses instead of JSON.parse must accept exactly
 * what JSON.parse (plus "is an object") accepts: checked on hand-picked edge cases and on
 * many seeded random mutations of real lines (fixtures and, when present, GSM8K).
 */
import assert from 'node:assert/strict'
import fs from 'node:fs'
import path from 'node:path'
import {isJsonObjectText} from '../src/core/json-syntax.js'
import {fixturesDir, sharedDatasets} from './helpers.js'

function parsesAsObject(text: string): boolean {
  try {
    const v = JSON.parse(text)
    return v !== null && typeof v === 'object' && !Array.isArray(v)
  } catch {
    return false
  }
}

function agree(text: string): void {
  const expected = parsesAsObject(text)
  assert.equal(isJsonObjectText(Buffer.from(text, 'utf8')), expected, `${expected ? 'rejected' : 'accepted'}: ${JSON.stringify(text)}`)
}

/** mulberry32: a small seeded PRNG, so a failure reproduces */
function prng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

function realLines(): string[] {
  const files = [path.join(fixturesDir, 'golden', 'golden_examples.jsonl'), path.join(fixturesDir, 'conversations', 'chats.jsonl'), path.join(fixturesDir, 'golden', 'stt_failed_cases.jsonl'), path.join(sharedDatasets, 'gsm8k', 'test.jsonl')]
  const lines: string[] = []
  for (const f of files) {
    if (!fs.existsSync(f)) continue
    lines.push(...fs.readFileSync(f, 'utf8').split('\n').filter((l) => l.trim() !== '').slice(0, 400))
  }
  return lines
}

describe('JSON syntax check (commit validation without JSON.parse)', () => {
  it('agrees with JSON.parse on edge cases', () => {
    const cases = [
      '{}', ' {} ', '{}\n', '{}\r\n', '\t{ }\t', '{"a":1}', '{"a":1,}', '{,"a":1}', '{"a" 1}', '{"a":}', '{a:1}', "{'a':1}",
      '[]', '[{}]', '"x"', '1', 'null', 'true', '', ' ', '{', '}', '{}}', '{}{}', '{} x', '{"a":[1,2,]}', '{"a":[,1]}', '{"a":[1 2]}',
      '{"a":01}', '{"a":-0}', '{"a":-}', '{"a":1.}', '{"a":.5}', '{"a":1e5}', '{"a":1E+5}', '{"a":1e-5}', '{"a":1e}', '{"a":1e+}',
      '{"a":-1.25e-3}', '{"a":+1}', '{"a":0x10}', '{"a":NaN}', '{"a":Infinity}', '{"a":1_000}', '{"a":00}', '{"a":0.0}',
      '{"a":true}', '{"a":tru}', '{"a":truee}', '{"a":false}', '{"a":null}', '{"a":nul}', '{"a":True}',
      '{"a":"\\u00e9"}', '{"a":"\\u00G9"}', '{"a":"\\u00e"}', '{"a":"\\x41"}', '{"a":"\\/"}', '{"a":"\\b\\f\\n\\r\\t\\"\\\\"}', '{"a":"\\a"}',
      '{"a":"\\ud800"}', '{"a":"tab\there"}', '{"a":"nl\nhere"}', '{"a":"\u0000"}', '{"a":"\u001f"}', '{"a":"\u007f"}', '{"a":"é ü 中 🎉"}',
      '\ufeff{}', '{}\u00a0', '\u2028{}', '{"a":{"b":{"c":[[[[]]]]}}}', '{"a":{"b":{"c":[[[[]]]]}}', '{"a":[}', '{"a":{]}',
      '{"":""}', '{"a":1,"a":2}', '{"a" : [ 1 , { "b" : null } ] }', '{"a":"unterminated}', '{"a":"x"  ,  "b":"y"}', '{"a\\"b":1}',
      `{"deep":${'['.repeat(200)}${']'.repeat(200)}}`, `{"deep":${'['.repeat(200)}${']'.repeat(199)}}`,
    ]
    for (const c of cases) agree(c)
  })

  it('agrees with JSON.parse on 60,000 random mutations of real lines', () => {
    const lines = realLines()
    assert.ok(lines.length >= 100, 'real lines to mutate')
    const random = prng(20261202)
    const alphabet = ['{', '}', '[', ']', '"', ',', ':', '\\', ' ', '\t', '\n', '\r', '0', '1', '-', '+', '.', 'e', 'E', 't', 'f', 'n', 'u', 'a', '/', '\u0001', '\u00e9', 'x']
    const pick = <T>(xs: T[]): T => xs[Math.floor(random() * xs.length)]
    let accepted = 0
    for (let round = 0; round < 60_000; round++) {
      let text = pick(lines)
      const edits = 1 + Math.floor(random() * 3)
      for (let e = 0; e < edits; e++) {
        const at = Math.floor(random() * (text.length + 1))
        const kind = random()
        if (kind < 0.4) text = text.slice(0, at) + text.slice(at + 1) // delete a character
        else if (kind < 0.8) text = text.slice(0, at) + pick(alphabet) + text.slice(at) // insert one
        else text = text.slice(0, at) + pick(alphabet) + text.slice(at + 1) // replace one
      }
      if (parsesAsObject(text)) accepted++
      agree(text)
    }
    // the mutations must exercise both answers, or the test proves little
    assert.ok(accepted > 3_000 && accepted < 57_000, `${accepted} of 60,000 mutations parse`)
  })

  it('agrees with JSON.parse around the 16-byte blocks the string scan reads, on long and deep texts, and after them', () => {
    // a string's end, an escape or a control byte at every offset of a block, up to 3 blocks
    for (let len = 0; len < 50; len++) {
      const body = 'x'.repeat(len)
      for (const text of [`{"a":"${body}"}`, `{"a":"${body}\\n"}`, `{"a":"${body}\u0001"}`, `{"a":"${body}`, `{"a":"${body}\\u12"}`, `{"${body}":1}`, `{"a":1${'0'.repeat(len)}}`]) agree(text)
    }
    // texts larger than the scanner's memory (it grows), nested deeper than any fixed stack
    agree(`{"a":"${'y'.repeat(3_000_000)}"}`)
    agree(`{"a":"${'y'.repeat(3_000_000)}`)
    agree(`{"deep":${'['.repeat(5000)}${']'.repeat(5000)}}`)
    agree(`{"deep":${'{"a":'.repeat(3000)}1${'}'.repeat(3000)}}`)
    agree(`{"deep":${'{"a":'.repeat(3000)}1${'}'.repeat(2999)}}`)
    // short texts after a long one: what the long one left in memory must not matter
    agree('{"a":1')
    agree('{"a":"1')
    agree('{"a":tru')
    agree('{"a":-')
  })

  it('accepts every unmutated real line', () => {
    for (const line of realLines()) assert.equal(isJsonObjectText(Buffer.from(line)), true, line)
  })
})
