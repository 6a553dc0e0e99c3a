/** Small binary encoding helpers: LEB128 varints and a growable byte writer. */
import crypto, {createHash} from 'node:crypto'

export type Oid = string

const oneShotHash = (crypto as unknown as {hash?: (algorithm: string, data: Uint8Array, encoding: 'binary') => string}).hash

/**
 * A digest as a one-byte (latin1, 'binary') string: crypto.hash (Node >= 20.12) skips the Hash
 * object, and a short string is far cheaper to collect than a Buffer. For per-record
 * hashing on hot paths (a third of the cost per record at commit).
 */
export const hashToString: (algorithm: string, data: Uint8Array) => string = oneShotHash
  ? (algorithm, data) => oneShotHash(algorithm, data, 'binary')
  : (algorithm, data) => createHash(algorithm).update(data).digest('binary')

export function sha256(...parts: Uint8Array[]): Buffer {
  const h = createHash('sha256')
  for (const p of parts) h.update(p)
  return h.digest()
}

/**
 * An allocator that hands out views of one growing buffer: each call's result is valid
 * until the next call. For hot loops that use a buffer at once (fresh memory costs a page
 * fault per 4 KiB and keeps the collector busy).
 */
export function reusableAllocator(initial = 64 << 10): (size: number) => Buffer {
  let buf = Buffer.allocUnsafe(initial)
  return (size) => {
    if (buf.length < size) buf = Buffer.allocUnsafe(Math.max(size, buf.length * 2))
    return buf.subarray(0, size)
  }
}

export class ByteWriter {
  private buf: Buffer
  length = 0

  constructor(initial = 1024) {
    this.buf = Buffer.allocUnsafe(initial)
  }

  private ensure(extra: number): void {
    if (this.length + extra <= this.buf.length) return
    let size = this.buf.length * 2
    while (size < this.length + extra) size *= 2
    const next = Buffer.allocUnsafe(size)
    this.buf.copy(next, 0, 0, this.length)
    this.buf = next
  }

  varint(n: number): this {
    this.ensure(10)
    while (n >= 0x80) {
      this.buf[this.length++] = (n % 0x80) | 0x80
      n = Math.floor(n / 0x80)
    }
    this.buf[this.length++] = n
    return this
  }

  byte(b: number): this {
    this.ensure(1)
    this.buf[this.length++] = b
    return this
  }

  bytes(b: Uint8Array, start = 0, end = b.length): this {
    this.ensure(end - start)
    this.buf.set(start === 0 && end === b.length ? b : b.subarray(start, end), this.length)
    this.length += end - start
    return this
  }

  /** A view of what was written (shares memory until the next write). */
  view(): Buffer {
    return this.buf.subarray(0, this.length)
  }

  /** A copy of what was written. */
  toBuffer(): Buffer {
    return Buffer.from(this.view())
  }

  reset(): void {
    this.length = 0
  }
}

export class ByteReader {
  pos: number
  constructor(readonly buf: Buffer, start = 0) {
    this.pos = start
  }

  get done(): boolean {
    return this.pos >= this.buf.length
  }

  varint(): number {
    let n = 0
    let mul = 1
    for (;;) {
      if (this.pos >= this.buf.length) throw new RangeError('truncated varint')
      const b = this.buf[this.pos++]
      n += (b & 0x7f) * mul
      if (b < 0x80) return n
      mul *= 0x80
    }
  }

  byte(): number {
    if (this.pos >= this.buf.length) throw new RangeError('truncated data')
    return this.buf[this.pos++]
  }

  bytes(n: number): Buffer {
    if (this.pos + n > this.buf.length) throw new RangeError('truncated data')
    const out = this.buf.subarray(this.pos, this.pos + n)
    this.pos += n
    return out
  }
}
