/**
 * Field-level changes between two versions of one example, computed with json-diff and
 * flattened to paths a reviewer can read: `expected_output.tier`, `messages[1].content`.
 * CSV/TSV columns are top-level string fields.
 */
import {createRequire} from 'node:module'

// json-diff (CommonJS) loads with the first field diff: `diff --stat`, and every command
// that never shows field changes, start without it
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

/** The changed fields of an example, in document order; empty when equal. */
export function fieldChanges(before: unknown, after: unknown): FieldChange[] {
  jsonDiff ??= load('json-diff') as typeof import('json-diff')
  const raw = jsonDiff.diff(before, after) as Raw
  const out: FieldChange[] = []
  if (raw !== undefined) walk(raw, before, after, '', out)
  return out
}

function join(prefix: string, key: string): string {
  const plain = /^[A-Za-z_][\w-]*$/.test(key)
  if (!prefix) return plain ? key : JSON.stringify(key)
  return plain ? `${prefix}.${key}` : `${prefix}[${JSON.stringify(key)}]`
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

function walk(raw: Raw, before: unknown, after: unknown, path: string, out: FieldChange[]): void {
  if (isObject(raw) && '__old' in raw && '__new' in raw) {
    out.push({path, change: 'changed', old: raw.__old, new: raw.__new})
    return
  }
  if (Array.isArray(raw) && Array.isArray(before) && Array.isArray(after)) {
    // element edits in place recurse; insertions or deletions report the array as a whole,
    // since indices after them no longer line up
    const reshaped = raw.some((e) => Array.isArray(e) && (e[0] === '+' || e[0] === '-'))
    if (reshaped) {
      out.push({path, change: 'changed', old: before, new: after})
      return
    }
    raw.forEach((e, i) => {
      if (Array.isArray(e) && e[0] === '~') walk(e[1], before[i], after[i], `${path}[${i}]`, out)
    })
    return
  }
  if (isObject(raw) && isObject(before) && isObject(after)) {
    // json-diff lists added and deleted keys first; report in the new example's field
    // order, then the fields that were removed
    // only fields named in raw (as such or with json-diff's suffixes) can have changed
    const named = new Set<string>()
    for (const rk of Object.keys(raw)) {
      named.add(rk)
      const suffix = /__(added|deleted)$/.exec(rk)
      if (suffix) named.add(rk.slice(0, suffix.index))
    }
    const order = [...Object.keys(after), ...Object.keys(before).filter((k) => !(k in after))]
    for (const k of order) {
      if (!named.has(k)) continue
      if (`${k}__added` in raw && !(k in before)) out.push({path: join(path, k), change: 'added', new: raw[`${k}__added`]})
      else if (`${k}__deleted` in raw && !(k in after)) out.push({path: join(path, k), change: 'removed', old: raw[`${k}__deleted`]})
      else if (k in raw) walk(raw[k], before[k], after[k], join(path, k), out)
    }
    return
  }
  out.push({path, change: 'changed', old: before, new: after})
}

/**
 * Old and new values of a changed field as a reviewer reads them. Long strings are cut
 * to the part that changed, with a little context, so that an edit deep inside a long
 * answer is visible: `…flowers.\n#### 35"` → `…flowers.\n#### (checked) 35"`.
 */
export function showChange(old: unknown, now: unknown, max = 80): [string, string] {
  if (typeof old !== 'string' || typeof now !== 'string') return [showValue(old, max), showValue(now, max)]
  const a = JSON.stringify(old)
  const b = JSON.stringify(now)
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

/** A value as a reviewer reads it: JSON, shortened when long. */
export function showValue(v: unknown, max = 80): string {
  const s = v === undefined ? '(none)' : JSON.stringify(v)
  return s.length > max ? `${s.slice(0, max - 1)}…` : s
}
