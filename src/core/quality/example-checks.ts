/**
 * The checks and score parts of one example against its file's rules: completeness
 * (required fields present, non-empty, of the right type), consistency (cross-field
 * rules), validity (types, ranges, allowed values, lengths, JSON Schema), and the
 * per-example score parts (completeness, correctness, clarity; representativeness needs
 * the whole file and is added by the report).
 */
import {Ajv, type ValidateFunction} from 'ajv'
import {getPath} from '../example-key.js'
import {classOf, isEmpty} from './values.js'
import type {Bounds, FieldType, FileRules} from './rules.js'

export type CheckName = 'completeness' | 'consistency' | 'validity'

export interface Issue {
  check: CheckName
  /** what rule failed, the same for every example that fails it: counted and grouped */
  rule: string
  /** this example's offending value, shown as an instance */
  detail?: string
}

export interface ExampleVerdict {
  issues: Issue[]
  /** 0..1 parts of the per-example score */
  completeness: number
  correctness: number
  clarity: number
  /** the example's class (first label field), for representativeness */
  labelClass: string | null
}


function show(v: unknown): string {
  const s = JSON.stringify(v) ?? String(v)
  return s.length > 60 ? `${s.slice(0, 59)}…` : s
}

/** A number from a JSON number or (CSV/TSV cells are strings) a numeric string. */
function asNumber(v: unknown, textual: boolean): number | null {
  if (typeof v === 'number') return v
  if (textual && typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) return Number(v)
  return null
}

function hasType(v: unknown, type: FieldType, textual: boolean): boolean {
  switch (type) {
    case 'string':
      return typeof v === 'string'
    case 'number':
      return asNumber(v, textual) !== null
    case 'integer': {
      const n = asNumber(v, textual)
      return n !== null && Number.isInteger(n)
    }
    case 'boolean':
      return typeof v === 'boolean' || (textual && (v === 'true' || v === 'false'))
    case 'object':
      return typeof v === 'object' && v !== null && !Array.isArray(v)
    case 'array':
      return Array.isArray(v)
  }
}

function bounded(n: number, b: Bounds): boolean {
  return (b.min === undefined || n >= b.min) && (b.max === undefined || n <= b.max)
}

function boundsText(b: Bounds): string {
  return b.min !== undefined && b.max !== undefined ? `[${b.min}, ${b.max}]` : b.min !== undefined ? `≥ ${b.min}` : `≤ ${b.max}`
}

function sizeOf(v: unknown): number | null {
  if (typeof v === 'string') return codePoints(v)
  if (Array.isArray(v)) return v.length
  if (v && typeof v === 'object') return Object.keys(v).length
  return null
}

/** Length in characters (code points), as a person counts them, without splitting the string. */
function codePoints(s: string): number {
  let n = s.length
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c >= 0xd800 && c <= 0xdbff) n--
  }
  return n
}

function sameValue(a: unknown, b: unknown): boolean {
  return a === b || (typeof a !== 'object' && typeof b !== 'object' ? String(a) === String(b) : JSON.stringify(a) === JSON.stringify(b))
}

export class ExampleChecker {
  private readonly schema: ValidateFunction | null

  // the rules as lists, made once rather than per example
  private readonly optionalTypes: Array<[string, FieldType]>
  private readonly ranges: Array<[string, Bounds]>
  private readonly allowed: Array<[string, unknown[]]>
  private readonly lengths: Array<[string, Bounds]>

  constructor(readonly rules: FileRules, private readonly textual: boolean) {
    this.schema = rules.schema ? new Ajv({allErrors: false, strict: false}).compile(rules.schema) : null
    this.optionalTypes = Object.entries(rules.types).filter(([f]) => !rules.required.includes(f))
    this.ranges = Object.entries(rules.ranges)
    this.allowed = Object.entries(rules.allowed)
    this.lengths = Object.entries(rules.lengths)
  }

  check(ex: Record<string, unknown>): ExampleVerdict {
    const r = this.rules
    const issues: Issue[] = []
    const get = (f: string) => getPath(ex, f)

    // completeness
    let complete = 0
    for (const f of r.required) {
      const v = get(f)
      if (isEmpty(v)) issues.push({check: 'completeness', rule: `${f} is missing or empty`})
      else if (r.types[f] && !hasType(v, r.types[f], this.textual)) issues.push({check: 'completeness', rule: `${f} is not ${article(r.types[f])}`, detail: show(v)})
      else complete++
    }

    // consistency
    for (const rule of r.rules) {
      if (rule.when && !Object.entries(rule.when).every(([f, want]) => sameValue(get(f), want))) continue
      for (const f of rule.require ?? []) {
        if (isEmpty(get(f))) issues.push({check: 'consistency', rule: rule.message ?? `${f} is required when ${whenText(rule.when)}`})
      }
      if (rule.differ) {
        const [a, b] = rule.differ
        if (!isEmpty(get(a)) && sameValue(get(a), get(b))) issues.push({check: 'consistency', rule: rule.message ?? `${a} must differ from ${b}`, detail: show(get(a))})
      }
    }

    // validity
    for (const [f, type] of this.optionalTypes) {
      const v = get(f)
      if (v !== undefined && v !== null && !(this.textual && v === '') && !hasType(v, type, this.textual)) issues.push({check: 'validity', rule: `${f} is not ${article(type)}`, detail: show(v)})
    }
    for (const [f, b] of this.ranges) {
      const v = get(f)
      if (v === undefined || v === null || (this.textual && v === '')) continue
      const n = asNumber(v, this.textual)
      if (n === null) issues.push({check: 'validity', rule: `${f} is not a number`, detail: show(v)})
      else if (!bounded(n, b)) issues.push({check: 'validity', rule: `${f} outside ${boundsText(b)}`, detail: show(v)})
    }
    for (const [f, values] of this.allowed) {
      const v = get(f)
      if (v === undefined || v === null || (this.textual && v === '')) continue
      if (!values.some((a) => sameValue(a, v))) issues.push({check: 'validity', rule: `${f} not one of ${values.map((a) => JSON.stringify(a)).join(', ')}`, detail: show(v)})
    }
    for (const [f, b] of this.lengths) {
      const v = get(f)
      if (v === undefined || v === null || (this.textual && v === '')) continue
      const n = sizeOf(v)
      if (n !== null && !bounded(n, b)) issues.push({check: 'validity', rule: `${f} length outside ${boundsText(b)}`, detail: `${n}`})
    }
    if (this.schema && !this.schema(ex)) {
      const e = this.schema.errors![0]
      issues.push({check: 'validity', rule: `schema: ${e.instancePath || '/'} ${e.message}`, detail: e.params ? show(e.params) : undefined})
    }

    const consistentAndValid = !issues.some((i) => i.check !== 'completeness')
    return {
      issues: issues.length > 1 ? distinct(issues) : issues,
      completeness: r.required.length === 0 ? 1 : complete / r.required.length,
      correctness: this.isValidated(ex) ? (consistentAndValid ? 1 : 0.5) : 0,
      clarity: this.clarity(ex),
      labelClass: r.labels.length > 0 ? classOf(get(r.labels[0])) : null,
    }
  }

  private isValidated(ex: Record<string, unknown>): boolean {
    const v = this.rules.validated
    if (!v) return true
    const value = getPath(ex, v.field)
    if (v.values && !v.values.some((a) => sameValue(a, value))) return false
    if (v.min !== undefined) {
      const n = asNumber(value, true)
      if (n === null || n < v.min) return false
    }
    return true
  }

  private clarity(ex: Record<string, unknown>): number {
    const c = this.rules.confidence
    if (typeof c === 'string') {
      const n = asNumber(getPath(ex, c), true)
      return n === null ? 0 : Math.min(1, Math.max(0, n))
    }
    if (c) {
      const up = asNumber(getPath(ex, c.up), true) ?? 0
      const down = asNumber(getPath(ex, c.down), true) ?? 0
      return up + down > 0 ? up / (up + down) : 0
    }
    if (this.rules.labels.length === 0) return 1
    // an unambiguous label: every label field set, and no list label that repeats itself
    return this.rules.labels.every((f) => {
      const v = getPath(ex, f)
      return !isEmpty(v) && !(Array.isArray(v) && new Set(v.map((x) => JSON.stringify(x))).size !== v.length)
    }) ? 1 : 0
  }
}

/** One issue per rule for an example (a value of the wrong type also fails its range as "not a number"). */
function distinct(issues: Issue[]): Issue[] {
  const seen = new Set<string>()
  return issues.filter((i) => {
    const id = `${i.check}\0${i.rule}`
    if (seen.has(id)) return false
    seen.add(id)
    return true
  })
}

function article(type: FieldType): string {
  return type === 'integer' || type === 'object' || type === 'array' ? `an ${type}` : `a ${type}`
}

function whenText(when?: Record<string, unknown>): string {
  return when ? Object.entries(when).map(([f, v]) => `${f} is ${JSON.stringify(v)}`).join(' and ') : 'always'
}
