/**
 * XXH32 (xxHash, 32-bit, as specified in xxHash's doc/xxhash_spec.md): picks the records
 * after which a table's leaves end (chunking rule 2, see src/core/record-boundary.ts).
 * Compiled with json-syntax.ts into one WebAssembly module (records.ts).
 */

const PRIME1: u32 = 0x9e3779b1
const PRIME2: u32 = 0x85ebca77
const PRIME3: u32 = 0xc2b2ae3d
const PRIME4: u32 = 0x27d4eb2f
const PRIME5: u32 = 0x165667b1

// @ts-ignore: decorator
@inline function round(acc: u32, lane: u32): u32 {
  return rotl<u32>(acc + lane * PRIME2, 13) * PRIME1
}

/** XXH32 of [start, start + n) with `seed`. */
export function xxh32(start: usize, n: usize, seed: u32): u32 {
  const end = start + n
  let i = start
  let h: u32
  if (n >= 16) {
    // four lanes over 16-byte stripes
    let v1 = seed + PRIME1 + PRIME2
    let v2 = seed + PRIME2
    let v3 = seed
    let v4 = seed - PRIME1
    const limit = end - 16
    while (i <= limit) {
      v1 = round(v1, load<u32>(i))
      v2 = round(v2, load<u32>(i + 4))
      v3 = round(v3, load<u32>(i + 8))
      v4 = round(v4, load<u32>(i + 12))
      i += 16
    }
    h = rotl<u32>(v1, 1) + rotl<u32>(v2, 7) + rotl<u32>(v3, 12) + rotl<u32>(v4, 18)
  } else h = seed + PRIME5
  h += <u32>n
  while (i + 4 <= end) {
    h = rotl<u32>(h + load<u32>(i) * PRIME3, 17) * PRIME4
    i += 4
  }
  while (i < end) {
    h = rotl<u32>(h + <u32>load<u8>(i) * PRIME5, 11) * PRIME1
    i++
  }
  h ^= h >> 15
  h *= PRIME2
  h ^= h >> 13
  h *= PRIME3
  h ^= h >> 16
  return h
}
