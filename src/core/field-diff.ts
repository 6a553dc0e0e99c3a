/**
 * Field-level changes between two versions of one example, flattened to paths a reviewer
 * can read: `expected_output.tier`, `messages[1].content`. Objects are compared key by
 * key here; arrays that differ are diffed with json-diff, whose matching of elements
 * tells an element edited in place from one inserted or removed. CSV/TSV columns are
 * top-level string fields.
 */
import {createRequire} from 'node:module'

// json-diff (CommonJS) loads with the first array that differs: `diff --stat`, and every
// command that never shows field changes, start without it
const load = createRequire(import.meta.url)
let jsonDiff: typeof import('json-diff') | undefined

export interface FieldChange {
  /** dotted path; array elements as `[i]` */
  path: string
  change: 'added' | 'removed' | 'changed'
  old?: unknown
  new?: unknown
}

type Raw = unknown

/**
 * The changed fields of an example, in the new example's field order, then the removed
 * ones; empty when equal. Most examples differ in a few scalar fields: a walk that only
 * compares costs a fraction of building json-diff's annotated copy of both.
 */
export function fieldChanges(before: unknown, after: unknown): FieldChange[] {
  const out: FieldChange[] = []
  compare(before, after, '', out)
  return out
}

function compare(before: unknown, after: unknown, path: string, out: FieldChange[]): void {
  if (before === after) return
  if (isObject(before) && isObject(after)) {
    for (const k of Object.keys(after)) {
      if (!Object.hasOwn(before, k)) out.push({path: join(path, k), change: 'added', new: after[k]})
      else if (before[k] !== after[k]) compare(before[k], after[k], join(path, k), out)
    }
    for (const k of Object.keys(before)) if (!Object.hasOwn(after, k)) out.push({path: join(path, k), change: 'removed', old: before[k]})
    return
  }
  if (Array.isArray(before) && Array.isArray(after)) {
    if (before.length === after.length && before.every((x, i) => x === after[i])) return // equal scalars (labels, tags)
    jsonDiff ??= load('json-diff') as typeof import('json-diff')
    walkArray(jsonDiff.diff(before, after) as Raw, before, after, path, out)
    return
  }
  out.push({path, change: 'changed', old: before, new: after})
}

function join(prefix: string, key: string): string {
  const plain = /^[A-Za-z_][\w-]*$/.test(key)
  if (!prefix) return plain ? key : JSON.stringify(key)
  return plain ? `${prefix}.${key}` : `${prefix}[${JSON.stringify(key)}]`
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

/** Two arrays that differ, as field changes, json-diff's element matching (`raw`) deciding whether elements were only edited. */
function walkArray(raw: Raw, before: unknown[], after: unknown[], path: string, out: FieldChange[]): void {
  // element edits in place recurse; insertions or deletions report the array as a whole,
  // since indices after them no longer line up
  const reshaped = before.length !== after.length || (Array.isArray(raw) && raw.some((e) => Array.isArray(e) && (e[0] === '+' || e[0] === '-')))
  if (reshaped) {
    out.push({path, change: 'changed', old: before, new: after})
    return
  }
  // same length, elements in place: compare each (json-diff would call an element equal
  // whose only change is a key named like an Object.prototype member, e.g. `constructor`)
  before.forEach((b, i) => {
    if (b !== after[i]) compare(b, after[i], `${path}[${i}]`, out)
  })
}

/**
 * Old and new values of a changed field as a reviewer reads them. Long strings are cut
 * to the part that changed, with a little context, so that an edit deep inside a long
 * answer is visible: `…flowers.\n#### 35"` → `…flowers.\n#### (checked) 35"`.
 */
export function showChange(old: unknown, now: unknown, max = 80): [string, string] {
  if (typeof old !== 'string' || typeof now !== 'string') return [showValue(old, max), showValue(now, max)]
  const quote = lookAlike(old, now) ? asciiJson : JSON.stringify
  const a = quote(old)
  const b = quote(now)
  if (a.length <= max && b.length <= max) return [a, b]
  let p = 0
  while (p < a.length && p < b.length && a[p] === b[p]) p++
  let s = 0
  while (s < a.length - p && s < b.length - p && a[a.length - 1 - s] === b[b.length - 1 - s]) s++
  const context = 24
  const cut = (t: string): string => {
    const from = Math.max(0, p - context)
    const to = Math.min(t.length, t.length - s + context)
    const middle = t.slice(from, to)
    const body = middle.length > max ? `${middle.slice(0, max - 1)}…` : middle
    return `${from > 0 ? '…' : ''}${body}${to < t.length && middle.length <= max ? '…' : ''}`
  }
  return [cut(a), cut(b)]
}

/**
 * Two different strings a reader cannot tell apart on screen: the same after compatibility
 * normalisation (NFC vs NFD `é`, full-width letters), invisible format characters (zero-width
 * space, BOM) dropped and every kind of space alike (no-break space).
 */
function lookAlike(a: string, b: string): boolean {
  const seen = (s: string) => s.normalize('NFKC').replace(/\p{Cf}/gu, '').replace(/\s/gu, ' ')
  return seen(a) === seen(b)
}

/** JSON with every character outside printable ASCII as \uXXXX: shows where look-alike strings differ. */
function asciiJson(s: string): string {
  return JSON.stringify(s).replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)
}

/** A value as a reviewer reads it: JSON, shortened when long. */
export function showValue(v: unknown, max = 80): string {
  const s = v === undefined ? '(none)' : JSON.stringify(v)
  return s.length > max ? `${s.slice(0, max - 1)}…` : s
}
