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
import {readFileSync} from 'node:fs'

// the few WebAssembly APIs used here (TypeScript's lib for Node has no WebAssembly types)
interface WasmMemory {
  readonly buffer: ArrayBuffer
  grow(pages: number): number
}
const {WebAssembly: wasmApi} = globalThis as unknown as {WebAssembly: {Module: new (code: Uint8Array) => object; Instance: new (module: object) => {exports: unknown}}}

interface JsonSyntaxExports {
  memory: WasmMemory
  scratchStart(): number
  isJsonObject(start: number, n: number, stack: number): number
}

/** Bytes the scanner may read past the text (one SIMD block). */
const READ_AHEAD = 16
const PAGE = 65_536

// src/core and dist/core both sit two levels below the package root, where the build puts dist/wasm
const wasmFile = new URL('../../dist/wasm/json-syntax.wasm', import.meta.url)

/** One instance per thread (module state is per isolate): its memory holds one text at a time. */
class JsonSyntaxScanner {
  private readonly wasm: JsonSyntaxExports
  private readonly start: number
  private bytes: Uint8Array

  constructor() {
    let code: Buffer
    try {
      code = readFileSync(wasmFile)
    } catch {
      throw new Error(`dsv is not built: ${wasmFile.pathname} is missing (run npm run build)`)
    }
    this.wasm = new wasmApi.Instance(new wasmApi.Module(code)).exports as unknown as JsonSyntaxExports
    this.start = this.wasm.scratchStart()
    this.bytes = new Uint8Array(this.wasm.memory.buffer)
  }

  isJsonObject(text: Uint8Array): boolean {
    // layout: the text, a 0 byte, read-ahead, then the container stack (one byte per level at most)
    const n = text.length
    const stack = this.start + n + READ_AHEAD
    const needed = stack + n + 1
    if (needed > this.bytes.length) {
      this.wasm.memory.grow(Math.ceil((needed - this.bytes.length) / PAGE))
      this.bytes = new Uint8Array(this.wasm.memory.buffer) // growing detached the old view
    }
    this.bytes.set(text, this.start)
    this.bytes[this.start + n] = 0
    return this.wasm.isJsonObject(this.start, n, stack) !== 0
  }
}

let scanner: JsonSyntaxScanner | undefined

/** True when `text` is one JSON object, optionally surrounded by whitespace. */
export function isJsonObjectText(text: Uint8Array): boolean {
  scanner ??= new JsonSyntaxScanner()
  return scanner.isJsonObject(text)
}
