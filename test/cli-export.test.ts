/**
 * End to end: `dsv export` — the real `dsv` binary on real files in temp dirs. The formats
 * (JSONL, JSON, CSV, TSV) from a committed version (never the working tree), the manifest
 * and its SHA-256s, --files, --where, deterministic --split (with --seed, --group-by,
 * --stratify-by), --balance-by and --max-samples, output safety (--force, atomic files),
 * the --json and text outputs, and the same on real data (Common Voice pl, GSM8K).
 * Every expected value is computed here from the source files, never copied from a dsv run.
 */
import assert from 'node:assert/strict'
import fs from 'node:fs'
import path from 'node:path'
import {parse as parseCsv} from 'csv-parse/sync'
import {
  TempDirs,
  repoRoot,
  assertExit,
  assertJsonError,
  dsvAsync,
  editJsonl,
  fixturesDir,
  makeRepoFromAsync,
  prepareAll,
  prepared,
  readJsonl,
  sha256File,
  sharedDatasets,
  type LogEntry,
  type RunResult,
  expectOk as ok,
  commitAsync as commit,
} from './helpers.js'

const GOLDEN = 'golden/golden_examples.jsonl'
const STT = 'golden/stt_failed_cases.jsonl'
const CHATS = 'conversations/chats.jsonl'
const VALIDATED = 'common_voice/validated.tsv'
const PRODUCTS = 'tables/products.csv'
const PROMPTS = 'keyless/prompts.jsonl'
/** written by the test: list labels whose items come in different orders */
const MIXED = 'labels/mixed.jsonl'
/** written by the test: a value holding a tab (line 2) */
const TABBED = 'labels/tabbed.jsonl'
const TABBED_TEXT = [{id: 't-1', text: 'plain'}, {id: 't-2', text: 'a\tb'}, {id: 't-3', text: 'plain again'}].map((r) => `${JSON.stringify(r)}\n`).join('')

const REAL_CV = path.join(sharedDatasets, 'common-voice-pl', 'validated.tsv')
const GSM8K = path.join(sharedDatasets, 'gsm8k')

const tmp = new TempDirs()
after(() => tmp.cleanup())

// ---------------------------------------------------------------- the --json document

type Format = 'jsonl' | 'json' | 'csv' | 'tsv'
interface WrittenFile {
  name: string
  rows: number
  bytes: number
  sha256: string
}
interface ExportDoc {
  dsvExport: 1
  commit: string
  rev: string
  command: string[]
  format: Format
  sources: Array<{path: string; examples: number}>
  selection: {files: string[] | null; where: string | null; balanceBy: string | null; maxSamples: number | null}
  split: {spec: Array<{name: string; ratio: number}>; seed: string; groupBy: string | null; stratifyBy: string | null} | null
  counts: {read: number; matched: number; notApplicable: number; written: number; perSplit: Record<string, number>}
  files: WrittenFile[]
  output: string
  manifestPath: string
}

type Rec = Record<string, any>

// ---------------------------------------------------------------- helpers

/** Lines of a text, without the final empty piece (a last line without newline counts). */
function linesOf(text: string): string[] {
  const parts = text.split('\n')
  if (parts.at(-1) === '') parts.pop()
  return parts
}

const read = (file: string) => fs.readFileSync(file, 'utf8')
const fixture = (rel: string) => read(path.join(fixturesDir, rel))

/** A CSV/TSV cell as the exporter documents it: strings as they are, nested values as JSON, null/missing empty. */
function cellText(v: unknown): string {
  if (v === undefined || v === null) return ''
  if (typeof v === 'string') return v
  return JSON.stringify(v)
}

/** The union of the records' fields in first-seen order. */
function unionColumns(recs: Rec[]): string[] {
  const out: string[] = []
  for (const r of recs) for (const k of Object.keys(r)) if (!out.includes(k)) out.push(k)
  return out
}

function getPath(rec: Rec, dotted: string): unknown {
  let cur: unknown = rec
  for (const part of dotted.split('.')) {
    if (cur === null || typeof cur !== 'object') return undefined
    cur = (cur as Rec)[part]
  }
  return cur
}

/** A TSV source as records (cells are text; never quoted). */
function tsvRecords(text: string): {header: string[]; lines: string[]; recs: Rec[]} {
  const [head, ...lines] = linesOf(text)
  const header = head.split('\t')
  return {header, lines, recs: lines.map((l) => Object.fromEntries(header.map((c, i) => [c, l.split('\t')[i] ?? ''])))}
}

/** A CSV source as records (RFC 4180, CRLF, quoted newlines). */
function csvRecords(text: string): Rec[] {
  return parseCsv(text, {columns: true}) as Rec[]
}

/** How many rows a written file holds, counted from its bytes in its format. */
function rowsOf(file: string, format: Format): number {
  const text = read(file)
  switch (format) {
    case 'jsonl':
      return linesOf(text).length
    case 'json':
      return (JSON.parse(text) as unknown[]).length
    case 'csv':
      return (parseCsv(text) as string[][]).length - 1
    case 'tsv':
      return linesOf(text).length - 1
  }
}

function count<T>(items: T[]): Map<T, number> {
  const m = new Map<T, number>()
  for (const x of items) m.set(x, (m.get(x) ?? 0) + 1)
  return m
}

const sorted = <T>(xs: T[]) => [...xs].sort()

/** Temp files the exporter may leave behind by mistake. */
function tempFilesIn(dir: string): string[] {
  return fs.existsSync(dir) ? fs.readdirSync(dir).filter((n) => n.includes('.dsv-tmp-')) : []
}

/** A fresh path for an output (its folder exists, the path does not). */
function outPath(name: string): string {
  return path.join(tmp.make('dsv-export-out-'), name)
}


/**
 * Runs `dsv export ARGS --json`, asserts success, and checks what every export promises:
 * the document is the manifest plus `output` and `manifestPath`; the manifest sits where
 * documented; it records the command line; every file it names exists with its row count,
 * size and SHA-256; the counts add up; no temp file is left.
 */
async function exportOk(dir: string, args: string[]): Promise<ExportDoc> {
  const full = ['export', ...args, '--json']
  const r = await dsvAsync(dir, ...full)
  assertExit(r, 0, `dsv ${full.join(' ')}`)
  assert.equal(r.stderr, '', `dsv ${full.join(' ')} wrote to stderr`)
  const doc = r.json<ExportDoc>()
  const {output, manifestPath, ...rest} = doc
  const isSplit = doc.split !== null
  assert.equal(manifestPath, isSplit ? path.join(output, 'manifest.json') : `${output}.manifest.json`)
  assert.ok(fs.existsSync(manifestPath), `the manifest ${manifestPath} was written`)
  assert.deepEqual(JSON.parse(read(manifestPath)), rest, 'the manifest holds the fields of the --json document')
  assert.equal(doc.dsvExport, 1)
  assert.deepEqual(doc.command, ['dsv', ...full], 'the command line is recorded as given')
  assert.match(doc.commit, /^[0-9a-f]{64}$/)
  let total = 0
  for (const f of doc.files) {
    const file = isSplit ? path.join(output, f.name) : output
    if (!isSplit) assert.equal(f.name, path.basename(output))
    assert.ok(fs.existsSync(file), `${file} was written`)
    assert.equal(f.sha256, sha256File(file), `the manifest's sha256 of ${f.name} matches the file`)
    assert.equal(f.bytes, fs.statSync(file).size, `the manifest's size of ${f.name}`)
    assert.equal(f.rows, rowsOf(file, doc.format), `the manifest's row count of ${f.name}`)
    total += f.rows
  }
  assert.equal(doc.counts.written, total, 'counts.written is the sum of the files\' rows')
  if (isSplit) {
    assert.deepEqual(doc.files.map((f) => f.name), doc.split!.spec.map((s) => `${s.name}.${doc.format}`))
    assert.deepEqual(doc.counts.perSplit, Object.fromEntries(doc.files.map((f, i) => [doc.split!.spec[i].name, f.rows])))
    assert.deepEqual(sorted(fs.readdirSync(output)), sorted([...doc.files.map((f) => f.name), 'manifest.json']))
  } else {
    assert.deepEqual(doc.counts.perSplit, {all: total})
  }
  assert.deepEqual(tempFilesIn(isSplit ? output : path.dirname(output)), [], 'no temp file is left')
  return doc
}

/** Runs `dsv export ARGS --json` expecting a failure: the error, checked. */
async function exportError(dir: string, args: string[], exitCode: number, errorCode: string): Promise<Record<string, any>> {
  const r = await dsvAsync(dir, 'export', ...args, '--json')
  return assertJsonError(r, exitCode, errorCode)
}

/** The lines of the files of a split export, by split name. */
function splitLines(doc: ExportDoc, skipHeader = false): Map<string, string[]> {
  return new Map(doc.split!.spec.map((s) => {
    const ls = linesOf(read(path.join(doc.output, `${s.name}.${doc.format}`)))
    return [s.name, skipHeader ? ls.slice(1) : ls]
  }))
}

/** id → split name, from a JSONL split export. */
function assignment(doc: ExportDoc, idField = 'id'): Map<string, string> {
  const out = new Map<string, string>()
  for (const [name, ls] of splitLines(doc)) {
    for (const l of ls) {
      const id = String(JSON.parse(l)[idField])
      assert.ok(!out.has(id), `${id} is in one split only (also in ${out.get(id)} and ${name})`)
      out.set(id, name)
    }
  }
  return out
}

/** Asserts the lines are exactly the source's lines, each once (as multisets). */
function assertSameLines(actual: string[], expected: string[], what: string): void {
  assert.equal(actual.length, expected.length, `${what}: ${actual.length} lines instead of ${expected.length}`)
  assert.deepEqual(sorted(actual), sorted(expected), `${what}: the same lines`)
}

/** Asserts every line is one of the source's lines, no source line twice. */
function assertSubsetOf(actual: string[], source: string[], what: string): void {
  const src = count(source)
  for (const [l, n] of count(actual)) assert.ok((src.get(l) ?? 0) >= n, `${what}: a line that is not a source line (or repeated): ${l.slice(0, 200)}`)
}

// ---------------------------------------------------------------- the data

/** A label list whose items come in different orders: ["a","b"] and ["b","a"] are one class. */
function mixedLabels(): {text: string; recs: Rec[]} {
  const tags: string[][] = [
    ...Array.from({length: 4}, () => ['a', 'b']),
    ...Array.from({length: 3}, () => ['b', 'a']),
    ...Array.from({length: 5}, () => ['a']),
    ...Array.from({length: 3}, () => ['b']),
    ...Array.from({length: 9}, () => ['c']),
  ]
  // interleaved (not grouped by class): position 7i mod 24
  const n = tags.length
  const recs = tags.map((_, i) => ({id: `m-${String(i + 1).padStart(2, '0')}`, text: `item ${i + 1}`, tags: tags[(i * 7) % n]}))
  return {text: recs.map((r) => `${JSON.stringify(r)}\n`).join(''), recs}
}

/** Class of a list as the exporter documents it: its items, sorted. */
const listClass = (v: unknown) => JSON.stringify([...(v as string[])].sort())

// Made at once in the background (prepareAll); each describe awaits its own.
const repos = {
  /**
   * The fixtures' tables + MIXED: v1 (tag) → v2 (40 golden examples appended, one edited)
   * → uncommitted: golden cut down and rewritten, the Common Voice table deleted.
   */
  main: prepared(async () => {
    const mixed = mixedLabels()
    const made = await makeRepoFromAsync(tmp, [GOLDEN, STT, CHATS, VALIDATED, PRODUCTS, PROMPTS], {files: {[MIXED]: mixed.text, [TABBED]: TABBED_TEXT}})
    const dir = made.dir
    await ok(dsvAsync(dir, 'tag', 'v1', '--quiet'))
    const golden = path.join(dir, GOLDEN)
    const goldenV1 = read(golden)
    const v1Recs = readJsonl(golden)
    const editedId = v1Recs[4].id as string
    const appended = Array.from({length: 40}, (_, i) => ({
      ...structuredClone(v1Recs[i]),
      id: `ex-${String(1001 + i)}`,
      quality_score: 0.5,
      validation_status: 'pending',
      validated_by: null,
    }))
    const e = editJsonl(golden, (rec) => (rec.id === editedId ? {...rec, quality_score: 0.11, review_note: 'rescored'} : undefined), appended)
    assert.deepEqual(e, {modified: 1, removed: 0, added: 40})
    const v2 = await commit(dir, 'v2: 40 more golden examples')
    const goldenV2 = read(golden)
    // not committed: the working tree differs from HEAD
    fs.writeFileSync(golden, linesOf(goldenV2).slice(0, 3).map((l) => `${JSON.stringify({...JSON.parse(l), validation_status: 'rejected'})}\n`).join(''))
    fs.rmSync(path.join(dir, VALIDATED))
    return {dir, v1: made.first!, v2, goldenV1, goldenV2, editedId, mixed}
  }),

  realCv: prepared(async () => {
    if (!fs.existsSync(REAL_CV)) return null
    const made = await makeRepoFromAsync(tmp, [], {files: {'cv/validated.tsv': fs.readFileSync(REAL_CV)}})
    return {dir: made.dir}
  }),

  gsm8k: prepared(async () => {
    if (!fs.existsSync(path.join(GSM8K, 'train.jsonl'))) return null
    const files: Record<string, Buffer> = {}
    for (const f of ['train.jsonl', 'test.jsonl']) files[`gsm8k/${f}`] = fs.readFileSync(path.join(GSM8K, f))
    const made = await makeRepoFromAsync(tmp, [], {files})
    return {dir: made.dir}
  }),
}
prepareAll(repos)

// ---------------------------------------------------------------- formats

describe('dsv export: formats from a committed version', function () {
  this.timeout(120_000)
  let dir: string

  before(async () => {
    ;({dir} = await repos.main.get())
  })

  it('JSONL from JSONL keeps every record\'s bytes (non-ASCII, emoji, nulls)', async () => {
    const out = outPath('golden.jsonl')
    const doc = await exportOk(dir, ['v1', '--format', 'jsonl', '--output', out, '--files', GOLDEN])
    const src = fixture(GOLDEN)
    assert.deepEqual(linesOf(read(out)), linesOf(src))
    assert.equal(read(out), src, 'the whole file is the source file')
    assert.deepEqual(doc.sources, [{path: GOLDEN, examples: linesOf(src).length}])
    assert.deepEqual(doc.counts, {read: 60, matched: 60, notApplicable: 0, written: 60, perSplit: {all: 60}})
  })

  it('JSONL without a final newline (keyless): every line is exported', async () => {
    const out = outPath('prompts.jsonl')
    const src = fixture(PROMPTS)
    assert.ok(!src.endsWith('\n'), 'the fixture has no final newline')
    const doc = await exportOk(dir, ['v1', '--format', 'jsonl', '--output', out, '--files', PROMPTS])
    assert.deepEqual(linesOf(read(out)), linesOf(src))
    assert.equal(doc.counts.written, linesOf(src).length)
    assert.equal(doc.counts.written, 40)
  })

  it('JSON is one array of the same objects (nested arrays too, and the keyless last line)', async () => {
    const out = outPath('all.json')
    const doc = await exportOk(dir, ['v1', '--format', 'json', '--output', out, '--files', GOLDEN, '--files', CHATS, '--files', PROMPTS])
    assert.deepEqual(sorted(doc.sources.map((s) => s.path)), sorted([GOLDEN, CHATS, PROMPTS]))
    const expected = doc.sources.flatMap((s) => linesOf(fixture(s.path)).map((l) => JSON.parse(l)))
    assert.deepEqual(JSON.parse(read(out)), expected)
  })

  it('JSON from CSV and TSV: records of strings, quotes and the embedded newline kept', async () => {
    const out = outPath('tables.json')
    const doc = await exportOk(dir, ['v1', '--format', 'json', '--output', out, '--files', PRODUCTS, '--files', VALIDATED])
    const bySource: Record<string, Rec[]> = {[PRODUCTS]: csvRecords(fixture(PRODUCTS)), [VALIDATED]: tsvRecords(fixture(VALIDATED)).recs}
    const expected = doc.sources.flatMap((s) => bySource[s.path])
    assert.equal(expected.length, 30 + 24)
    const got = JSON.parse(read(out)) as Rec[]
    assert.deepEqual(got, expected)
    assert.ok(got.some((r) => typeof r.description === 'string' && r.description.includes('\n')), 'the embedded newline of OF-3004 survives')
    assert.ok(got.some((r) => typeof r.sentence === 'string' && r.sentence.startsWith('"')), 'the sentence starting with a quote keeps it')
  })

  it('CSV from JSONL: columns are the union of fields in first-seen order; nested values as JSON text', async () => {
    const out = outPath('mixed.csv')
    const doc = await exportOk(dir, ['v1', '--format', 'csv', '--output', out, '--files', GOLDEN, '--files', STT, '--files', CHATS, '--files', PROMPTS])
    const recs = doc.sources.flatMap((s) => readJsonl(path.join(fixturesDir, s.path)))
    const columns = unionColumns(recs)
    const rows = parseCsv(read(out)) as string[][]
    assert.deepEqual(rows[0], columns, 'the header')
    assert.deepEqual(rows.slice(1), recs.map((r) => columns.map((c) => cellText(r[c]))))
    assert.equal(doc.counts.written, 60 + 25 + 15 + 40)
  })

  it('CSV of a sample: the columns are the fields of the examples written, not of those sampled away', async () => {
    const out = outPath('sample.csv')
    const doc = await exportOk(dir, ['v1', '--format', 'csv', '--output', out, '--files', 'golden/*.jsonl', '--max-samples', '2', '--seed', '1'])
    assert.equal(doc.counts.written, 2)
    const byId = new Map([...readJsonl(path.join(fixturesDir, GOLDEN)), ...readJsonl(path.join(fixturesDir, STT))].map((r) => [r.id as string, r]))
    const rows = parseCsv(read(out), {columns: true}) as Rec[]
    const written = rows.map((r) => byId.get(r.id)!)
    assert.ok(written.every(Boolean), 'the rows written are source examples')
    const header = (parseCsv(read(out)) as string[][])[0]
    assert.deepEqual(header, unionColumns(written), `the header for ${written.map((r) => r.id).join(', ')}`)
  })

  it('CSV from CSV parses back to the same values (quoted commas, "" and the embedded newline)', async () => {
    const out = outPath('products.csv')
    await exportOk(dir, ['v1', '--format', 'csv', '--output', out, '--files', PRODUCTS])
    assert.deepEqual(parseCsv(read(out)), parseCsv(fixture(PRODUCTS)))
  })

  it('TSV to TSV with the same columns is byte-identical (from HEAD, though the file is gone from the working tree)', async () => {
    const out = outPath('validated.tsv')
    assert.ok(!fs.existsSync(path.join(dir, VALIDATED)), 'deleted in the working tree')
    await exportOk(dir, ['HEAD', '--format', 'tsv', '--output', out, '--files', VALIDATED])
    assert.ok(fs.readFileSync(out).equals(fs.readFileSync(path.join(fixturesDir, VALIDATED))), 'the same bytes as the source')
  })

  it('TSV from JSONL: the union of fields, nested values as JSON text, quotes left as they are', async () => {
    const out = outPath('stt.tsv')
    await exportOk(dir, ['v1', '--format', 'tsv', '--output', out, '--files', STT])
    const recs = readJsonl(path.join(fixturesDir, STT))
    const columns = unionColumns(recs)
    assert.deepEqual(linesOf(read(out)), [columns.join('\t'), ...recs.map((r) => columns.map((c) => cellText(r[c])).join('\t'))])
  })

  it('everything (no --files): every table of the version, in the order of `sources`', async () => {
    const out = outPath('all.jsonl')
    const doc = await exportOk(dir, ['v1', '--format', 'jsonl', '--output', out])
    assert.deepEqual(sorted(doc.sources.map((s) => s.path)), sorted([GOLDEN, STT, CHATS, VALIDATED, PRODUCTS, PROMPTS, MIXED, TABBED]))
    const {mixed} = await repos.main.get()
    const linesFor = (p: string): string[] => {
      if (p === PRODUCTS) return csvRecords(fixture(p)).map((r) => JSON.stringify(r))
      if (p === VALIDATED) return tsvRecords(fixture(p)).recs.map((r) => JSON.stringify(r))
      if (p === MIXED) return linesOf(mixed.text)
      if (p === TABBED) return linesOf(TABBED_TEXT)
      return linesOf(fixture(p))
    }
    const expected = doc.sources.flatMap((s) => linesFor(s.path))
    assert.deepEqual(linesOf(read(out)), expected)
    for (const s of doc.sources) assert.equal(s.examples, linesFor(s.path).length, `examples of ${s.path}`)
    assert.equal(doc.counts.read, expected.length)
  })

  it('a value with a line break into TSV exits 5 (E_INVALID_DATA) naming file and line; nothing is left', async () => {
    const out = outPath('products.tsv')
    const err = await exportError(dir, ['v1', '--format', 'tsv', '--output', out, '--files', PRODUCTS], 5, 'E_INVALID_DATA')
    const src = fixture(PRODUCTS)
    const line = src.slice(0, src.indexOf('OF-3004')).split('\n').length
    assert.equal(err.file, PRODUCTS)
    assert.equal(err.line, line)
    assert.ok(err.message.includes(`${PRODUCTS}:${line}`), err.message)
    assert.deepEqual(fs.readdirSync(path.dirname(out)), [], 'no output, no temp file, no manifest')
  })

  it('a value with a tab into TSV exits 5 as well, naming file and line', async () => {
    const out = outPath('tabbed.tsv')
    const err = await exportError(dir, ['v1', '--format', 'tsv', '--output', out, '--files', TABBED], 5, 'E_INVALID_DATA')
    assert.equal(err.file, TABBED)
    assert.equal(err.line, 2)
    assert.ok(err.message.includes(`${TABBED}:2`), err.message)
    assert.deepEqual(fs.readdirSync(path.dirname(out)), [], 'no output, no temp file, no manifest')
  })

  it('a failing split export leaves nothing: the folder it made is removed, a folder that existed is kept empty', async () => {
    const made = outPath('split-fail')
    const existing = outPath('split-fail-existing')
    fs.mkdirSync(existing)
    const args = (o: string) => ['v1', '--format', 'tsv', '--output', o, '--files', PRODUCTS, '--split', 'a=0.5,b=0.5']
    const [e1, e2] = await Promise.all([exportError(dir, args(made), 5, 'E_INVALID_DATA'), exportError(dir, args(existing), 5, 'E_INVALID_DATA')])
    assert.equal(e1.file, PRODUCTS)
    assert.equal(e2.file, PRODUCTS)
    assert.ok(!fs.existsSync(made), `${made} is not left behind: ${fs.existsSync(made) ? fs.readdirSync(made).join(', ') : ''}`)
    assert.deepEqual(fs.readdirSync(existing), [], 'no split file, temp file or manifest in the folder that existed')
  })
})

// ---------------------------------------------------------------- the committed version

describe('dsv export: the committed version, not the working tree', function () {
  this.timeout(120_000)

  it('HEAD exports what was committed; v1 and HEAD differ where the data changed', async () => {
    const {dir, goldenV1, goldenV2} = await repos.main.get()
    assert.notEqual(read(path.join(dir, GOLDEN)), goldenV2, 'the working tree was edited after the commit')
    const [head, v1] = [outPath('head.jsonl'), outPath('v1.jsonl')]
    const [dHead, dV1] = await Promise.all([
      exportOk(dir, ['HEAD', '--format', 'jsonl', '--output', head, '--files', GOLDEN]),
      exportOk(dir, ['v1', '--format', 'jsonl', '--output', v1, '--files', GOLDEN]),
    ])
    assert.equal(read(head), goldenV2)
    assert.equal(read(v1), goldenV1)
    assert.equal(dHead.counts.written, 100)
    assert.equal(dV1.counts.written, 60)
    assert.notEqual(dHead.commit, dV1.commit)
    assert.notEqual(dHead.files[0].sha256, dV1.files[0].sha256)
  })

  it('the manifest names the commit as `dsv log --json` does (by tag, by branch, by full id)', async () => {
    const {dir, v1, v2} = await repos.main.get()
    const [log, byTag, byHead, byId] = await Promise.all([
      ok(dsvAsync(dir, 'log', '--json')).then((r) => r.json<LogEntry[]>()),
      exportOk(dir, ['v1', '--format', 'jsonl', '--output', outPath('a.jsonl'), '--files', PROMPTS]),
      exportOk(dir, ['main', '--format', 'jsonl', '--output', outPath('b.jsonl'), '--files', PROMPTS]),
      exportOk(dir, [v1, '--format', 'jsonl', '--output', outPath('c.jsonl'), '--files', PROMPTS]),
    ])
    const tagged = log.find((e) => e.tags.includes('v1'))
    assert.ok(tagged, 'v1 is in the log')
    assert.equal(byTag.commit, tagged.id)
    assert.equal(byTag.commit, v1)
    assert.equal(byTag.rev, 'v1')
    assert.equal(byHead.commit, log[0].id)
    assert.equal(byHead.commit, v2)
    assert.equal(byId.commit, v1)
  })
})

// ---------------------------------------------------------------- selection

describe('dsv export: --files', function () {
  this.timeout(120_000)

  it('limits the sources (repeatable, gitignore-style); a pattern matching nothing exits 4', async () => {
    const {dir} = await repos.main.get()
    const nowhere = outPath('new/folder/none.jsonl')
    const [two, folder, err] = await Promise.all([
      exportOk(dir, ['v1', '--format', 'jsonl', '--output', outPath('two.jsonl'), '--files', STT, '--files', 'tables/*.csv']),
      exportOk(dir, ['v1', '--format', 'jsonl', '--output', outPath('golden.jsonl'), '--files', 'golden/']),
      exportError(dir, ['v1', '--format', 'jsonl', '--output', nowhere, '--files', 'nowhere/*.jsonl'], 4, 'E_PATH_NOT_FOUND'),
    ])
    assert.deepEqual(sorted(two.sources.map((s) => s.path)), sorted([STT, PRODUCTS]))
    assert.equal(two.counts.written, 25 + 30)
    assert.deepEqual(two.selection.files, [STT, 'tables/*.csv'])
    assert.deepEqual(sorted(folder.sources.map((s) => s.path)), sorted([GOLDEN, STT]))
    assert.equal(folder.counts.written, 85)
    assert.ok(err.message.includes('nowhere/*.jsonl'), err.message)
    assert.deepEqual(fs.readdirSync(path.dirname(path.dirname(path.dirname(nowhere)))), [], 'no folder made for an export that wrote nothing')
  })

  it('the manifest records the selection (files, where, balance-by, max-samples) and no split', async () => {
    const {dir} = await repos.main.get()
    const where = 'quality_score >= 0.5'
    const doc = await exportOk(dir, ['v1', '--format', 'jsonl', '--output', outPath('sel.jsonl'), '--files', GOLDEN, '--where', where, '--balance-by', 'expected_output.tier', '--max-samples', '9'])
    assert.deepEqual(doc.selection, {files: [GOLDEN], where, balanceBy: 'expected_output.tier', maxSamples: 9})
    assert.equal(doc.split, null)
    assert.equal(doc.counts.written, 9)
  })
})

describe('dsv export: --where', function () {
  this.timeout(120_000)
  let dir: string
  const golden = () => linesOf(fixture(GOLDEN))

  before(async () => {
    ;({dir} = await repos.main.get())
  })

  it('a comparison and a string equality select exactly the matching rows (bytes kept)', async () => {
    const where = 'quality_score >= 0.8 and validation_status == "validated"'
    const out = outPath('where.jsonl')
    const doc = await exportOk(dir, ['v1', '--format', 'jsonl', '--output', out, '--files', GOLDEN, '--where', where])
    const expected = golden().filter((l) => {
      const r = JSON.parse(l)
      return r.quality_score >= 0.8 && r.validation_status === 'validated'
    })
    assert.ok(expected.length > 0 && expected.length < 60, 'the expression keeps some rows, not all')
    assert.deepEqual(linesOf(read(out)), expected)
    assert.deepEqual(doc.counts, {read: 60, matched: expected.length, notApplicable: 0, written: expected.length, perSplit: {all: expected.length}})
    assert.equal(doc.selection.where, where)
  })

  it('a nested path: expected_output.tier == "A"', async () => {
    const out = outPath('tier-a.jsonl')
    const doc = await exportOk(dir, ['v1', '--format', 'jsonl', '--output', out, '--files', GOLDEN, '--where', 'expected_output.tier == "A"'])
    const expected = golden().filter((l) => JSON.parse(l).expected_output.tier === 'A')
    assert.equal(expected.length, 18)
    assert.deepEqual(linesOf(read(out)), expected)
    assert.equal(doc.counts.notApplicable, 0)
  })

  it('CSV output of the help example: only the matching golden rows, columns of the rows written', async () => {
    const where = 'quality_score >= 0.8 and validation_status == "validated"'
    const out = outPath('golden.csv')
    const doc = await exportOk(dir, ['v1', '--format', 'csv', '--output', out, '--files', 'golden/*.jsonl', '--where', where])
    const recs = readJsonl(path.join(fixturesDir, GOLDEN)).filter((r) => r.quality_score >= 0.8 && r.validation_status === 'validated')
    const columns = unionColumns(recs)
    const rows = parseCsv(read(out)) as string[][]
    assert.deepEqual(rows[0], columns)
    assert.deepEqual(rows.slice(1), recs.map((r) => columns.map((c) => cellText(r[c]))))
    assert.equal(doc.counts.read, 85)
    assert.equal(doc.counts.notApplicable, 25, 'the 25 STT cases have no quality_score')
  })

  it('on a TSV, cells compare as numbers (up_votes >= 3, up_votes + down_votes > 2)', async () => {
    const {header, lines} = tsvRecords(fixture(VALIDATED))
    const up = header.indexOf('up_votes')
    const down = header.indexOf('down_votes')
    const [a, b] = [outPath('votes3.tsv'), outPath('votes-sum.tsv')]
    const [da, db] = await Promise.all([
      exportOk(dir, ['HEAD', '--format', 'tsv', '--output', a, '--files', VALIDATED, '--where', 'up_votes >= 3']),
      exportOk(dir, ['HEAD', '--format', 'tsv', '--output', b, '--files', VALIDATED, '--where', 'up_votes + down_votes > 2']),
    ])
    const expA = lines.filter((l) => Number(l.split('\t')[up]) >= 3)
    const expB = lines.filter((l) => Number(l.split('\t')[up]) + Number(l.split('\t')[down]) > 2)
    assert.ok(expA.length > 0 && expA.length < lines.length)
    assert.deepEqual(linesOf(read(a)), [header.join('\t'), ...expA])
    assert.deepEqual(linesOf(read(b)), [header.join('\t'), ...expB])
    assert.equal(da.counts.notApplicable, 0)
    assert.equal(db.counts.written, expB.length)
  })

  it('rows missing a compared number are left out and counted in notApplicable', async () => {
    const out = outPath('qs.jsonl')
    const doc = await exportOk(dir, ['v1', '--format', 'jsonl', '--output', out, '--files', GOLDEN, '--files', STT, '--where', 'quality_score >= 0.8'])
    const expected = golden().filter((l) => JSON.parse(l).quality_score >= 0.8)
    assert.deepEqual(linesOf(read(out)), expected)
    assert.deepEqual(doc.counts, {read: 85, matched: expected.length, notApplicable: 25, written: expected.length, perSplit: {all: expected.length}})
  })

  it('rows missing a field compared by equality (==, !=) are left out and counted in notApplicable', async () => {
    const [eq, ne] = [outPath('tier-eq.jsonl'), outPath('tier-ne.jsonl')]
    const args = (out: string, where: string) => ['v1', '--format', 'jsonl', '--output', out, '--files', GOLDEN, '--files', STT, '--where', where]
    const [dEq, dNe] = await Promise.all([exportOk(dir, args(eq, 'expected_output.tier == "A"')), exportOk(dir, args(ne, 'expected_output.tier != "A"'))])
    const tier = (l: string) => JSON.parse(l).expected_output.tier
    // the 25 STT cases have no expected_output: --where cannot be evaluated on them (docs: "a missing field")
    const ids = (ls: string[]) => ls.map((l) => JSON.parse(l).id as string)
    assert.deepEqual(ids(linesOf(read(eq))), ids(golden().filter((l) => tier(l) === 'A')))
    assert.deepEqual(ids(linesOf(read(ne))), ids(golden().filter((l) => tier(l) !== 'A')), '!= keeps no STT case (they have no tier)')
    assert.equal(dEq.counts.notApplicable, 25, '== : the STT cases are counted as not applicable')
    assert.equal(dNe.counts.notApplicable, 25, '!= : the STT cases are counted as not applicable')
  })

  it('a syntax error exits 2 (E_USAGE) and writes nothing', async () => {
    const out = outPath('bad.jsonl')
    const err = await exportError(dir, ['v1', '--format', 'jsonl', '--output', out, '--where', 'quality_score >='], 2, 'E_USAGE')
    assert.ok(err.message.includes('--where'), err.message)
    assert.deepEqual(fs.readdirSync(path.dirname(out)), [])
  })
})

// ---------------------------------------------------------------- splits

describe('dsv export: --split', function () {
  this.timeout(120_000)
  let dir: string
  const spec = 'train=0.8,val=0.1,test=0.1'
  let seed7: ExportDoc
  let seed7again: ExportDoc
  let seed8: ExportDoc
  let head7: ExportDoc

  before(async () => {
    ;({dir} = await repos.main.get())
    ;[seed7, seed7again, seed8, head7] = await Promise.all([
      exportOk(dir, ['v1', '--format', 'jsonl', '--output', outPath('s7'), '--files', GOLDEN, '--split', spec, '--seed', '7']),
      exportOk(dir, ['v1', '--format', 'jsonl', '--output', outPath('s7-again'), '--files', GOLDEN, '--split', spec, '--seed', '7']),
      exportOk(dir, ['v1', '--format', 'jsonl', '--output', outPath('s8'), '--files', GOLDEN, '--split', spec, '--seed', '8']),
      exportOk(dir, ['HEAD', '--format', 'jsonl', '--output', outPath('head7'), '--files', GOLDEN, '--split', spec, '--seed', '7']),
    ])
  })

  it('writes train.jsonl, val.jsonl, test.jsonl; every example in exactly one split', () => {
    assert.deepEqual(sorted(fs.readdirSync(seed7.output)), ['manifest.json', 'test.jsonl', 'train.jsonl', 'val.jsonl'])
    const all = [...splitLines(seed7).values()].flat()
    assertSameLines(all, linesOf(fixture(GOLDEN)), 'the three splits together')
    assert.equal(assignment(seed7).size, 60)
    assert.deepEqual(seed7.split, {spec: [{name: 'train', ratio: 0.8}, {name: 'val', ratio: 0.1}, {name: 'test', ratio: 0.1}], seed: '7', groupBy: null, stratifyBy: null})
    const per = Object.fromEntries([...splitLines(seed7)].map(([n, ls]) => [n, ls.length]))
    assert.deepEqual(seed7.counts.perSplit, per)
    assert.ok(per.train > per.val && per.train > per.test, `train is the largest: ${JSON.stringify(per)}`)
  })

  it('two exports with the same seed are byte-identical', () => {
    for (const f of seed7.files) {
      const a = fs.readFileSync(path.join(seed7.output, f.name))
      const b = fs.readFileSync(path.join(seed7again.output, f.name))
      assert.ok(a.equals(b), `${f.name} is the same`)
    }
    const strip = (d: ExportDoc) => ({...d, command: [], output: '', manifestPath: ''})
    assert.deepEqual(strip(seed7again), strip(seed7), 'the manifests differ only in the command line')
  })

  it('the default seed is 0; a different seed gives a different assignment', async () => {
    const a7 = assignment(seed7)
    const a8 = assignment(seed8)
    assert.equal(seed8.split!.seed, '8')
    assert.ok([...a7].some(([id, s]) => a8.get(id) !== s), 'some example is in another split with seed 8')
    const d0 = await exportOk(dir, ['v1', '--format', 'jsonl', '--output', outPath('s0'), '--files', GOLDEN, '--split', spec])
    assert.equal(d0.split!.seed, '0')
  })

  it('stability: after more examples are committed, every old example keeps its split', async () => {
    const {editedId} = await repos.main.get()
    const before = assignment(seed7)
    const afterA = assignment(head7)
    assert.equal(afterA.size, 100)
    assert.ok(before.has(editedId) && afterA.has(editedId), 'the example edited in v2 is in both')
    const moved = [...before].filter(([id, s]) => afterA.get(id) !== s)
    assert.deepEqual(moved, [], 'examples that changed split (the edited one included)')
  })

  it('bad specs exit 2 (E_USAGE): ratios not adding to 1, no ratio, a zero ratio, a name twice', async () => {
    const bad = ['train=0.7,val=0.1,test=0.1', 'train', 'a=0,b=1', 'train=0.5,train=0.5', 'train=1.2,test=-0.2']
    const errs = await Promise.all(bad.map((s) => exportError(dir, ['v1', '--format', 'jsonl', '--output', outPath(`bad-${bad.indexOf(s)}`), '--files', GOLDEN, '--split', s], 2, 'E_USAGE')))
    errs.forEach((e, i) => assert.ok(e.message.includes('--split'), `${bad[i]}: ${e.message}`))
  })

  it('--group-by and --stratify-by without --split exit 2 (E_USAGE)', async () => {
    const [g, s] = await Promise.all([
      exportError(dir, ['HEAD', '--format', 'tsv', '--output', outPath('g.tsv'), '--files', VALIDATED, '--group-by', 'client_id'], 2, 'E_USAGE'),
      exportError(dir, ['v1', '--format', 'jsonl', '--output', outPath('s.jsonl'), '--files', GOLDEN, '--stratify-by', 'expected_output.tier'], 2, 'E_USAGE'),
    ])
    assert.ok(g.message.includes('--split'), g.message)
    assert.ok(s.message.includes('--split'), s.message)
  })

  it('--group-by client_id on the Common Voice table: no speaker in two splits; rows copied as they are', async () => {
    const doc = await exportOk(dir, ['HEAD', '--format', 'tsv', '--output', outPath('cv'), '--files', VALIDATED, '--split', 'train=0.6,dev=0.2,test=0.2', '--group-by', 'client_id'])
    const {header, lines} = tsvRecords(fixture(VALIDATED))
    const ci = header.indexOf('client_id')
    const splitOf = new Map<string, string>()
    const all: string[] = []
    for (const [name, ls] of splitLines(doc)) {
      assert.equal(ls[0], header.join('\t'), `${name}.tsv has the source header`)
      for (const l of ls.slice(1)) {
        const client = l.split('\t')[ci]
        assert.ok(!splitOf.has(client) || splitOf.get(client) === name, `speaker ${client.slice(0, 12)}… is in ${splitOf.get(client)} and ${name}`)
        splitOf.set(client, name)
        all.push(l)
      }
    }
    assertSameLines(all, lines, 'the splits together')
    assert.equal(doc.split!.groupBy, 'client_id')
    assert.ok(new Set(splitOf.values()).size >= 2, 'the speakers are spread over more than one split')
  })

  it('--stratify-by expected_output.tier, train=0.5,test=0.5: per tier the splits differ by at most 1', async () => {
    const doc = await exportOk(dir, ['v1', '--format', 'jsonl', '--output', outPath('strat'), '--files', GOLDEN, '--split', 'train=0.5,test=0.5', '--stratify-by', 'expected_output.tier'])
    const parts = splitLines(doc)
    assertSameLines([...parts.values()].flat(), linesOf(fixture(GOLDEN)), 'train and test together')
    const tiers = sorted([...new Set(readJsonl(path.join(fixturesDir, GOLDEN)).map((r) => r.expected_output.tier as string))])
    for (const tier of tiers) {
      const n = (name: string) => parts.get(name)!.filter((l) => JSON.parse(l).expected_output.tier === tier).length
      assert.ok(Math.abs(n('train') - n('test')) <= 1, `tier ${tier}: train ${n('train')}, test ${n('test')}`)
    }
    assert.equal(doc.split!.stratifyBy, 'expected_output.tier')
  })
})

// ---------------------------------------------------------------- balance and sampling

describe('dsv export: --balance-by and --max-samples', function () {
  this.timeout(120_000)
  let dir: string

  before(async () => {
    ;({dir} = await repos.main.get())
  })

  /** Asserts every class of `field` (lists as their sorted items) holds the smallest class's size. */
  function assertBalanced(outLines: string[], srcLines: string[], field: string): void {
    assertSubsetOf(outLines, srcLines, 'balanced output')
    const srcClasses = count(srcLines.map((l) => listClass(JSON.parse(l)[field])))
    const min = Math.min(...srcClasses.values())
    const outClasses = count(outLines.map((l) => listClass(JSON.parse(l)[field])))
    assert.deepEqual(sorted([...outClasses.keys()]), sorted([...srcClasses.keys()]), 'every class is kept')
    for (const [c, n] of outClasses) assert.equal(n, min, `class ${c}: ${n} examples instead of ${min}`)
    assert.equal(outLines.length, min * srcClasses.size)
  }

  it('--balance-by error_types: every class ends with the smallest class\'s size', async () => {
    const out = outPath('stt.jsonl')
    await exportOk(dir, ['v1', '--format', 'jsonl', '--output', out, '--files', STT, '--balance-by', 'error_types'])
    assertBalanced(linesOf(read(out)), linesOf(fixture(STT)), 'error_types')
  })

  it('--balance-by on lists whose items come in different orders: ["a","b"] and ["b","a"] are one class', async () => {
    const {mixed} = await repos.main.get()
    const out = outPath('mixed.jsonl')
    const doc = await exportOk(dir, ['v1', '--format', 'jsonl', '--output', out, '--files', MIXED, '--balance-by', 'tags'])
    const outLines = linesOf(read(out))
    assertBalanced(outLines, linesOf(mixed.text), 'tags')
    assert.equal(doc.counts.written, 3 * 4, '4 classes ({a,b}, {a}, {b}, {c}) of 3')
  })

  it('--max-samples N writes exactly N, the same on every run; all when N exceeds the count', async () => {
    const [a, b, all] = [outPath('ten-a.jsonl'), outPath('ten-b.jsonl'), outPath('all.jsonl')]
    const [da, , dAll] = await Promise.all([
      exportOk(dir, ['v1', '--format', 'jsonl', '--output', a, '--files', GOLDEN, '--max-samples', '10']),
      exportOk(dir, ['v1', '--format', 'jsonl', '--output', b, '--files', GOLDEN, '--max-samples', '10']),
      exportOk(dir, ['v1', '--format', 'jsonl', '--output', all, '--files', GOLDEN, '--max-samples', '1000']),
    ])
    const ten = linesOf(read(a))
    assert.equal(ten.length, 10)
    assert.equal(da.counts.written, 10)
    assertSubsetOf(ten, linesOf(fixture(GOLDEN)), 'the sample')
    assert.ok(fs.readFileSync(a).equals(fs.readFileSync(b)), 'two runs give the same sample')
    assert.equal(dAll.counts.written, 60)
    assertSameLines(linesOf(read(all)), linesOf(fixture(GOLDEN)), '--max-samples 1000')
  })
})

// ---------------------------------------------------------------- output safety

describe('dsv export: output safety', function () {
  this.timeout(120_000)
  let dir: string

  before(async () => {
    ;({dir} = await repos.main.get())
  })

  it('an existing output file without --force exits 6 (E_OUTPUT_EXISTS) and is left untouched; --force replaces it', async () => {
    const out = outPath('exists.jsonl')
    fs.writeFileSync(out, 'precious\n')
    const args = ['v1', '--format', 'jsonl', '--output', out, '--files', PROMPTS]
    await exportError(dir, args, 6, 'E_OUTPUT_EXISTS')
    assert.equal(read(out), 'precious\n')
    assert.deepEqual(fs.readdirSync(path.dirname(out)), ['exists.jsonl'], 'no manifest, no temp file')
    const doc = await exportOk(dir, [...args, '--force'])
    assert.deepEqual(linesOf(read(out)), linesOf(fixture(PROMPTS)))
    assert.equal(doc.files[0].sha256, sha256File(out))
  })

  it('a non-empty split folder without --force exits 6; with --force it is written', async () => {
    const out = outPath('folder')
    fs.mkdirSync(out)
    fs.writeFileSync(path.join(out, 'notes.txt'), 'keep me\n')
    const args = ['v1', '--format', 'jsonl', '--output', out, '--files', GOLDEN, '--split', 'train=0.5,test=0.5']
    await exportError(dir, args, 6, 'E_OUTPUT_EXISTS')
    assert.deepEqual(fs.readdirSync(out), ['notes.txt'])
    const r = await dsvAsync(dir, 'export', ...args, '--force', '--json')
    assertExit(r, 0)
    const doc = r.json<ExportDoc>()
    assert.deepEqual(sorted(fs.readdirSync(out)), ['manifest.json', 'notes.txt', 'test.jsonl', 'train.jsonl'])
    assert.equal(read(path.join(out, 'notes.txt')), 'keep me\n')
    assertSameLines([...splitLines(doc).values()].flat(), linesOf(fixture(GOLDEN)), 'the splits')
  })

  it('--output names a file without --split and a folder with it (exit 2, E_USAGE)', async () => {
    const folder = outPath('a-folder')
    fs.mkdirSync(folder)
    const file = outPath('a-file')
    fs.writeFileSync(file, 'x\n')
    const [e1, e2] = await Promise.all([
      exportError(dir, ['v1', '--format', 'jsonl', '--output', folder, '--files', PROMPTS, '--force'], 2, 'E_USAGE'),
      exportError(dir, ['v1', '--format', 'jsonl', '--output', file, '--files', PROMPTS, '--split', 'a=0.5,b=0.5', '--force'], 2, 'E_USAGE'),
    ])
    assert.ok(e1.message.includes(folder), e1.message)
    assert.ok(e2.message.includes(file), e2.message)
    assert.deepEqual(fs.readdirSync(folder), [])
    assert.equal(read(file), 'x\n')
  })

  it('a failing export with --force leaves the previous output and manifest as they were', async () => {
    const out = outPath('keep.tsv')
    await exportOk(dir, ['HEAD', '--format', 'tsv', '--output', out, '--files', VALIDATED])
    const before = {data: sha256File(out), manifest: sha256File(`${out}.manifest.json`)}
    await exportError(dir, ['HEAD', '--format', 'tsv', '--output', out, '--files', PRODUCTS, '--force'], 5, 'E_INVALID_DATA')
    assert.equal(sha256File(out), before.data)
    assert.equal(sha256File(`${out}.manifest.json`), before.manifest)
    assert.deepEqual(sorted(fs.readdirSync(path.dirname(out))), ['keep.tsv', 'keep.tsv.manifest.json'], 'no temp file')
  })
})

// ---------------------------------------------------------------- outputs

describe('dsv export: --json, text output and help', function () {
  this.timeout(120_000)
  let dir: string

  before(async () => {
    ;({dir} = await repos.main.get())
  })

  it('--json is one document: the manifest fields plus output and manifestPath (a relative --output resolved)', async () => {
    const r = await dsvAsync(dir, 'export', 'v1', '--format', 'json', '--output', 'out/prompts.json', '--files', PROMPTS, '--json')
    assertExit(r, 0)
    const doc = r.json<ExportDoc>()
    const manifest = JSON.parse(read(doc.manifestPath))
    assert.deepEqual(sorted(Object.keys(doc)), sorted([...Object.keys(manifest), 'output', 'manifestPath']))
    assert.equal(doc.output, path.join(dir, 'out', 'prompts.json'))
    assert.equal(doc.manifestPath, path.join(dir, 'out', 'prompts.json.manifest.json'))
    assert.deepEqual(JSON.parse(read(doc.output)), readJsonl(path.join(fixturesDir, PROMPTS)))
    fs.rmSync(path.join(dir, 'out'), {recursive: true})
  })

  it('the text output names the counts, the splits and the manifest path', async () => {
    const out = outPath('text')
    const r = await dsvAsync(dir, 'export', 'v1', '--format', 'jsonl', '--output', out, '--files', 'golden/*.jsonl', '--where', 'quality_score >= 0.8', '--split', 'train=0.5,test=0.5')
    assertExit(r, 0)
    const kept = linesOf(fixture(GOLDEN)).filter((l) => JSON.parse(l).quality_score >= 0.8).length
    const text = r.stdout
    assert.ok(text.includes(`${kept} of 85 examples`), text)
    assert.ok(text.includes(`manifest: ${path.join(out, 'manifest.json')}`), text)
    for (const name of ['train', 'test']) {
      const rows = linesOf(read(path.join(out, `${name}.jsonl`))).length
      assert.match(text, new RegExp(`${name}\\.jsonl\\s+${rows} examples`), text)
    }
    assert.match(text, /25 examples left out/, text)
  })

  it('dsv export --help shows examples', async () => {
    const r = await dsvAsync(dir, 'export', '--help')
    assertExit(r, 0)
    assert.match(r.stdout, /EXAMPLES/)
    assert.ok(r.stdout.includes('dsv export v1 --format jsonl --output'), r.stdout)
    assert.ok(r.stdout.includes('--split train=0.8,val=0.1,test=0.1'), r.stdout)
    assert.ok(r.stdout.includes('--group-by client_id'), r.stdout)
  })
})

// ---------------------------------------------------------------- real data

describe('real data: Common Voice (pl) validated.tsv', function () {
  this.timeout(120_000)
  let dir: string

  before(async function () {
    const r = await repos.realCv.get()
    if (!r) this.skip()
    dir = r.dir
  })

  it('TSV to TSV is byte-identical, the sentence with a stray quote included', async () => {
    const out = outPath('validated.tsv')
    const doc = await exportOk(dir, ['HEAD', '--format', 'tsv', '--output', out])
    const src = fs.readFileSync(REAL_CV)
    assert.ok(fs.readFileSync(out).equals(src), 'the same bytes')
    assert.ok(linesOf(src.toString('utf8')).some((l) => l.includes('\t"')), 'the source has a cell starting with a quote')
    assert.equal(doc.counts.written, linesOf(src.toString('utf8')).length - 1)
  })

  it('JSON: every row\'s cells as strings, quotes kept', async () => {
    const out = outPath('validated.json')
    await exportOk(dir, ['HEAD', '--format', 'json', '--output', out])
    const {recs} = tsvRecords(read(REAL_CV))
    assert.deepEqual(JSON.parse(read(out)), recs)
  })

  it('--group-by client_id: no speaker in two splits, every row once', async () => {
    const doc = await exportOk(dir, ['HEAD', '--format', 'tsv', '--output', outPath('cv-split'), '--split', 'train=0.8,dev=0.1,test=0.1', '--group-by', 'client_id', '--seed', 'pl'])
    const {header, lines} = tsvRecords(read(REAL_CV))
    const ci = header.indexOf('client_id')
    const splitOf = new Map<string, string>()
    const all: string[] = []
    for (const [name, ls] of splitLines(doc, true)) {
      for (const l of ls) {
        const client = l.split('\t')[ci]
        assert.ok(!splitOf.has(client) || splitOf.get(client) === name, `speaker ${client.slice(0, 12)}… in ${splitOf.get(client)} and ${name}`)
        splitOf.set(client, name)
        all.push(l)
      }
    }
    assertSameLines(all, lines, 'the splits together')
  })
})

describe('real data: GSM8K (keyless JSONL)', function () {
  this.timeout(120_000)
  let dir: string

  before(async function () {
    const r = await repos.gsm8k.get()
    if (!r) this.skip()
    dir = r.dir
  })

  it('JSONL export keeps the file\'s bytes', async () => {
    const out = outPath('test.jsonl')
    await exportOk(dir, ['HEAD', '--format', 'jsonl', '--output', out, '--files', 'gsm8k/test.jsonl'])
    assert.ok(fs.readFileSync(out).equals(fs.readFileSync(path.join(GSM8K, 'test.jsonl'))))
  })

  it('a split by content hash: every line in exactly one split, counts as on disk, the same twice', async () => {
    const args = (o: string) => ['HEAD', '--format', 'jsonl', '--output', o, '--files', 'gsm8k/train.jsonl', '--split', 'train=0.9,test=0.1', '--seed', '3']
    const [a, b] = await Promise.all([exportOk(dir, args(outPath('a'))), exportOk(dir, args(outPath('b')))])
    const src = linesOf(read(path.join(GSM8K, 'train.jsonl')))
    assertSameLines([...splitLines(a).values()].flat(), src, 'train + test')
    assert.equal(a.counts.written, src.length)
    const test = a.counts.perSplit.test
    assert.ok(test > src.length * 0.07 && test < src.length * 0.13, `about 10% in test: ${test} of ${src.length}`)
    for (const f of a.files) assert.equal(f.sha256, b.files.find((x) => x.name === f.name)!.sha256, `${f.name} the same twice`)
  })
})

describe('--quality-filter from the rules file (the dsv quality tiers)', function () {
  this.timeout(120_000)
  // test/data/quality/scores: seven golden examples scored by hand (see its README):
  // e1 100, e2 60, e3 94, e4 80, e5 92.5, e6 45, e7 about 91.4; validated: all but e2, e6
  const SCORES = path.join(repoRoot, 'test', 'data', 'quality', 'scores')
  const want: Record<string, string[]> = {
    gold: ['e1', 'e3', 'e5', 'e7'],
    high: ['e1', 'e3', 'e5', 'e7'],
    silver: ['e1', 'e3', 'e4', 'e5', 'e7'],
    medium: ['e1', 'e3', 'e4', 'e5', 'e7'],
    validated: ['e1', 'e3', 'e4', 'e5', 'e7'],
  }

  it('gold, silver, high, medium and validated keep exactly the examples of those tiers; no rules file is a usage error', async () => {
    const dir = tmp.make('dsv-export-quality-')
    fs.cpSync(SCORES, dir, {recursive: true})
    assertExit(await dsvAsync(dir, 'init'), 0)
    assertExit(await dsvAsync(dir, 'commit', '-m', 'scored'), 0)
    const files = Object.fromEntries(Object.keys(want).map((f) => [f, outPath(`q-${f}.jsonl`)]))
    const results = await Promise.all(Object.keys(want).map((f) => dsvAsync(dir, 'export', 'HEAD', '--format', 'jsonl', '--output', files[f], '--quality-filter', f)))
    Object.keys(want).forEach((f, i) => {
      assertExit(results[i], 0)
      assert.deepEqual(linesOf(read(files[f])).map((l) => JSON.parse(l).id), want[f], f)
    })
    const bare = tmp.make('dsv-export-quality-bare-')
    fs.cpSync(path.join(SCORES, 'golden'), path.join(bare, 'golden'), {recursive: true})
    assertExit(await dsvAsync(bare, 'init'), 0)
    assertExit(await dsvAsync(bare, 'commit', '-m', 'no rules'), 0)
    assertJsonError(await dsvAsync(bare, 'export', 'HEAD', '--format', 'jsonl', '--output', outPath('none.jsonl'), '--quality-filter', 'gold', '--json'), 2, 'E_USAGE')
  })
})

describe("the README's dsv export examples, run as written on the fixtures", function () {
  this.timeout(180_000)

  /** The `dsv export` commands of the README's "dsv export" code block, continuation lines joined. */
  function readmeCommands(): string[] {
    const readme = read(path.join(repoRoot, 'README.md'))
    const section = readme.slice(readme.indexOf('### dsv export'))
    const block = section.slice(section.indexOf('```sh') + 5, section.indexOf('```', section.indexOf('```sh') + 5))
    return block.replace(/\\\n\s*/g, ' ').split('\n').map((l) => l.replace(/\s+#.*$/, '').trim()).filter((l) => l.startsWith('dsv export'))
  }

  /** Shell words: single and double quotes group, as the README's commands use them. */
  function words(line: string): string[] {
    return [...line.matchAll(/'([^']*)'|"([^"]*)"|(\S+)/g)].map((m) => m[1] ?? m[2] ?? m[3])
  }

  it('every example exits 0 and writes its manifest', async () => {
    const commands = readmeCommands()
    assert.ok(commands.length >= 10, `found ${commands.length} commands`)
    const contributions = ['client_id\tsentence\tsession_type\tvalidation_status\tup_votes\tdown_votes\taccents\tlocale\tcreated_at', 'john@email.com\tThe quick brown fox\tpractice\tpending\t1\t0\t\ten\t2025-01-02T10:00:00Z', ''].join('\n')
    const {dir} = await makeRepoFromAsync(tmp, ['.'], {files: {'common_voice/contributions.tsv': contributions}})
    assertExit(await dsvAsync(dir, 'tag', 'v1'), 0)
    assertExit(await dsvAsync(dir, 'tag', 'v2'), 0)
    const scratch = tmp.make('dsv-readme-out-')
    for (const line of commands) {
      // absolute outputs go to a temp dir; relative ones land in the (temporary) dataset
      const args = words(line).slice(1).map((w) => (w.startsWith('/tmp/') ? path.join(scratch, path.basename(w)) : w))
      const r = await dsvAsync(dir, ...args, '--json')
      assertExit(r, 0, line)
      assert.ok(fs.existsSync(r.json<{manifestPath: string}>().manifestPath), `${line}: manifest`)
    }
  })
})
