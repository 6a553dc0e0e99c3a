/**
 * A JSON syntax check over raw bytes that builds no values. Committing a table must
 * reject a line that is not a JSON object, but JSON.parse allocates every field of every
 * example only to drop it (garbage the workers' GC then pays for). The scanner is
 * WebAssembly (src/wasm/json-syntax.ts, compiled by `npm run build`): ~1.1 GB/s on the
 * benchmark's lines against ~0.23 GB/s for the same scanner in JavaScript and less for
 * JSON.parse (one core of the CI machine). It accepts exactly the texts JSON.parse
 * accepts (RFC 8259; the bytes are already known to be valid UTF-8), which
 * test/json-syntax.test.ts checks against JSON.parse on mutated real data. Callers that
 * need an error message run JSON.parse when this says no.
 */
import {recordsWasm} from './records-wasm.js'

/** Bytes the scanner may read past the text (one SIMD block). */
const READ_AHEAD = 16

/** True when `text` is one JSON object, optionally surrounded by whitespace. */
export function isJsonObjectText(text: Uint8Array): boolean {
  const wasm = recordsWasm()
  // behind the text: its 0 byte, the read-ahead, then the container stack (a byte per level at most)
  const at = wasm.place(text, READ_AHEAD + text.length)
  return wasm.exports.isJsonObject(at, text.length, at + text.length + 1 + READ_AHEAD) !== 0
}
