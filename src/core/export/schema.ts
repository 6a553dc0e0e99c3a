/**
 * The shape of the exported examples, inferred from every row in the export's first pass:
 * what typed formats (Parquet, TFRecord, the Hugging Face card) need before the first row
 * is written. Types widen as rows disagree: int + float is float, a missing or null value
 * makes a field nullable, objects merge their fields, and anything else that disagrees
 * (a string here, a number there) becomes `json`: the value is written as JSON text.
 */
export type FieldType =
  | {kind: 'bool'}
  | {kind: 'int'}
  | {kind: 'float'}
  | {kind: 'string'}
  | {kind: 'json'}
  | {kind: 'null'}
  | {kind: 'list'; item: FieldType}
  | {kind: 'struct'; fields: Map<string, Field>}

export interface Field {
  type: FieldType
  /** absent or null in at least one row */
  nullable: boolean
}

export class SchemaBuilder {
  readonly fields = new Map<string, Field>()
  private rows = 0

  /** `textual`: a CSV/TSV row, whose cells are strings. */
  add(example: Record<string, unknown>, textual: boolean): void {
    mergeObject(this.fields, example, this.rows, textual)
    this.rows++
  }
}

function typeOf(v: unknown, textual: boolean): FieldType {
  if (v === null || v === undefined) return {kind: 'null'}
  if (textual) return {kind: 'string'}
  switch (typeof v) {
    case 'boolean':
      return {kind: 'bool'}
    case 'number':
      return Number.isInteger(v) && Math.abs(v) <= Number.MAX_SAFE_INTEGER ? {kind: 'int'} : {kind: 'float'}
    case 'string':
      return {kind: 'string'}
  }
  if (Array.isArray(v)) {
    let item: FieldType = {kind: 'null'}
    for (const x of v) item = widen(item, typeOf(x, false))
    return {kind: 'list', item}
  }
  const fields = new Map<string, Field>()
  mergeObject(fields, v as Record<string, unknown>, 0, false)
  return {kind: 'struct', fields}
}

/** Merges one object into `fields`; `seenBefore` objects lacked any field new here. */
function mergeObject(fields: Map<string, Field>, obj: Record<string, unknown>, seenBefore: number, textual: boolean): void {
  for (const [k, v] of Object.entries(obj)) {
    const t = typeOf(v, textual)
    const f = fields.get(k)
    if (!f) fields.set(k, {type: t, nullable: seenBefore > 0 || t.kind === 'null'})
    else {
      f.type = widen(f.type, t)
      if (t.kind === 'null') f.nullable = true
    }
  }
  for (const [k, f] of fields) if (!(k in obj)) f.nullable = true
}

export function widen(a: FieldType, b: FieldType): FieldType {
  if (a.kind === 'null') return b
  if (b.kind === 'null') return a
  if (a.kind === b.kind) {
    if (a.kind === 'list') return {kind: 'list', item: widen(a.item, (b as {item: FieldType}).item)}
    if (a.kind === 'struct') {
      const fields = new Map<string, Field>()
      const bf = (b as {fields: Map<string, Field>}).fields
      for (const [k, f] of a.fields) {
        const g = bf.get(k)
        fields.set(k, g ? {type: widen(f.type, g.type), nullable: f.nullable || g.nullable} : {...f, nullable: true})
      }
      for (const [k, g] of bf) if (!a.fields.has(k)) fields.set(k, {...g, nullable: true})
      return {kind: 'struct', fields}
    }
    return a
  }
  if ((a.kind === 'int' && b.kind === 'float') || (a.kind === 'float' && b.kind === 'int')) return {kind: 'float'}
  return {kind: 'json'}
}
