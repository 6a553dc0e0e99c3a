/**
 * The records WebAssembly module (src/wasm/records.ts: the JSON syntax check and XXH32),
 * one instance per thread (module state is per isolate), and the scratch memory a record
 * is copied into before a scanner runs on it.
 */
import {readFileSync} from 'node:fs'

// the few WebAssembly APIs used here (TypeScript's lib for Node has no WebAssembly types)
interface WasmMemory {
  readonly buffer: ArrayBuffer
  grow(pages: number): number
}
const {WebAssembly: wasmApi} = globalThis as unknown as {WebAssembly: {Module: new (code: Uint8Array) => object; Instance: new (module: object) => {exports: unknown}}}

export interface RecordsExports {
  memory: WasmMemory
  scratchStart(): number
  isJsonObject(start: number, n: number, stack: number): number
  xxh32(start: number, n: number, seed: number): number
}

const PAGE = 65_536

// src/core and dist/core both sit two levels below the package root, where the build puts dist/wasm
const wasmFile = new URL('../../dist/wasm/records.wasm', import.meta.url)

export class RecordsWasm {
  readonly exports: RecordsExports
  private readonly start: number
  private bytes: Uint8Array

  constructor() {
    let code: Buffer
    try {
      code = readFileSync(wasmFile)
    } catch {
      throw new Error(`dsv is not built: ${wasmFile.pathname} is missing (run npm run build)`)
    }
    this.exports = new wasmApi.Instance(new wasmApi.Module(code)).exports as RecordsExports
    this.start = this.exports.scratchStart()
    this.bytes = new Uint8Array(this.exports.memory.buffer)
  }

  /**
   * Copies `bytes` to the scratch memory, followed by a 0 byte and `room` more bytes the
   * scanner may use; returns where the copy starts (valid until the next call).
   */
  place(bytes: Uint8Array, room = 0): number {
    const needed = this.start + bytes.length + 1 + room
    if (needed > this.bytes.length) {
      this.exports.memory.grow(Math.ceil((needed - this.bytes.length) / PAGE))
      this.bytes = new Uint8Array(this.exports.memory.buffer) // growing detached the old view
    }
    this.bytes.set(bytes, this.start)
    this.bytes[this.start + bytes.length] = 0
    return this.start
  }
}

let instance: RecordsWasm | undefined

/** This thread's instance. */
export function recordsWasm(): RecordsWasm {
  return (instance ??= new RecordsWasm())
}
