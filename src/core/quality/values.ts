/** How the quality system reads field values; free of ajv so export can use it cheaply. */

/** Missing, null, blank text, an empty list or an empty object. */
export function isEmpty(v: unknown): boolean {
  if (v === undefined || v === null) return true
  if (typeof v === 'string') return v.trim() === ''
  if (Array.isArray(v)) return v.length === 0
  if (typeof v === 'object') return Object.keys(v).length === 0
  return false
}

/** A label value as a class name: lists compare as their sorted items; null when empty. */
export function classOf(v: unknown): string | null {
  if (isEmpty(v)) return null
  if (Array.isArray(v)) return `[${v.map((x) => JSON.stringify(x)).sort().join(',')}]`
  return typeof v === 'string' ? v : JSON.stringify(v)
}
