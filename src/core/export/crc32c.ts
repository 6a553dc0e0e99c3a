/**
 * CRC-32C (Castagnoli), as TFRecord frames use it, table-driven. `maskedCrc32c` is
 * TensorFlow's masking of a stored CRC (rotate right by 15, add a constant), which keeps
 * a CRC of data that itself holds CRCs from looking valid by accident.
 */
const TABLE = (() => {
  const t = new Uint32Array(256)
  for (let n = 0; n < 256; n++) {
    let c = n
    for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1
    t[n] = c >>> 0
  }
  return t
})()

export function crc32c(data: Uint8Array): number {
  let c = 0xffffffff
  for (let i = 0; i < data.length; i++) c = TABLE[(c ^ data[i]) & 0xff] ^ (c >>> 8)
  return (c ^ 0xffffffff) >>> 0
}

export function maskedCrc32c(data: Uint8Array): number {
  const c = crc32c(data)
  return (((c >>> 15) | (c << 17)) + 0xa282ead8) >>> 0
}
