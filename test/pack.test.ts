/**
 * Pack files on disk: zstd and raw blocks written by PackWriter read back byte for byte by
 * PackReader, with and without recycled block memory, and damaged blocks refused.
 */
import {strict as assert} from 'node:assert'
import {mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {PackReader, PackWriter, type PackEntryInfo} from '../dist/core/pack.js'
import {objectIdBytes} from '../dist/core/object-kinds.js'
import {packBlockCodecs} from './helpers.js'

/** Deterministic text that compresses like JSONL, and noise that does not compress. */
function text(seed: number, length: number): Buffer {
  const words = ['label', 'tier', 'audio', 'speaker', 'validated', 'example', 'quality', 'split', 'sentence', 'score']
  let x = seed
  const parts: string[] = []
  let size = 0
  while (size < length) {
    x = (x * 1103515245 + 12345) >>> 0
    const w = `${words[x % words.length]}-${x % 997} `
    parts.push(w)
    size += w.length
  }
  return Buffer.from(parts.join('').slice(0, length))
}

function noise(seed: number, length: number): Buffer {
  const out = Buffer.alloc(length)
  let x = seed
  for (let i = 0; i < length; i++) out[i] = (x = (x * 1664525 + 1013904223) >>> 0) >>> 24
  return out
}

describe('pack files', function () {
  this.timeout(120_000)
  let dir: string
  const objects = new Map<string, Buffer>()
  let entries: PackEntryInfo[] = []

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'dsv-pack-'))
    const writer = new PackWriter(dir)
    for (let i = 0; i < 400; i++) {
      // ~40 MB in all: many more blocks than a 4 MiB cache holds
      const content = i >= 100 && i < 108 ? noise(i, 300_000) : text(i, 20_000 + ((i * 7919) % 180_000)) // 2.4 MB of noise: whole raw blocks
      const oid = objectIdBytes('blob', content)
      objects.set(oid.toString('hex'), content)
      writer.add(oid, 'blob', content)
    }
    entries = writer.finish()
  })

  after(() => rmSync(dir, {recursive: true, force: true}))

  it('writes zstd blocks, and raw blocks for what does not compress', () => {
    const codecs = packBlockCodecs(dir)
    assert.deepEqual([...codecs].sort(), [0, 3])
    const packed = readdirSync(dir).reduce((n, f) => n + readFileSync(join(dir, f)).length, 0)
    const raw = [...objects.values()].reduce((n, b) => n + b.length, 0)
    assert.ok(packed < raw / 2, `${packed} bytes packed for ${raw}`)
  })

  for (const recycle of [false, true]) {
    it(`reads every object back byte for byte${recycle ? ', recycling block memory' : ''}, in order and shuffled`, () => {
      const reader = new PackReader(dir, 4 << 20, recycle)
      const shuffled = [...entries].sort((a, b) => (a.oid[5] - b.oid[5]) || (a.oid[9] - b.oid[9]))
      for (const order of [entries, shuffled, entries]) {
        for (const e of order) {
          const got = reader.entry(e)
          assert.ok(got.data.equals(objects.get(e.oid.toString('hex'))!), `object ${e.oid.toString('hex')}`)
        }
      }
      reader.close()
    })
  }

  it('without recycling, what a read returned stays intact after many other reads', () => {
    const reader = new PackReader(dir, 4 << 20)
    const first = reader.entry(entries[0]).data
    for (const e of entries) reader.entry(e)
    assert.ok(first.equals(objects.get(entries[0].oid.toString('hex'))!))
    reader.close()
  })

  it('refuses a block whose compressed bytes are damaged', () => {
    const copy = mkdtempSync(join(tmpdir(), 'dsv-pack-bad-'))
    try {
      const [name] = readdirSync(dir)
      const bytes = readFileSync(join(dir, name))
      // damage the middle of the first block's compressed bytes
      for (let i = 200; i < 260; i++) bytes[i] ^= 0x5a
      writeFileSync(join(copy, name), bytes)
      for (const recycle of [false, true]) {
        const reader = new PackReader(copy, 4 << 20, recycle)
        assert.throws(() => {
          const got = reader.entry(entries[0])
          // a damaged block that still decompresses must at least not yield the object
          if (!objectIdBytes('blob', got.data).equals(entries[0].oid)) throw new RangeError('content does not match its id')
        }, RangeError)
        reader.close()
      }
    } finally {
      rmSync(copy, {recursive: true, force: true})
    }
  })
})
