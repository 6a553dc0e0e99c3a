/**
 * Field changes between two versions of an example, on the fixtures' real records
 * (nested objects, arrays of messages, arrays of strings) edited at random: applying the
 * reported changes to the old example must give the new one exactly, each change must
 * name values that really differ at its path, and objects are always opened down to the
 * field that changed.
 */
import assert from 'node:assert/strict'
import fs from 'node:fs'
import path from 'node:path'
import {isDeepStrictEqual} from 'node:util'
import {fieldChanges, type FieldChange} from '../src/core/field-diff.js'
import {fixturesDir} from './helpers.js'

type Json = null | boolean | number | string | Json[] | {[k: string]: Json}

/** mulberry32: a small seeded PRNG, so a failure reproduces */
function prng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

function records(file: string): Json[] {
  return fs
    .readFileSync(path.join(fixturesDir, file), 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as Json)
}

const isObject = (v: unknown): v is {[k: string]: Json} => typeof v === 'object' && v !== null && !Array.isArray(v)

/** A copy of `v` with a few random edits anywhere in it: values changed, keys added or removed, array elements edited, inserted or dropped. */
function mutate(v: Json, random: () => number, depth = 0): Json {
  const pick = <T>(xs: T[]): T => xs[Math.floor(random() * xs.length)]
  const fresh = (): Json => pick<Json>([null, true, 42, -0.5, 'new text', {nested: 'x'}, ['a', 'b'], 'constructor'])
  if (Array.isArray(v)) {
    const out = v.map((e) => (random() < 0.3 ? mutate(e, random, depth + 1) : e))
    const r = random()
    if (r < 0.15) out.splice(Math.floor(random() * (out.length + 1)), 0, fresh())
    else if (r < 0.3 && out.length > 0) out.splice(Math.floor(random() * out.length), 1)
    return out
  }
  if (isObject(v)) {
    const out: {[k: string]: Json} = {}
    for (const [k, x] of Object.entries(v)) {
      const r = random()
      if (r < 0.08) continue // removed
      out[k] = r < 0.35 ? mutate(x, random, depth + 1) : x
    }
    if (random() < 0.15) out[pick(['added_field', 'constructor', 'toString', 'with space', '__proto_like'])] = fresh()
    return out
  }
  return random() < 0.7 ? fresh() : v
}

/** Parses a reported path (`a.b`, `a["x y"]`, `a[2].c`, `"x y"`) into keys and indices. */
function parsePath(p: string): Array<string | number> {
  const out: Array<string | number> = []
  let i = 0
  while (i < p.length) {
    if (p[i] === '.') i++
    if (p[i] === '[') {
      const end = p[i + 1] === '"' ? p.indexOf('"]', i + 2) + 1 : p.indexOf(']', i)
      const inner = p.slice(i + 1, end)
      out.push(inner.startsWith('"') ? (JSON.parse(inner) as string) : Number(inner))
      i = end + 1
    } else if (p[i] === '"') {
      let end = i + 1
      while (p[end] !== '"' || p[end - 1] === '\\') end++
      out.push(JSON.parse(p.slice(i, end + 1)) as string)
      i = end + 1
    } else {
      const m = /^[A-Za-z_][\w-]*/.exec(p.slice(i))!
      out.push(m[0])
      i += m[0].length
    }
  }
  return out
}

function at(v: Json, steps: Array<string | number>): Json | undefined {
  let cur: Json | undefined = v
  for (const s of steps) {
    if (cur === null || typeof cur !== 'object') return undefined
    cur = Array.isArray(cur) ? cur[s as number] : Object.hasOwn(cur, s) ? cur[s as string] : undefined
  }
  return cur
}

/** The old example with `changes` applied. */
function apply(before: Json, changes: FieldChange[]): Json {
  let root = structuredClone(before)
  for (const c of changes) {
    const steps = parsePath(c.path)
    if (steps.length === 0) {
      root = c.new as Json
      continue
    }
    const parent = at(root, steps.slice(0, -1)) as {[k: string]: Json} | Json[]
    const last = steps.at(-1)!
    if (c.change === 'removed') delete (parent as {[k: string]: Json})[last as string]
    else if (Array.isArray(parent)) parent[last as number] = c.new as Json
    else Object.defineProperty(parent, last as string, {value: c.new, enumerable: true, writable: true, configurable: true})
  }
  return root
}

/** Key order aside (a removed-then-added key moves to the end): same content. */
function sameContent(a: Json, b: Json): boolean {
  if (isObject(a) && isObject(b)) {
    const ka = Object.keys(a).sort()
    const kb = Object.keys(b).sort()
    return isDeepStrictEqual(ka, kb) && ka.every((k) => sameContent(a[k], b[k]))
  }
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => sameContent(x, b[i]))
  return Object.is(a, b) || a === b
}

describe('field changes between two versions of an example', () => {
  const sources = ['golden/golden_examples.jsonl', 'golden/stt_failed_cases.jsonl', 'conversations/chats.jsonl', 'keyless/prompts.jsonl']

  it('rebuild the new example from the old one, name values that differ, and open objects down to the changed field (random edits of real records)', () => {
    const random = prng(20261203)
    let checked = 0
    let arrayPaths = 0
    for (const file of sources) {
      for (const before of records(file)) {
        for (let round = 0; round < 40; round++) {
          const after = mutate(before, random)
          const changes = fieldChanges(before, after)
          assert.ok(sameContent(apply(before, changes), after), `${file}: applying ${JSON.stringify(changes)} does not give the new example`)
          assert.equal(changes.length === 0, isDeepStrictEqual(before, after), `${file}: changes reported for equal examples, or none for different ones`)
          for (const c of changes) {
            const steps = parsePath(c.path)
            if (c.change !== 'added') assert.deepEqual(c.old, at(before, steps), `${c.path}: old value`)
            if (c.change !== 'removed') assert.deepEqual(c.new, at(after, steps), `${c.path}: new value`)
            if (c.change === 'changed') {
              assert.ok(!isDeepStrictEqual(c.old, c.new), `${c.path}: reported as changed but equal`)
              assert.ok(!(isObject(c.old) && isObject(c.new)), `${c.path}: two objects reported whole instead of field by field`)
            }
            if (steps.some((s) => typeof s === 'number')) arrayPaths++
          }
          checked++
        }
      }
    }
    assert.ok(checked > 500, `only ${checked} pairs checked`)
    assert.ok(arrayPaths > 20, `only ${arrayPaths} changes inside arrays: the arrays were not exercised`)
  })

  it('report nested paths in the new example\'s field order, then removed fields; an element edited in place by index; an array whose length changed as a whole', () => {
    const [conv] = records('conversations/chats.jsonl') as Array<{[k: string]: Json}>
    const messages = conv.messages as Array<{[k: string]: Json}>
    const edited = {...conv, messages: messages.map((m, i) => (i === 1 ? {...m, content: 'edited'} : m))}
    assert.deepEqual(fieldChanges(conv, edited), [{path: 'messages[1].content', change: 'changed', old: messages[1].content, new: 'edited'}])
    const longer = {...conv, messages: [...messages, {role: 'user', content: 'one more'}]}
    assert.deepEqual(fieldChanges(conv, longer), [{path: 'messages', change: 'changed', old: messages, new: longer.messages}])

    const [golden] = records('golden/golden_examples.jsonl') as Array<{[k: string]: Json}>
    const out = golden.expected_output as {[k: string]: Json}
    const labels = golden.labels as {[k: string]: Json}
    const {validated_by: _dropped, ...rest} = golden
    const after = {...rest, expected_output: {...out, tier: 'C'}, labels: {...labels, edge_case: !labels.edge_case}, 'review note': 'checked'}
    assert.deepEqual(fieldChanges(golden, after), [
      {path: 'expected_output.tier', change: 'changed', old: out.tier, new: 'C'},
      {path: 'labels.edge_case', change: 'changed', old: labels.edge_case, new: !labels.edge_case},
      {path: '"review note"', change: 'added', new: 'checked'},
      {path: 'validated_by', change: 'removed', old: golden.validated_by},
    ])
  })

  it('see fields named like Object.prototype\'s members (constructor, toString) come and go', () => {
    assert.deepEqual(fieldChanges({id: 1, constructor: 'x'}, {id: 1}), [{path: 'constructor', change: 'removed', old: 'x'}])
    assert.deepEqual(fieldChanges({id: 1}, {id: 1, toString: 'y'}), [{path: 'toString', change: 'added', new: 'y'}])
  })
})
