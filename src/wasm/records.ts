/**
 * The WebAssembly module of byte scanners over records (built by `npm run build` into
 * dist/wasm/records.wasm; loaded by src/core/records-wasm.ts): the JSON syntax check and
 * the hash that picks leaf boundaries. The JavaScript side copies a record into this
 * module's memory, from scratchStart() on, and calls a scanner on it.
 */
export {isJsonObject} from './json-syntax'
export {xxh32} from './xxh32'

/** Where the JavaScript side may put its data: past this module's static data. */
export function scratchStart(): usize {
  return (__heap_base + 15) & ~(<usize>15)
}
