/**
 * AssemblyScript, compiled to WebAssembly with xxh32.ts into one module (records.ts; used
 * by src/core/json-syntax.ts). The JSON syntax check that commit runs on every new
 * example of a JSONL table: a byte scanner that builds no values, ~4-5x faster here than
 * the same scanner in JavaScript (strings, most of a line, are skipped 16 bytes at a time
 * with SIMD, and wasm has no bounds checks per byte).
 *
 * Memory contract (the JavaScript side keeps it): the text is at [start, start + n), the byte
 * at start + n is 0 (so a run of digits stops there), at least 16 readable bytes follow the
 * text (the SIMD string scan reads whole 16-byte blocks and ignores what lies past the end),
 * and `stack` points at n free bytes (one per open container: the depth is never more than n).
 */

const TAB: u32 = 0x09
const LF: u32 = 0x0a
const CR: u32 = 0x0d
const SPACE: u32 = 0x20
const QUOTE: u32 = 0x22
const COMMA: u32 = 0x2c
const MINUS: u32 = 0x2d
const PLUS: u32 = 0x2b
const DOT: u32 = 0x2e
const ZERO: u32 = 0x30
const COLON: u32 = 0x3a
const BACKSLASH: u32 = 0x5c
const OPEN_ARRAY: u32 = 0x5b
const CLOSE_ARRAY: u32 = 0x5d
const OPEN_OBJECT: u32 = 0x7b
const CLOSE_OBJECT: u32 = 0x7d

// what the scanner expects next
const VALUE = 0
const KEY_OR_END = 1
const KEY = 2
const VALUE_OR_END = 3
const COMMA_OR_END = 4

const IN_OBJECT: u8 = 1
const IN_ARRAY: u8 = 2

/** True when [start, start + n) is one JSON object, optionally surrounded by whitespace. */
export function isJsonObject(start: usize, n: usize, stack: usize): bool {
  const end = start + n
  let i = skipSpace(start, end)
  if (i >= end || <u32>load<u8>(i) != OPEN_OBJECT) return false
  store<u8>(stack, IN_OBJECT)
  let depth: usize = 1
  i++
  let expect = KEY_OR_END
  while (true) {
    i = skipSpace(i, end)
    if (i >= end) return false
    const c = <u32>load<u8>(i)
    if (expect == KEY_OR_END || expect == VALUE_OR_END) {
      if (c == (expect == KEY_OR_END ? CLOSE_OBJECT : CLOSE_ARRAY)) {
        depth--
        i++
        expect = COMMA_OR_END
      } else {
        expect = expect == KEY_OR_END ? KEY : VALUE
        continue
      }
    } else if (expect == KEY) {
      if (c != QUOTE) return false
      i = skipString(i, end)
      if (i == 0) return false
      i = skipSpace(i, end)
      if (i >= end || <u32>load<u8>(i) != COLON) return false
      i++
      expect = VALUE
      continue
    } else if (expect == VALUE) {
      if (c == QUOTE) i = skipString(i, end)
      else if (c == OPEN_OBJECT || c == OPEN_ARRAY) {
        store<u8>(stack + depth, c == OPEN_OBJECT ? IN_OBJECT : IN_ARRAY)
        depth++
        i++
        expect = c == OPEN_OBJECT ? KEY_OR_END : VALUE_OR_END
        continue
      } else if (c == 0x74) i = i + 4 <= end && load<u32>(i) == 0x65757274 ? i + 4 : 0 // "true", little-endian
      else if (c == 0x66) i = i + 5 <= end && load<u32>(i + 1) == 0x65736c61 ? i + 5 : 0 // "f" + "alse"
      else if (c == 0x6e) i = i + 4 <= end && load<u32>(i) == 0x6c6c756e ? i + 4 : 0 // "null"
      else i = skipNumber(i)
      if (i == 0 || i > end) return false
      expect = COMMA_OR_END
      continue
    } else {
      // COMMA_OR_END
      const inside = load<u8>(stack + depth - 1)
      if (c == COMMA) {
        i++
        expect = inside == IN_OBJECT ? KEY : VALUE
        continue
      }
      if (c != (inside == IN_OBJECT ? CLOSE_OBJECT : CLOSE_ARRAY)) return false
      depth--
      i++
    }
    // a container closed; when it was the top-level object, only whitespace may follow
    if (depth == 0) return skipSpace(i, end) == end
  }
}

// @ts-ignore: decorator
@inline function skipSpace(i: usize, end: usize): usize {
  while (i < end) {
    const c = <u32>load<u8>(i)
    if (c != SPACE && c != LF && c != CR && c != TAB) break
    i++
  }
  return i
}

/** `i` is at the opening quote; returns the index after the closing one, or 0. */
function skipString(i: usize, end: usize): usize {
  const quote = i8x16.splat(<i8>QUOTE)
  const backslash = i8x16.splat(<i8>BACKSLASH)
  const space = i8x16.splat(<i8>SPACE)
  i++
  while (true) {
    // plain content, 16 bytes at a time, up to a quote, a backslash or a raw control byte
    while (true) {
      const block = v128.load(i)
      const stops = v128.or(v128.or(i8x16.eq(block, quote), i8x16.eq(block, backslash)), i8x16.lt_u(block, space))
      const mask = i8x16.bitmask(stops)
      if (mask != 0) {
        i += <usize>ctz(mask)
        break
      }
      i += 16
      if (i >= end) return 0
    }
    if (i >= end) return 0
    const c = <u32>load<u8>(i)
    if (c == QUOTE) return i + 1
    if (c != BACKSLASH) return 0 // raw control characters must be escaped
    const e = <u32>load<u8>(i + 1)
    if (e == 0x75) {
      // \uXXXX
      if (i + 6 > end) return 0
      for (let k = i + 2; k < i + 6; k++) if (!isHexDigit(<u32>load<u8>(k))) return 0
      i += 6
    } else if (e == QUOTE || e == BACKSLASH || e == 0x2f || e == 0x62 || e == 0x66 || e == 0x6e || e == 0x72 || e == 0x74) {
      // \" \\ \/ \b \f \n \r \t
      i += 2
    } else return 0
  }
}

// @ts-ignore: decorator
@inline function isHexDigit(c: u32): bool {
  return c - ZERO < 10 || (c | 0x20) - 0x61 < 6
}

// @ts-ignore: decorator
@inline function isDigit(c: u32): bool {
  return c - ZERO < 10
}

/** -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?; returns the index after it, or 0. Stops at the 0 after the text. */
function skipNumber(i: usize): usize {
  if (<u32>load<u8>(i) == MINUS) i++
  const first = <u32>load<u8>(i)
  if (first == ZERO) i++
  else if (isDigit(first)) while (isDigit(<u32>load<u8>(i))) i++
  else return 0
  if (<u32>load<u8>(i) == DOT) {
    i++
    if (!isDigit(<u32>load<u8>(i))) return 0
    while (isDigit(<u32>load<u8>(i))) i++
  }
  if ((<u32>load<u8>(i) | 0x20) == 0x65) {
    // e or E
    i++
    const sign = <u32>load<u8>(i)
    if (sign == PLUS || sign == MINUS) i++
    if (!isDigit(<u32>load<u8>(i))) return 0
    while (isDigit(<u32>load<u8>(i))) i++
  }
  return i
}
