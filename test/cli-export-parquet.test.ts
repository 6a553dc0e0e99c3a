/**
 * End to end: `dsv export --format parquet` and `--format hf`, every file read back with
 * DuckDB (an independent Parquet reader, not the writer's library): row counts, every
 * value against the source file (nested objects as STRUCT, lists as LIST), column types and
 * nullability, --split files, --max-rows-per-file shards, the manifest's rows, bytes and
 * SHA-256 against the files, byte-identical re-exports, several row groups, what is left
 * behind on failure; and the Hugging Face folder: its layout, split names, and the dataset
 * card's YAML (configs, features, split sizes) against what DuckDB reads.
 */
import assert from 'node:assert/strict'
import {spawnSync} from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import {DuckDBInstance, type DuckDBConnection} from '@duckdb/node-api'
import {parse as parseCsv} from 'csv-parse/sync'
import {parse as parseYaml} from 'yaml'
import {TempDirs, assertExit, assertJsonError, dsvAsync, fixturesDir, listFiles, makeRepoFromAsync, prepareAll, prepared, readJsonl, sha256File, type RunResult} from './helpers.js'

const GOLDEN = 'golden/golden_examples.jsonl'
const STT = 'golden/stt_failed_cases.jsonl'
const VALIDATED = 'common_voice/validated.tsv'
const CHATS = 'conversations/chats.jsonl'
const PRODUCTS = 'tables/products.csv'
const PROMPTS = 'keyless/prompts.jsonl'
const MIXED = 'mixed/mixed.jsonl'
const BIG = 'big/rows.jsonl'
const BIG_ROWS = 25_000

/** values whose types disagree or that Parquet cannot hold as they are */
const MIXED_ROWS = [
  {id: 1, value: 'text', n: 1, meta: {}, tags: [], nested: [[1, 2], [3]], nulls: [null], maybe: null, empty: {}, big: 9007199254740991, word: 'zażółć 🙂'},
  {id: 2, value: 3, n: 2.5, meta: {a: 1}, tags: [1, 'x'], nested: [], nulls: [], maybe: null, empty: {}, big: -9007199254740991},
  {id: 3, value: {k: [true]}, n: -4, meta: {a: null, b: 'y'}, tags: null, nested: [[]], nulls: [null, null], empty: {}, big: 0, word: ''},
  {id: 4, value: null, n: 0, meta: null, tags: ['only'], nested: null, empty: {}, big: 1e21},
]

const tmp = new TempDirs()
after(() => tmp.cleanup())

const repo = prepared(() =>
  makeRepoFromAsync(tmp, ['golden', 'common_voice', 'conversations', 'tables', 'keyless'], {
    files: {
      [MIXED]: MIXED_ROWS.map((r) => JSON.stringify(r)).join('\n') + '\n',
      [BIG]: Array.from({length: BIG_ROWS}, (_, i) => JSON.stringify({id: `r${String(i).padStart(6, '0')}`, i, x: i / 7, ok: i % 3 === 0, tags: i % 5 ? ['a', String(i % 11)] : [], meta: {len: i % 100, note: i % 13 ? null : `n${i}`}})).join('\n') + '\n',
    },
  }),
)
prepareAll({repo})

let db: DuckDBInstance
let duck: DuckDBConnection
before(async () => {
  db = await DuckDBInstance.create(':memory:')
  duck = await db.connect()
})
after(() => {
  duck?.closeSync()
  db?.closeSync()
})

// ---------------------------------------------------------------- helpers

const sql = (s: string) => `'${s.replaceAll("'", "''")}'`

/** Every row of a Parquet file as JSON, in file order (DuckDB's to_json: BIGINT as numbers, STRUCT as objects). */
async function duckRows(file: string): Promise<any[]> {
  const r = await duck.runAndReadAll(`SELECT to_json(t)::VARCHAR AS j FROM read_parquet(${sql(file)}, file_row_number = true) t ORDER BY file_row_number`)
  return r.getRowObjectsJS().map((row) => {
    const o = JSON.parse(String(row.j))
    delete o.file_row_number
    return o
  })
}

async function duckAll(files: string[]): Promise<any[]> {
  const out: any[] = []
  for (const f of files) out.push(...(await duckRows(f)))
  return out
}

async function duckCount(pattern: string): Promise<number> {
  const r = await duck.runAndReadAll(`SELECT count(*)::INTEGER AS n FROM read_parquet(${sql(pattern)})`)
  return Number(r.getRowObjectsJS()[0].n)
}

/** column name → DuckDB type, in file order */
async function duckTypes(file: string): Promise<Array<[string, string]>> {
  const r = await duck.runAndReadAll(`DESCRIBE SELECT * FROM read_parquet(${sql(file)})`)
  return r.getRowObjectsJS().map((c) => [String(c.column_name), String(c.column_type)])
}

/** top-level column → its Parquet repetition (REQUIRED / OPTIONAL), as DuckDB reads the footer */
async function repetitions(file: string): Promise<Record<string, string>> {
  const r = await duck.runAndReadAll(`SELECT name, repetition_type FROM parquet_schema(${sql(file)})`)
  const rows = r.getRowObjectsJS()
  // the top-level fields follow the root in depth-first order: walk num_children to pick them
  const s = await duck.runAndReadAll(`SELECT name, num_children FROM parquet_schema(${sql(file)})`)
  const nodes = s.getRowObjectsJS().map((x, i) => ({name: String(x.name), children: Number(x.num_children ?? 0), rep: String(rows[i].repetition_type)}))
  const out: Record<string, string> = {}
  let i = 1
  const skip = (): void => {
    const n = nodes[i++].children
    for (let k = 0; k < n; k++) skip()
  }
  while (i < nodes.length) {
    out[nodes[i].name] = nodes[i].rep
    skip()
  }
  return out
}

async function rowGroups(file: string): Promise<number[]> {
  const r = await duck.runAndReadAll(`SELECT DISTINCT row_group_id, row_group_num_rows FROM parquet_metadata(${sql(file)}) ORDER BY row_group_id`)
  return r.getRowObjectsJS().map((x) => Number(x.row_group_num_rows))
}

/**
 * The source record as DuckDB shows it: fields of the Parquet schema that the record lacks
 * read as null (only where DuckDB has a null: a field missing from DuckDB still fails).
 */
function withNulls(expected: any, actual: any): any {
  if (Array.isArray(expected) && Array.isArray(actual)) return expected.map((x, i) => withNulls(x, actual[i]))
  if (expected && typeof expected === 'object' && actual && typeof actual === 'object' && !Array.isArray(actual)) {
    const out: Record<string, unknown> = {}
    for (const k of Object.keys(actual)) if (k in expected) out[k] = withNulls(expected[k], actual[k])
    else if (actual[k] === null) out[k] = null
    for (const k of Object.keys(expected)) if (!(k in out)) out[k] = expected[k]
    return out
  }
  return expected
}

function assertRowsEqual(actual: any[], expected: any[], what: string): void {
  assert.equal(actual.length, expected.length, `${what}: row count`)
  actual.forEach((a, i) => assert.deepEqual(a, withNulls(expected[i], a), `${what}: row ${i + 1}`))
}

/** A TSV (never quoted) as records of strings. */
function readTsv(file: string): Record<string, string>[] {
  const [header, ...lines] = fs.readFileSync(file, 'utf8').split('\n').filter((l) => l !== '')
  const cols = header.split('\t')
  return lines.map((l) => Object.fromEntries(l.split('\t').map((v, i) => [cols[i], v])))
}

async function exportOk(dir: string, ...args: string[]): Promise<any> {
  const r = await dsvAsync(dir, 'export', ...args, '--json')
  assertExit(r, 0, `dsv export ${args.join(' ')}`)
  return r.json()
}

function manifestOf(out: string): any {
  const m = fs.existsSync(out) && fs.statSync(out).isDirectory() ? path.join(out, 'manifest.json') : `${out}.manifest.json`
  return JSON.parse(fs.readFileSync(m, 'utf8'))
}

/** The manifest's files are the files on disk: rows (by DuckDB), bytes and SHA-256. */
async function assertManifestFiles(out: string, files: Array<{name: string; rows: number; bytes: number; sha256: string}>): Promise<void> {
  const base = fs.existsSync(out) && fs.statSync(out).isDirectory() ? out : path.dirname(out)
  for (const f of files) {
    const p = path.join(base, f.name)
    assert.equal(f.sha256, sha256File(p), `sha256 of ${f.name}`)
    assert.equal(f.bytes, fs.statSync(p).size, `bytes of ${f.name}`)
    if (f.name.endsWith('.parquet')) assert.equal(await duckCount(p), f.rows, `rows of ${f.name}`)
  }
}

const sourceOf = (rel: string) => path.join(fixturesDir, rel)
const noTemp = (dir: string) => listFiles(dir).filter((f) => /dsv-tmp|\.tmp$/.test(f))

// ---------------------------------------------------------------- Parquet

describe('dsv export --format parquet, read back with DuckDB', function () {
  this.timeout(120_000)

  it('golden examples: every value equal to the source, nested fields as STRUCT, types and nullability', async () => {
    const {dir} = await repo.get()
    const out = path.join(tmp.make(), 'golden.parquet')
    const doc = await exportOk(dir, 'HEAD', '--format', 'parquet', '--output', out, '--files', GOLDEN)
    const source = readJsonl(sourceOf(GOLDEN))
    assert.equal(doc.counts.written, 60)
    assert.equal(await duckCount(out), source.length)
    assertRowsEqual(await duckRows(out), source, 'golden')
    assert.deepEqual(await duckTypes(out), [
      ['id', 'VARCHAR'],
      ['example_type', 'VARCHAR'],
      ['input_data', 'STRUCT(contact STRUCT("name" VARCHAR, title VARCHAR, company VARCHAR, employees BIGINT), notes VARCHAR)'],
      ['expected_output', 'STRUCT(tier VARCHAR, reason VARCHAR)'],
      ['labels', 'STRUCT(industry VARCHAR, edge_case BOOLEAN)'],
      ['quality_score', 'DOUBLE'],
      ['validation_status', 'VARCHAR'],
      ['validated_by', 'VARCHAR'],
      ['created_at', 'VARCHAR'],
    ])
    // a field is OPTIONAL exactly when some record lacks it or holds null
    const expected = Object.fromEntries(Object.keys(source[0]).map((k) => [k, source.some((r) => r[k] === null || r[k] === undefined) ? 'OPTIONAL' : 'REQUIRED']))
    assert.deepEqual(await repetitions(out), expected)
    assert.equal(expected.validated_by, 'OPTIONAL', 'the fixture has records without a validator')
    await assertManifestFiles(out, manifestOf(out).files)
  })

  it('stt_failed_cases: error_types as a LIST of VARCHAR, scores as DOUBLE', async () => {
    const {dir} = await repo.get()
    const out = path.join(tmp.make(), 'stt.parquet')
    await exportOk(dir, 'HEAD', '--format', 'parquet', '--output', out, '--files', STT)
    const types = Object.fromEntries(await duckTypes(out))
    assert.equal(types.error_types, 'VARCHAR[]')
    assert.equal(types.error_score, 'DOUBLE')
    assertRowsEqual(await duckRows(out), readJsonl(sourceOf(STT)), 'stt')
    const r = await duck.runAndReadAll(`SELECT sum(len(error_types))::INTEGER AS n FROM read_parquet(${sql(out)})`)
    assert.equal(Number(r.getRowObjectsJS()[0].n), readJsonl(sourceOf(STT)).reduce((s, x) => s + x.error_types.length, 0))
  })

  it('Common Voice TSV: every cell a REQUIRED VARCHAR holding the text of the file (empty cells stay empty)', async () => {
    const {dir} = await repo.get()
    const out = path.join(tmp.make(), 'cv.parquet')
    await exportOk(dir, 'HEAD', '--format', 'parquet', '--output', out, '--files', VALIDATED)
    const source = readTsv(sourceOf(VALIDATED))
    assert.equal(source.length, 24)
    assert.deepEqual(await duckRows(out), source)
    const types = await duckTypes(out)
    assert.deepEqual(types.map(([c]) => c), Object.keys(source[0]))
    assert.ok(types.every(([, t]) => t === 'VARCHAR'))
    assert.ok(Object.values(await repetitions(out)).every((r) => r === 'REQUIRED'))
  })

  it('values Parquet cannot type as they are: JSON text, as the README says; ints, floats, nested lists, unicode', async () => {
    const {dir} = await repo.get()
    const out = path.join(tmp.make(), 'mixed.parquet')
    await exportOk(dir, 'HEAD', '--format', 'parquet', '--output', out, '--files', MIXED)
    assert.deepEqual(await duckTypes(out), [
      ['id', 'BIGINT'],
      ['value', 'VARCHAR'], // string, number, object: JSON text
      ['n', 'DOUBLE'], // int and float
      ['meta', 'STRUCT(a BIGINT, b VARCHAR)'],
      ['tags', 'VARCHAR[]'], // items of different types: JSON text
      ['nested', 'BIGINT[][]'],
      ['nulls', 'VARCHAR[]'], // nothing but nulls
      ['maybe', 'VARCHAR'], // only ever null
      ['empty', 'VARCHAR'], // an object with no fields: JSON text
      ['big', 'DOUBLE'], // beyond 2^53: a float
      ['word', 'VARCHAR'],
    ])
    const rows = await duckRows(out)
    assert.deepEqual(rows.map((r) => r.value), ['"text"', '3', '{"k":[true]}', null])
    assert.deepEqual(rows.map((r) => (r.value === null ? null : JSON.parse(r.value))), MIXED_ROWS.map((r) => r.value))
    assert.deepEqual(rows.map((r) => r.tags), [[], ['1', '"x"'], null, ['"only"']])
    assert.deepEqual(rows.map((r) => r.meta), [{a: null, b: null}, {a: 1, b: null}, {a: null, b: 'y'}, null])
    assert.deepEqual(rows.map((r) => r.nested), [[[1, 2], [3]], [], [[]], null])
    assert.deepEqual(rows.map((r) => r.nulls), [[null], [], [null, null], null])
    assert.deepEqual(rows.map((r) => r.maybe), [null, null, null, null])
    assert.deepEqual(rows.map((r) => r.empty), ['{}', '{}', '{}', '{}'])
    assert.deepEqual(rows.map((r) => r.n), [1, 2.5, -4, 0])
    assert.deepEqual(rows.map((r) => r.big), [9007199254740991, -9007199254740991, 0, 1e21])
    assert.deepEqual(rows.map((r) => r.word), ['zażółć 🙂', null, '', null])
    const rep = await repetitions(out)
    assert.equal(rep.id, 'REQUIRED')
    assert.equal(rep.word, 'OPTIONAL')
    assert.equal(rep.empty, 'REQUIRED')
  })

  it('every data file into one: the union of the columns, rows in source order, absent fields null', async () => {
    const {dir} = await repo.get()
    const out = path.join(tmp.make(), 'all.parquet')
    const doc = await exportOk(dir, 'HEAD', '--format', 'parquet', '--output', out, '--files', GOLDEN, '--files', STT, '--files', VALIDATED, '--files', CHATS, '--files', PRODUCTS, '--files', PROMPTS)
    const bySource = new Map<string, any[]>([
      [VALIDATED, readTsv(sourceOf(VALIDATED))],
      [CHATS, readJsonl(sourceOf(CHATS))],
      [GOLDEN, readJsonl(sourceOf(GOLDEN))],
      [STT, readJsonl(sourceOf(STT))],
      [PROMPTS, readJsonl(sourceOf(PROMPTS))],
      [PRODUCTS, parseCsv(fs.readFileSync(sourceOf(PRODUCTS)), {columns: true}) as any[]],
    ])
    // the export reads the files in the order of the version's tree
    const expected = doc.sources.flatMap((s: {path: string}) => bySource.get(s.path)!)
    assert.equal(doc.counts.written, expected.length)
    const rows = await duckRows(out)
    assertRowsEqual(rows, expected, 'all')
    const types = Object.fromEntries(await duckTypes(out))
    assert.equal(types.messages, 'STRUCT("role" VARCHAR, "content" VARCHAR)[]')
    assert.equal(types.price, 'VARCHAR', 'CSV cells are text')
    assert.ok(Object.values(await repetitions(out)).every((r) => r === 'OPTIONAL'), 'no field is in every file')
  })

  it('--split: one file per split with the manifest counts, the same examples as a JSONL export of the same split', async () => {
    const {dir} = await repo.get()
    const pq = path.join(tmp.make(), 'pq')
    const jl = path.join(tmp.make(), 'jl')
    const split = ['--split', 'train=0.8,val=0.1,test=0.1', '--seed', '7', '--files', GOLDEN, '--files', STT]
    const doc = await exportOk(dir, 'HEAD', '--format', 'parquet', '--output', pq, ...split)
    await exportOk(dir, 'HEAD', '--format', 'jsonl', '--output', jl, ...split)
    assert.deepEqual(listFiles(pq), ['manifest.json', 'test.parquet', 'train.parquet', 'val.parquet'])
    let total = 0
    for (const name of ['train', 'val', 'test']) {
      const rows = await duckRows(path.join(pq, `${name}.parquet`))
      assert.equal(rows.length, doc.counts.perSplit[name])
      assertRowsEqual(rows, readJsonl(path.join(jl, `${name}.jsonl`)), name)
      total += rows.length
    }
    assert.equal(total, 85)
    await assertManifestFiles(pq, doc.files)
  })

  it('--max-rows-per-file: NAME-0000k-of-0000N.parquet shards, the manifest rows and SHA-256 are the files, all rows in order', async () => {
    const {dir} = await repo.get()
    const out = path.join(tmp.make(), 'shards')
    const doc = await exportOk(dir, 'HEAD', '--format', 'parquet', '--output', out, '--split', 'train=0.8,val=0.2', '--files', GOLDEN, '--max-rows-per-file', '10')
    const train = doc.counts.perSplit.train
    const val = doc.counts.perSplit.val
    const n = (rows: number) => Math.ceil(rows / 10)
    const names = (split: string, rows: number) => Array.from({length: n(rows)}, (_, k) => `${split}-${String(k).padStart(5, '0')}-of-${String(n(rows)).padStart(5, '0')}.parquet`)
    assert.deepEqual(doc.files.map((f: {name: string}) => f.name), [...names('train', train), ...names('val', val)])
    assert.deepEqual(listFiles(out), ['manifest.json', ...names('train', train), ...names('val', val)].sort())
    assert.deepEqual(doc.files.map((f: {rows: number}) => f.rows), [...names('train', train).map((_, k) => Math.min(10, train - 10 * k)), ...names('val', val).map((_, k) => Math.min(10, val - 10 * k))])
    await assertManifestFiles(out, doc.files)
    // the shards of a split, read in order, are the split; a glob reads them all
    const unsharded = path.join(tmp.make(), 'whole')
    await exportOk(dir, 'HEAD', '--format', 'jsonl', '--output', unsharded, '--split', 'train=0.8,val=0.2', '--files', GOLDEN)
    assertRowsEqual(await duckAll(names('train', train).map((f) => path.join(out, f))), readJsonl(path.join(unsharded, 'train.jsonl')), 'train shards')
    assert.equal(await duckCount(path.join(out, 'train-*.parquet')), train)
  })

  it('two exports are byte-identical (no timestamps, no random ids)', async () => {
    const {dir} = await repo.get()
    const a = path.join(tmp.make(), 'a')
    const b = path.join(tmp.make(), 'b')
    const args = ['HEAD', '--format', 'parquet', '--split', 'train=0.7,test=0.3', '--max-rows-per-file', '20', ...[GOLDEN, STT, VALIDATED, CHATS, PRODUCTS, PROMPTS, MIXED].flatMap((f) => ['--files', f])]
    const da = await exportOk(dir, ...args, '--output', a)
    const db2 = await exportOk(dir, ...args, '--output', b)
    assert.deepEqual(da.files, db2.files)
    const files = listFiles(a).filter((f) => f.endsWith('.parquet'))
    assert.ok(files.length >= 4)
    for (const f of files) assert.ok(fs.readFileSync(path.join(a, f)).equals(fs.readFileSync(path.join(b, f))), `${f} differs`)
  })

  it(`a larger export (${BIG_ROWS.toLocaleString('en-US')} rows): row groups of 10,000, shards cut inside, every value`, async () => {
    const {dir} = await repo.get()
    const one = path.join(tmp.make(), 'big.parquet')
    await exportOk(dir, 'HEAD', '--format', 'parquet', '--output', one, '--files', BIG)
    assert.deepEqual(await rowGroups(one), [10_000, 10_000, 5_000])
    assertRowsEqual(await duckRows(one), readJsonl(path.join(dir, BIG)), 'big')
    const shards = path.join(tmp.make(), 'big')
    const doc = await exportOk(dir, 'HEAD', '--format', 'parquet', '--output', path.join(shards, 'rows.parquet'), '--files', BIG, '--max-rows-per-file', '12000')
    assert.deepEqual(doc.files.map((f: {name: string; rows: number}) => [f.name, f.rows]), [
      ['rows-00000-of-00003.parquet', 12_000],
      ['rows-00001-of-00003.parquet', 12_000],
      ['rows-00002-of-00003.parquet', 1_000],
    ])
    assert.deepEqual(await rowGroups(path.join(shards, 'rows-00000-of-00003.parquet')), [10_000, 2_000])
    assert.equal(await duckCount(path.join(shards, 'rows-*.parquet')), BIG_ROWS)
    await assertManifestFiles(path.join(shards, 'rows.parquet'), doc.files)
    const sum = await duck.runAndReadAll(`SELECT sum(i)::BIGINT AS s, count(*) FILTER (WHERE ok)::INTEGER AS k FROM read_parquet(${sql(path.join(shards, 'rows-*.parquet'))})`)
    const {s, k} = sum.getRowObjectsJS()[0]
    assert.equal(Number(s), (BIG_ROWS * (BIG_ROWS - 1)) / 2)
    assert.equal(Number(k), Math.ceil(BIG_ROWS / 3))
  })

  it('nothing matched: exit 2, no file and no temp file left', async () => {
    const {dir} = await repo.get()
    const folder = tmp.make()
    const r = await dsvAsync(dir, 'export', 'HEAD', '--format', 'parquet', '--output', path.join(folder, 'none.parquet'), '--where', 'id == "nope"', '--json')
    assertJsonError(r, 2, 'E_USAGE')
    assert.deepEqual(listFiles(folder), [])
  })

  it('an existing shard set is an existing output: --force replaces it and removes shards of the old count', async () => {
    const {dir} = await repo.get()
    const folder = tmp.make()
    const out = path.join(folder, 'g.parquet')
    await exportOk(dir, 'HEAD', '--format', 'parquet', '--output', out, '--files', GOLDEN, '--max-rows-per-file', '20')
    assert.deepEqual(listFiles(folder), ['g-00000-of-00003.parquet', 'g-00001-of-00003.parquet', 'g-00002-of-00003.parquet', 'g.parquet.manifest.json'])
    const again = await dsvAsync(dir, 'export', 'HEAD', '--format', 'parquet', '--output', out, '--files', GOLDEN, '--max-rows-per-file', '30', '--json')
    assertJsonError(again, 6, 'E_OUTPUT_EXISTS')
    fs.writeFileSync(path.join(folder, 'g-notes.txt'), 'kept')
    await exportOk(dir, 'HEAD', '--format', 'parquet', '--output', out, '--files', GOLDEN, '--max-rows-per-file', '30', '--force')
    assert.deepEqual(listFiles(folder), ['g-00000-of-00002.parquet', 'g-00001-of-00002.parquet', 'g-notes.txt', 'g.parquet.manifest.json'])
    assert.equal(await duckCount(path.join(folder, 'g-*.parquet')), 60)
  })

  it('a failure while moving files into place leaves no temp file', async () => {
    const {dir} = await repo.get()
    const out = tmp.make()
    // a folder where a file must go: the rename fails after every file was written
    fs.mkdirSync(path.join(out, 'val.parquet'))
    fs.writeFileSync(path.join(out, 'val.parquet', 'x'), 'x')
    const r: RunResult = await dsvAsync(dir, 'export', 'HEAD', '--format', 'parquet', '--output', out, '--split', 'train=0.5,val=0.5', '--files', GOLDEN, '--force', '--json')
    assert.notEqual(r.code, 0)
    assert.deepEqual(noTemp(out), [])
    assert.ok(!fs.existsSync(path.join(out, 'manifest.json')))
  })
})

// ---------------------------------------------------------------- Hugging Face folder

/** The card's YAML front matter. */
function cardOf(folder: string): any {
  const text = fs.readFileSync(path.join(folder, 'README.md'), 'utf8')
  const m = /^---\n([\s\S]*?)\n---\n/.exec(text)
  assert.ok(m, 'README.md starts with YAML front matter')
  return parseYaml(m[1])
}

/**
 * A feature of the card as `datasets` reads it (the key after `name` is the type:
 * dtype, struct, list), as a DuckDB type, to compare with what DuckDB reads.
 */
function featureAsDuck(f: any): string {
  const keys = Object.keys(f).filter((k) => k !== 'name')
  assert.equal(keys.length, 1, `one type key in ${JSON.stringify(f)}`)
  const [k] = keys
  return typeAsDuck(k, f[k])
}

function typeAsDuck(kind: string, v: any): string {
  const dtypes: Record<string, string> = {string: 'VARCHAR', int64: 'BIGINT', float64: 'DOUBLE', bool: 'BOOLEAN'}
  if (kind === 'dtype') return dtypes[v] ?? assert.fail(`dtype ${v}`)
  if (kind === 'struct') return `STRUCT(${v.map((x: any) => `${duckName(x.name)} ${featureAsDuck(x)}`).join(', ')})`
  if (kind === 'list') return `${typeof v === 'string' ? typeAsDuck('dtype', v) : Array.isArray(v) ? typeAsDuck('struct', v) : featureAsDuck(v)}[]`
  return assert.fail(`feature type ${kind}`)
}

/** DuckDB quotes field names that are keywords */
const duckName = (n: string) => (['name', 'role', 'content', 'type'].includes(n) ? `"${n}"` : n)

describe('dsv export --format hf: a Hugging Face datasets folder', function () {
  this.timeout(120_000)

  it('data/<split>-0000k-of-0000N.parquet with train/validation/test, a card whose YAML matches the files', async () => {
    const {dir} = await repo.get()
    const out = path.join(tmp.make(), 'hf')
    const doc = await exportOk(dir, 'HEAD', '--format', 'hf', '--output', out, '--split', 'train=0.8,val=0.1,test=0.1', '--files', GOLDEN, '--files', STT, '--files', CHATS, '--max-rows-per-file', '25')
    const per = doc.counts.perSplit
    assert.deepEqual(Object.keys(per), ['train', 'validation', 'test'])
    const n = (rows: number) => Math.max(1, Math.ceil(rows / 25))
    const shard = (s: string, k: number, of: number) => `data/${s}-${String(k).padStart(5, '0')}-of-${String(of).padStart(5, '0')}.parquet`
    const expected = ['train', 'validation', 'test'].flatMap((s) => Array.from({length: n(per[s])}, (_, k) => shard(s, k, n(per[s]))))
    assert.deepEqual(listFiles(out), ['README.md', ...expected.sort(), 'manifest.json'].sort())
    await assertManifestFiles(out, doc.files)
    assert.ok(doc.files.some((f: {name: string}) => f.name === 'README.md'), 'the card is in the manifest')

    const card = cardOf(out)
    assert.deepEqual(card.configs, [
      {
        config_name: 'default',
        data_files: [
          {split: 'train', path: 'data/train-*'},
          {split: 'validation', path: 'data/validation-*'},
          {split: 'test', path: 'data/test-*'},
        ],
      },
    ])
    // split sizes: what DuckDB counts through the card's own globs
    for (const s of card.dataset_info.splits) assert.equal(await duckCount(path.join(out, `${card.configs[0].data_files.find((d: any) => d.split === s.name).path}.parquet`)), s.num_examples, s.name)
    assert.deepEqual(card.dataset_info.splits.map((s: any) => s.name), ['train', 'validation', 'test'])
    // features: the columns DuckDB reads, in order, with the same types
    assert.deepEqual(card.dataset_info.features.map((f: any) => [f.name, featureAsDuck(f)]), await duckTypes(path.join(out, expected[0])))
    const feature = (name: string) => card.dataset_info.features.find((f: any) => f.name === name)
    assert.deepEqual(feature('error_types'), {name: 'error_types', list: 'string'})
    assert.deepEqual(feature('messages'), {name: 'messages', list: [{name: 'role', dtype: 'string'}, {name: 'content', dtype: 'string'}]})
    assert.deepEqual(feature('expected_output'), {name: 'expected_output', struct: [{name: 'tier', dtype: 'string'}, {name: 'reason', dtype: 'string'}]})

    // the same examples as the Parquet export with the user's split names
    const pq = path.join(tmp.make(), 'pq')
    await exportOk(dir, 'HEAD', '--format', 'parquet', '--output', pq, '--split', 'train=0.8,val=0.1,test=0.1', '--files', GOLDEN, '--files', STT, '--files', CHATS)
    for (const [hf, mine] of [['train', 'train'], ['validation', 'val'], ['test', 'test']]) {
      const files = expected.filter((f) => f.startsWith(`data/${hf}-`)).map((f) => path.join(out, f))
      assert.deepEqual(await duckAll(files), await duckRows(path.join(pq, `${mine}.parquet`)), hf)
    }
  })

  it('without --split everything is train; dev and eval are renamed; two names for one split, or a name the Hub refuses, exit 2', async () => {
    const {dir} = await repo.get()
    const one = path.join(tmp.make(), 'one')
    const doc = await exportOk(dir, 'HEAD', '--format', 'hf', '--output', one, '--files', VALIDATED)
    assert.deepEqual(listFiles(one), ['README.md', 'data/train-00000-of-00001.parquet', 'manifest.json'])
    assert.deepEqual(doc.counts.perSplit, {train: 24})
    assert.deepEqual(cardOf(one).dataset_info.splits, [{name: 'train', num_examples: 24}])
    assert.deepEqual(await duckRows(path.join(one, 'data/train-00000-of-00001.parquet')), readTsv(sourceOf(VALIDATED)))

    const renamed = path.join(tmp.make(), 'renamed')
    const d2 = await exportOk(dir, 'HEAD', '--format', 'hf', '--output', renamed, '--files', GOLDEN, '--split', 'train=0.6,dev=0.2,eval=0.2')
    assert.deepEqual(Object.keys(d2.counts.perSplit), ['train', 'validation', 'test'])
    assert.deepEqual(cardOf(renamed).configs[0].data_files.map((d: any) => d.split), ['train', 'validation', 'test'])

    for (const spec of ['train=0.5,val=0.25,dev=0.25', 'train=0.5,hold-out=0.5']) {
      const folder = tmp.make()
      const r = await dsvAsync(dir, 'export', 'HEAD', '--format', 'hf', '--output', path.join(folder, 'x'), '--files', GOLDEN, '--split', spec, '--json')
      assertJsonError(r, 2, 'E_USAGE')
      assert.deepEqual(listFiles(folder), [])
    }
  })

  it('a split with no example gets no file and is left out of the card (datasets cannot load an empty split)', async () => {
    const {dir} = await repo.get()
    const out = path.join(tmp.make(), 'hf')
    // one example, two splits: one of them is empty
    const doc = await exportOk(dir, 'HEAD', '--format', 'hf', '--output', out, '--files', MIXED, '--where', 'id == 1', '--split', 'train=0.5,test=0.5')
    const [full, empty] = doc.counts.perSplit.train === 1 ? ['train', 'test'] : ['test', 'train']
    assert.deepEqual([doc.counts.perSplit[full], doc.counts.perSplit[empty]], [1, 0])
    assert.deepEqual(listFiles(out), ['README.md', `data/${full}-00000-of-00001.parquet`, 'manifest.json'])
    const card = cardOf(out)
    assert.deepEqual(card.configs[0].data_files, [{split: full, path: `data/${full}-*`}])
    assert.deepEqual(card.dataset_info.splits, [{name: full, num_examples: 1}])
  })

  it('datasets.load_dataset loads it with its splits and the card\'s features (where Python has `datasets`; DSV_TEST_PYTHON names the interpreter)', async function () {
    const python = process.env.DSV_TEST_PYTHON ?? 'python3'
    if (spawnSync(python, ['-c', 'import datasets'], {encoding: 'utf8'}).status !== 0) return this.skip()
    const {dir} = await repo.get()
    const out = path.join(tmp.make(), 'hf')
    await exportOk(dir, 'HEAD', '--format', 'hf', '--output', out, '--split', 'train=0.8,val=0.1,test=0.1', '--files', GOLDEN, '--files', STT, '--files', CHATS, '--files', MIXED, '--max-rows-per-file', '40')
    const script = [
      'import datasets, json, sys',
      "d = datasets.load_dataset(sys.argv[1], verification_mode='all_checks')",
      'b = datasets.load_dataset_builder(sys.argv[1])',
      "print(json.dumps({'features': str(b.info.features), 'splits': {s: d[s].to_list() for s in d}}))",
    ].join('\n')
    const home = tmp.make()
    const r = spawnSync(python, ['-c', script, out], {encoding: 'utf8', env: {...process.env, HF_HOME: home, HF_DATASETS_OFFLINE: '1', HF_HUB_OFFLINE: '1'}, maxBuffer: 64 << 20})
    assert.equal(r.status, 0, r.stderr)
    const got = JSON.parse(r.stdout.trim().split('\n').at(-1)!)
    assert.deepEqual(Object.keys(got.splits), ['train', 'validation', 'test'])
    for (const s of Object.keys(got.splits)) {
      const files = listFiles(out).filter((f) => f.startsWith(`data/${s}-`)).map((f) => path.join(out, f))
      assert.deepEqual(got.splits[s], await duckAll(files), s)
    }
    // the card's features, as datasets parsed them
    assert.match(got.features, /'input_data': \{'contact': \{'name': Value\('string'\).*'employees': Value\('int64'\)/)
    assert.match(got.features, /'messages': List\(\{'role': Value\('string'\), 'content': Value\('string'\)\}\)/)
    assert.match(got.features, /'nested': List\(List\(Value\('int64'\)\)\)/)
  })

  it('mixed types in the card: JSON-text fields are strings, nested lists are lists of lists; two exports byte-identical', async () => {
    const {dir} = await repo.get()
    const a = path.join(tmp.make(), 'a')
    const b = path.join(tmp.make(), 'b')
    await exportOk(dir, 'HEAD', '--format', 'hf', '--output', a, '--files', MIXED)
    await exportOk(dir, 'HEAD', '--format', 'hf', '--output', b, '--files', MIXED)
    const card = cardOf(a)
    assert.deepEqual(card.dataset_info.features.map((f: any) => [f.name, featureAsDuck(f)]), await duckTypes(path.join(a, 'data/train-00000-of-00001.parquet')))
    assert.deepEqual(card.dataset_info.features.find((f: any) => f.name === 'nested'), {name: 'nested', list: {list: 'int64'}})
    for (const f of ['README.md', 'data/train-00000-of-00001.parquet']) assert.ok(fs.readFileSync(path.join(a, f)).equals(fs.readFileSync(path.join(b, f))), `${f} differs`)
  })
})
