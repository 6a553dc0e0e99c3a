/**
 * dsv export --format tfrecord, read back by an independent reader: record framing
 * checked with another CRC-32C implementation (@node-rs/crc32, native) and every record
 * decoded with protobufjs against tf.train.Example's own schema (test/data/export/tf_example.proto).
 */
import assert from 'node:assert/strict'
import fs from 'node:fs'
import path from 'node:path'
import {fileURLToPath} from 'node:url'
import protobuf from 'protobufjs'
import {crc32c} from '@node-rs/crc32'
import {TempDirs, assertExit, assertJsonError, dsvAsync, fixturesDir, makeRepoFromAsync, readJsonl, sha256File, type MadeRepo} from './helpers.js'

const here = path.dirname(fileURLToPath(import.meta.url))
const Example = protobuf.loadSync(path.join(here, 'data', 'export', 'tf_example.proto')).lookupType('tensorflow.Example')

interface Feature {
  bytesList?: {value: Buffer[]}
  floatList?: {value: number[]}
  int64List?: {value: Array<number | string>}
}
type Features = Record<string, Feature>

const mask = (c: number) => ((((c >>> 15) | (c << 17)) >>> 0) + 0xa282ead8) >>> 0

/** Every record of a TFRecord file, its framing verified, decoded as tf.train.Example. */
function readTfRecord(file: string): Features[] {
  const buf = fs.readFileSync(file)
  const out: Features[] = []
  let off = 0
  while (off < buf.length) {
    assert.ok(off + 12 <= buf.length, 'truncated record header')
    const len = Number(buf.readBigUInt64LE(off))
    assert.equal(buf.readUInt32LE(off + 8), mask(crc32c(buf.subarray(off, off + 8))), `length CRC of record ${out.length}`)
    const data = buf.subarray(off + 12, off + 12 + len)
    assert.equal(buf.readUInt32LE(off + 12 + len), mask(crc32c(data)), `data CRC of record ${out.length}`)
    const ex = Example.toObject(Example.decode(data), {longs: String, bytes: Buffer, defaults: false}) as {features?: {feature?: Features}}
    out.push(ex.features?.feature ?? {})
    off += 16 + len
  }
  return out
}

// a list feature with no values decodes as a list message without `value`
const text = (f: Feature | undefined) => f?.bytesList && (f.bytesList.value ?? []).map((b) => b.toString('utf8'))
const ints = (f: Feature | undefined) => f?.int64List && (f.int64List.value ?? []).map((v) => BigInt(v))
const floats = (f: Feature | undefined) => f?.floatList && (f.floatList.value ?? [])

const tmp = new TempDirs()
after(() => tmp.cleanup())

describe('dsv export --format tfrecord (read back with protobufjs and another CRC-32C)', function () {
  this.timeout(120_000)
  let repo: MadeRepo
  let out: string
  const typed = [
    {id: 't1', n: 3, neg: -5, big: 9007199254740991, x: 0.25, flag: true, tags: ['a', 'b'], counts: [1, -2, 3], scores: [0.5, 1], nested: {a: {b: 1}}, mixed: 'text'},
    {id: 't2', n: 0, neg: -1, big: 1, x: 2, flag: false, tags: [], counts: [], scores: [0.125], nested: null, mixed: 7},
    {id: 't3', n: 12, neg: 0, big: 2, x: 1.5, flag: true, tags: ['c'], counts: [0], scores: [], mixed: [1, 'two']},
  ]

  before(async () => {
    repo = await makeRepoFromAsync(tmp, ['golden', 'common_voice'], {files: {'typed/values.jsonl': typed.map((r) => JSON.stringify(r)).join('\n') + '\n'}})
    out = tmp.make('dsv-tfrecord-out-')
  })

  it('golden examples: one Example per row; strings as bytes, numbers as float, nested objects as JSON text, nulls left out', async () => {
    const file = path.join(out, 'golden.tfrecord')
    assertExit(await dsvAsync(repo.dir, 'export', 'HEAD', '--format', 'tfrecord', '--output', file, '--files', 'golden/golden_examples.jsonl'), 0)
    const rows = readJsonl(path.join(fixturesDir, 'golden', 'golden_examples.jsonl'))
    const records = readTfRecord(file)
    assert.equal(records.length, rows.length)
    records.forEach((f, i) => {
      const r = rows[i]
      assert.deepEqual(text(f.id), [r.id])
      assert.deepEqual(text(f.validation_status), [r.validation_status])
      assert.deepEqual(JSON.parse(text(f.expected_output)![0]), r.expected_output)
      assert.deepEqual(JSON.parse(text(f.input_data)![0]), r.input_data)
      assert.deepEqual(JSON.parse(text(f.labels)![0]), r.labels)
      assert.deepEqual(floats(f.quality_score), [Math.fround(r.quality_score)])
      if (r.validated_by === null) assert.equal(f.validated_by, undefined, `${r.id}: a null field is absent`)
      else assert.deepEqual(text(f.validated_by), [r.validated_by])
      assert.deepEqual(Object.keys(f).sort(), Object.keys(r).filter((k) => r[k] !== null).sort())
    })
  })

  it('ints (negative and up to 2^53-1), booleans, floats and lists keep their values; mixed values become JSON text', async () => {
    const file = path.join(out, 'typed.tfrecord')
    assertExit(await dsvAsync(repo.dir, 'export', 'HEAD', '--format', 'tfrecord', '--output', file, '--files', 'typed/'), 0)
    const records = readTfRecord(file)
    assert.equal(records.length, typed.length)
    records.forEach((f, i) => {
      const r = typed[i]
      assert.deepEqual(ints(f.n), [BigInt(r.n)])
      assert.deepEqual(ints(f.neg), [BigInt(r.neg)])
      assert.deepEqual(ints(f.big), [BigInt(r.big)])
      assert.deepEqual(ints(f.flag), [r.flag ? 1n : 0n])
      assert.deepEqual(floats(f.x), [r.x], 'x mixes 0.25 and 2: a float feature in every row')
      // an empty list is still present, as an empty list of the field's kind
      assert.deepEqual(text(f.tags), r.tags)
      assert.deepEqual(ints(f.counts), r.counts.map((c) => BigInt(c)))
      assert.deepEqual(floats(f.scores), r.scores)
      assert.deepEqual(text(f.mixed), [JSON.stringify(r.mixed)])
      if (r.nested) assert.deepEqual(text(f.nested), [JSON.stringify(r.nested)])
      else assert.equal(f.nested, undefined)
    })
  })

  it('a TSV (Common Voice): every cell is a bytes feature equal to the cell', async () => {
    const file = path.join(out, 'cv.tfrecord')
    assertExit(await dsvAsync(repo.dir, 'export', 'HEAD', '--format', 'tfrecord', '--output', file, '--files', 'common_voice/*.tsv'), 0)
    const [header, ...lines] = fs.readFileSync(path.join(fixturesDir, 'common_voice', 'validated.tsv'), 'utf8').split('\n').filter((l) => l !== '')
    const columns = header.split('\t')
    const records = readTfRecord(file)
    assert.equal(records.length, lines.length)
    records.forEach((f, i) => {
      const cells = lines[i].split('\t')
      for (const [j, c] of columns.entries()) assert.deepEqual(text(f[c]), [cells[j] ?? ''], `row ${i + 1} ${c}`)
    })
  })

  it('--split with --max-rows-per-file: shards named NAME-0000i-of-0000N.tfrecord, all rows once, manifest hashes match, byte-identical on re-export', async () => {
    const [a, b] = [path.join(out, 'sharded-a'), path.join(out, 'sharded-b')]
    const args = ['export', 'HEAD', '--format', 'tfrecord', '--files', 'golden/golden_examples.jsonl', '--split', 'train=0.8,test=0.2', '--seed', '3', '--max-rows-per-file', '10', '--json']
    const [ra, rb] = await Promise.all([dsvAsync(repo.dir, ...args, '--output', a), dsvAsync(repo.dir, ...args, '--output', b)])
    assertExit(ra, 0)
    assertExit(rb, 0)
    const m = ra.json<{files: Array<{name: string; rows: number; sha256: string}>; counts: {perSplit: Record<string, number>}}>()
    const rows = readJsonl(path.join(fixturesDir, 'golden', 'golden_examples.jsonl'))
    for (const split of ['train', 'test']) {
      const shards = m.files.filter((f) => f.name.startsWith(`${split}-`))
      const n = Math.ceil(m.counts.perSplit[split] / 10)
      assert.deepEqual(shards.map((s) => s.name), Array.from({length: n}, (_, i) => `${split}-${String(i).padStart(5, '0')}-of-${String(n).padStart(5, '0')}.tfrecord`))
      assert.ok(shards.slice(0, -1).every((s) => s.rows === 10))
    }
    const ids: string[] = []
    for (const f of m.files) {
      assert.equal(sha256File(path.join(a, f.name)), f.sha256, f.name)
      assert.equal(fs.readFileSync(path.join(a, f.name)).equals(fs.readFileSync(path.join(b, f.name))), true, `${f.name} differs between two exports`)
      const records = readTfRecord(path.join(a, f.name))
      assert.equal(records.length, f.rows)
      ids.push(...records.map((r) => text(r.id)![0]))
    }
    assert.deepEqual(ids.sort(), rows.map((r) => r.id).sort())
    assert.deepEqual(fs.readdirSync(a).sort(), [...m.files.map((f) => f.name), 'manifest.json'].sort())
  })

  it('the reader is strict: a flipped byte fails the data CRC', async () => {
    const file = path.join(out, 'flip.tfrecord')
    assertExit(await dsvAsync(repo.dir, 'export', 'HEAD', '--format', 'tfrecord', '--output', file, '--files', 'typed/'), 0)
    const buf = fs.readFileSync(file)
    buf[20] ^= 0x01
    fs.writeFileSync(file, buf)
    assert.throws(() => readTfRecord(file), /data CRC of record 0/)
  })

  it('a list holding null cannot be a feature: exit 5 naming file and line, nothing written', async () => {
    const bad = await makeRepoFromAsync(tmp, [], {files: {'bad.jsonl': '{"id":"a","v":[1,2]}\n{"id":"b","v":[1,null]}\n'}})
    const file = path.join(out, 'bad.tfrecord')
    const e = assertJsonError(await dsvAsync(bad.dir, 'export', 'HEAD', '--format', 'tfrecord', '--output', file, '--json'), 5, 'E_INVALID_DATA')
    assert.equal(e.file, 'bad.jsonl')
    assert.equal(e.line, 2)
    assert.deepEqual(fs.readdirSync(out).filter((n) => n.startsWith('bad.tfrecord')), [])
  })
})
