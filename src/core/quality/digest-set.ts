/**
 * A set of 20-byte digests (SHA-1 content fingerprints as one-byte strings) kept in typed
 * arrays with open addressing. A JS Set of a million fingerprint strings cost a quality
 * worker ~1 s in inserts (rehashing as it grew, entries scattered over the heap) plus much
 * of its GC time; here an entry is 5 words in one array and nothing is left to collect.
 */
const WORDS = 5

export class DigestSet {
  private words: Uint32Array
  private used: Uint8Array
  size = 0
  private readonly scratch = [0, 0, 0, 0, 0]

  constructor(slots = 1 << 12) {
    this.words = new Uint32Array(slots * WORDS)
    this.used = new Uint8Array(slots)
  }

  /** Adds a digest (20 one-byte chars); false when it was there already. */
  add(digest: string): boolean {
    if (digest.length !== WORDS * 4) throw new RangeError(`a digest has ${WORDS * 4} bytes, not ${digest.length}`)
    if ((this.size + 1) * 2 > this.used.length) this.grow()
    const w = this.scratch
    for (let k = 0; k < WORDS; k++) {
      const at = k * 4
      w[k] = (digest.charCodeAt(at) | (digest.charCodeAt(at + 1) << 8) | (digest.charCodeAt(at + 2) << 16) | (digest.charCodeAt(at + 3) << 24)) >>> 0
    }
    return this.insert(w)
  }

  private insert(w: number[]): boolean {
    const mask = this.used.length - 1
    // the digest is uniform: its first word is a good slot number
    for (let slot = w[0] & mask; ; slot = (slot + 1) & mask) {
      if (this.used[slot] === 0) {
        this.used[slot] = 1
        this.words.set(w, slot * WORDS)
        this.size++
        return true
      }
      const base = slot * WORDS
      if (this.words[base] === w[0] && this.words[base + 1] === w[1] && this.words[base + 2] === w[2] && this.words[base + 3] === w[3] && this.words[base + 4] === w[4]) return false
    }
  }

  private grow(): void {
    const {words, used} = this
    this.words = new Uint32Array(words.length * 2)
    this.used = new Uint8Array(used.length * 2)
    this.size = 0
    const w = [0, 0, 0, 0, 0]
    for (let slot = 0; slot < used.length; slot++) {
      if (used[slot] === 0) continue
      for (let k = 0; k < WORDS; k++) w[k] = words[slot * WORDS + k]
      this.insert(w)
    }
  }
}
