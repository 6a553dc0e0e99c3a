/**
 * The rules file (`dsv.yaml` or `dsv.json` at the dataset root, versioned with the data):
 * thresholds, whether commit is gated, and per file pattern the key, required fields,
 * types, ranges, allowed values, lengths, cross-field rules, a JSON Schema, label and
 * group fields, and references to other files. A broken file is an error that names its
 * line.
 */
import {Ajv, type ErrorObject, type ValidateFunction} from 'ajv'
import {LineCounter, parseDocument, isMap, isSeq, type Node} from 'yaml'
import {DsvError} from '../../errors/index.js'
import {PROFILES} from './profiles.js'

export {RULES_FILES} from './rules-files.js'

export type FieldType = 'string' | 'number' | 'integer' | 'boolean' | 'object' | 'array'

export interface Bounds {
  min?: number
  max?: number
}

export interface CrossRule {
  /** the rule applies when every field here has the given value */
  when?: Record<string, unknown>
  /** fields that must then be present and non-empty */
  require?: string[]
  /** two fields whose values must differ */
  differ?: [string, string]
  message?: string
}

export interface Reference {
  field: string
  /** folder the value is relative to: '/' the dataset root, otherwise relative to the table's folder */
  dir: string
}

export interface FileRulesInput {
  pattern?: string
  profile?: string
  key?: string[]
  required?: string[]
  types?: Record<string, FieldType>
  ranges?: Record<string, Bounds>
  allowed?: Record<string, unknown[]>
  lengths?: Record<string, Bounds>
  rules?: CrossRule[]
  /** a JSON Schema, inline or as a path (relative to the dataset root) */
  schema?: Record<string, unknown> | string
  labels?: string[]
  groups?: string[]
  references?: Reference[]
  /** correctness: the example carries a human-validated label */
  validated?: {field: string; values?: unknown[]; min?: number}
  /** clarity: a confidence field in 0..1, or up/down vote fields */
  confidence?: string | {up: string; down: string}
  /** the split this file holds (train, validation, test); default: from its name */
  split?: string
}

export interface FileRules extends Required<Omit<FileRulesInput, 'schema' | 'validated' | 'confidence' | 'split' | 'profile' | 'key'>> {
  key: string[] | null
  profile: string | null
  schema: Record<string, unknown> | null
  schemaSource: string | null
  validated: FileRulesInput['validated'] | null
  confidence: FileRulesInput['confidence'] | null
  split: string | null
}

export interface Thresholds {
  completeness: number
  consistency: number
  validity: number
  overall: number
  uniqueness?: number
  referential?: number
}

export interface Rules {
  /** the rules file it came from, or null for the defaults */
  source: string | null
  gate: boolean
  thresholds: Thresholds
  files: FileRules[]
  /** defaults for `dsv export` that belong with the data: the Common Voice tables */
  export: {cv22: {clips: string[]; contributions: string[]}}
}

export const DEFAULT_THRESHOLDS: Thresholds = {completeness: 95, consistency: 90, validity: 95, overall: 90}

const bounds = {type: 'object', additionalProperties: false, properties: {min: {type: 'number'}, max: {type: 'number'}}}
const fieldList = {type: 'array', items: {type: 'string', minLength: 1}}
const RULES_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  properties: {
    version: {const: 1},
    export: {
      type: 'object',
      additionalProperties: false,
      properties: {
        cv22: {type: 'object', additionalProperties: false, properties: {clips: {oneOf: [{type: 'string'}, fieldList]}, contributions: {oneOf: [{type: 'string'}, fieldList]}}},
      },
    },
    gate: {type: 'boolean'},
    thresholds: {
      type: 'object',
      additionalProperties: false,
      properties: Object.fromEntries(['completeness', 'consistency', 'validity', 'uniqueness', 'referential', 'overall'].map((k) => [k, {type: 'number', minimum: 0, maximum: 100}])),
    },
    files: {
      type: 'array',
      items: {
        type: 'object',
        required: ['pattern'],
        additionalProperties: false,
        properties: {
          pattern: {type: 'string', minLength: 1},
          profile: {enum: Object.keys(PROFILES)},
          key: {oneOf: [{type: 'string'}, fieldList]},
          required: fieldList,
          types: {type: 'object', additionalProperties: {enum: ['string', 'number', 'integer', 'boolean', 'object', 'array']}},
          ranges: {type: 'object', additionalProperties: bounds},
          allowed: {type: 'object', additionalProperties: {type: 'array'}},
          lengths: {type: 'object', additionalProperties: bounds},
          rules: {
            type: 'array',
            items: {
              type: 'object',
              additionalProperties: false,
              properties: {
                when: {type: 'object'},
                require: fieldList,
                differ: {type: 'array', items: {type: 'string'}, minItems: 2, maxItems: 2},
                message: {type: 'string'},
              },
              anyOf: [{required: ['require']}, {required: ['differ']}],
            },
          },
          schema: {oneOf: [{type: 'string'}, {type: 'object'}]},
          labels: fieldList,
          groups: fieldList,
          references: {
            type: 'array',
            items: {type: 'object', required: ['field'], additionalProperties: false, properties: {field: {type: 'string'}, dir: {type: 'string'}}},
          },
          validated: {
            type: 'object',
            required: ['field'],
            additionalProperties: false,
            properties: {field: {type: 'string'}, values: {type: 'array'}, min: {type: 'number'}},
          },
          confidence: {
            oneOf: [
              {type: 'string'},
              {type: 'object', required: ['up', 'down'], additionalProperties: false, properties: {up: {type: 'string'}, down: {type: 'string'}}},
            ],
          },
          split: {type: 'string'},
        },
      },
    },
  },
}

let validateRules: ValidateFunction | undefined

/** A broken rules file: what is wrong and on which line. */
export class RulesError extends DsvError {
  constructor(file: string, line: number | null, reason: string) {
    super('E_RULES', `${file}${line ? `:${line}` : ''}: ${reason}`, {file, line, reason}, 'fix the rules file; `dsv quality check --help` shows its format and the ready profiles')
    this.name = 'RulesError'
  }
}

/**
 * Parses and checks a rules file. `readFile` reads another file of the same version
 * (for `schema: path.json`); it returns null when there is no such file.
 */
export async function parseRules(source: string, text: string, readFile: (path: string) => Promise<Buffer | null>): Promise<Rules> {
  const lines = new LineCounter()
  const doc = parseDocument(text, {lineCounter: lines, prettyErrors: false})
  if (doc.errors.length > 0) {
    const e = doc.errors[0]
    const lastLine = Math.max(1, text.replace(/\n+$/, '').split('\n').length)
    throw new RulesError(source, Math.min(lines.linePos(e.pos[0]).line, lastLine), e.message.split('\n')[0])
  }
  const raw = (doc.toJS() ?? {}) as Record<string, unknown>
  validateRules ??= new Ajv({allErrors: false, strict: false}).compile(RULES_SCHEMA)
  if (!validateRules(raw)) {
    const err = validateRules.errors![0]
    throw new RulesError(source, lineOf(doc.contents, err, lines), describe(err))
  }
  const thresholds = {...DEFAULT_THRESHOLDS, ...((raw.thresholds as Partial<Thresholds>) ?? {})}
  const files: FileRules[] = []
  const inputs = (raw.files as FileRulesInput[] | undefined) ?? []
  for (let i = 0; i < inputs.length; i++) files.push(await resolveFile(source, inputs[i], readFile, (setting) => lineAt(doc.contents, ['files', String(i), setting], lines)))
  const cv = ((raw.export as {cv22?: {clips?: string | string[]; contributions?: string | string[]}} | undefined)?.cv22) ?? {}
  const list = (v?: string | string[]) => (v === undefined ? [] : typeof v === 'string' ? [v] : v)
  return {source, gate: raw.gate === true, thresholds, files, export: {cv22: {clips: list(cv.clips), contributions: list(cv.contributions)}}}
}

/** Rules for a dataset without a rules file: nothing gated, no file checked. */
export function defaultRules(): Rules {
  return {source: null, gate: false, thresholds: {...DEFAULT_THRESHOLDS}, files: [], export: {cv22: {clips: [], contributions: []}}}
}

async function resolveFile(source: string, input: FileRulesInput, readFile: (path: string) => Promise<Buffer | null>, lineOfSetting: (setting: string) => number | null): Promise<FileRules> {
  const base: FileRulesInput = input.profile ? PROFILES[input.profile] : {}
  const merged = <T>(k: keyof FileRulesInput, empty: T): T => {
    const b = base[k] as T | undefined
    const o = input[k] as T | undefined
    if (o === undefined) return b ?? empty
    if (b && typeof b === 'object' && !Array.isArray(b) && typeof o === 'object' && !Array.isArray(o)) return {...b, ...o}
    return o
  }
  const key = input.key ?? base.key
  let schema = (input.schema ?? base.schema ?? null) as FileRules['schema'] | string
  let schemaSource: string | null = null
  if (typeof schema === 'string') {
    schemaSource = schema
    const bytes = await readFile(schema)
    if (!bytes) throw new RulesError(source, lineOfSetting('schema'), `files[${input.pattern}].schema: ${schema} is not in this version of the dataset`)
    try {
      schema = JSON.parse(bytes.toString('utf8')) as Record<string, unknown>
    } catch (error) {
      throw new RulesError(schemaSource, null, `not valid JSON: ${(error as Error).message}`)
    }
  }
  return {
    pattern: input.pattern!,
    profile: input.profile ?? null,
    key: key === undefined ? null : typeof key === 'string' ? [key] : key,
    required: merged('required', []),
    types: merged('types', {}),
    ranges: merged('ranges', {}),
    allowed: merged('allowed', {}),
    lengths: merged('lengths', {}),
    rules: merged('rules', []),
    schema: schema as Record<string, unknown> | null,
    schemaSource,
    labels: merged('labels', []),
    groups: merged('groups', []),
    references: merged<Reference[]>('references', []).map((r) => ({field: r.field, dir: r.dir ?? '/'})),
    validated: merged('validated', null),
    confidence: merged('confidence', null),
    split: input.split ?? null,
  }
}

function describe(err: ErrorObject): string {
  const at = err.instancePath ? err.instancePath.slice(1).replace(/\//g, '.') : 'the file'
  const p = err.params as Record<string, unknown>
  if (err.keyword === 'additionalProperties') return `${at}: unknown setting '${String(p.additionalProperty)}'`
  if (err.keyword === 'enum') return `${at}: must be one of ${(p.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`
  if (err.keyword === 'required') return `${at}: missing '${String(p.missingProperty)}'`
  return `${at}: ${err.message}`
}

/** The line of the YAML node an ajv error points at (its nearest existing ancestor). */
function lineOf(root: unknown, err: ErrorObject, lines: LineCounter): number | null {
  const parts = err.instancePath.split('/').slice(1).map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'))
  if (err.keyword === 'additionalProperties') parts.push(String((err.params as Record<string, unknown>).additionalProperty))
  return lineAt(root, parts, lines)
}

/** The line of the YAML node at `parts` (keys and list indices), or of its nearest ancestor. */
function lineAt(root: unknown, parts: string[], lines: LineCounter): number | null {
  let node = root as Node | null
  let line: number | null = node?.range ? lines.linePos(node.range[0]).line : null
  for (const part of parts) {
    if (isMap(node)) {
      const pair = node.items.find((it) => String((it.key as {value?: unknown})?.value ?? it.key) === part)
      if (!pair) break
      const keyNode = pair.key as Node | null
      if (keyNode?.range) line = lines.linePos(keyNode.range[0]).line
      node = pair.value as Node | null
    } else if (isSeq(node)) {
      node = node.items[Number(part)] as Node | null
      if (node?.range) line = lines.linePos(node.range[0]).line
    } else break
  }
  return line
}
