/**
 * End to end: `dsv diff` — the forms (worktree vs HEAD, REV vs worktree, A B, A..B, paths
 * after --), example changes matched by key with their field changes, moves between files,
 * file-level changes (added, removed, renamed, binary), the summary and its options
 * (--stat, --name-status, --limit, --exit-code, --format markdown), the label summary, the
 * errors, and the same on real data (GSM8K, Common Voice pl). Every --json document is
 * validated against docs/diff.schema.json with ajv. The expected results are derived from
 * the edits each test makes (and a small reference computation from the documented rules).
 */
import assert from 'node:assert/strict'
import fs from 'node:fs'
import path from 'node:path'
import {Ajv} from 'ajv'
import {
  TempDirs,
  assertExit,
  assertJsonError,
  dsv,
  dsvAsync,
  dsvJson,
  editJsonl,
  editLines,
  editTsvByKey,
  fixturesDir,
  makeRepoFrom,
  makeRepoFromAsync,
  prepareAll,
  prepared,
  readJsonl,
  repoRoot,
  sharedDatasets,
  type RunResult,
  expectOk as ok,
  commitAsync as commit,
} from './helpers.js'

const GOLDEN = 'golden/golden_examples.jsonl'
const STT = 'golden/stt_failed_cases.jsonl'
const PROMPTS = 'keyless/prompts.jsonl'
const PRODUCTS = 'tables/products.csv'
const VALIDATED = 'common_voice/validated.tsv'
const CLIPS = 'common_voice/clips'

const GSM8K = path.join(sharedDatasets, 'gsm8k', 'train.jsonl')
const CV = path.join(sharedDatasets, 'common-voice-pl', 'validated.tsv')

const tmp = new TempDirs()
after(() => tmp.cleanup())

// ---------------------------------------------------------------- the --json document

interface Location {
  path: string
  line: number
}
interface FieldChange {
  path: string
  change: 'added' | 'removed' | 'changed'
  old?: unknown
  new?: unknown
}
interface ExampleChange {
  change: 'added' | 'removed' | 'modified' | 'moved'
  key: string | null
  old?: Location
  new?: Location
  fields?: FieldChange[]
  value?: unknown
}
interface ExampleCounts {
  added: number
  removed: number
  modified: number
  moved: number
  movedOut: number
}
interface FileDiff {
  path: string
  status: 'added' | 'removed' | 'modified' | 'renamed'
  kind: 'table' | 'blob'
  from?: string
  typeChanged?: {from: string; to: string}
  oldSize: number | null
  newSize: number | null
  key?: string[] | null
  examples?: ExampleCounts
  changes?: ExampleChange[]
  omitted?: number
}
interface LabelSummary {
  field: string
  scope: 'changed-examples'
  changed: number
  values: Array<{value: string; before: number; after: number}>
}
interface DiffDoc {
  schemaVersion: number
  from: {label: string; commit: string | null}
  to: {label: string; commit: string | null}
  files: FileDiff[]
  totals: {files: {added: number; removed: number; modified: number; renamed: number}; examples: {added: number; removed: number; modified: number; moved: number}}
  labels: LabelSummary[]
}

const schema = JSON.parse(fs.readFileSync(path.join(repoRoot, 'docs', 'diff.schema.json'), 'utf8'))
assert.equal(schema.$schema, 'http://json-schema.org/draft-07/schema#', 'the schema is draft-07 (ajv default)')
const validateDiff = new Ajv({allErrors: true}).compile<DiffDoc>(schema)

/** Asserts a `dsv diff --json` document matches docs/diff.schema.json. */
function assertSchema(doc: unknown, what: string): asserts doc is DiffDoc {
  const ok = validateDiff(doc)
  assert.ok(ok, `${what}: the document does not match docs/diff.schema.json:\n${JSON.stringify(validateDiff.errors, null, 2)}\n${JSON.stringify(doc).slice(0, 2000)}`)
}

/** `dsv diff ARGS` with --json put before any `--`. */
function jsonArgs(args: string[]): string[] {
  const i = args.indexOf('--')
  return i < 0 ? ['diff', ...args, '--json'] : ['diff', ...args.slice(0, i), '--json', ...args.slice(i)]
}

/**
 * Runs of `dsv diff` already made, by directory and arguments: several tests read the same
 * diff of the same commits, and every run of the binary costs about a second of CPU.
 */
const memo = new Map<string, Promise<unknown>>()
function once<T>(key: string, fn: () => Promise<T>): Promise<T> {
  let p = memo.get(key) as Promise<T> | undefined
  if (!p) memo.set(key, (p = fn()))
  return p
}

/** Runs `dsv diff ARGS --json`, asserts the exit code, validates the document against the schema. */
function diffJson(dir: string, args: string[], code = 0): Promise<DiffDoc> {
  return once(['json', dir, code, ...args].join('\0'), () => runDiffJson(dir, args, code))
}

async function runDiffJson(dir: string, args: string[], code: number): Promise<DiffDoc> {
  const full = jsonArgs(args)
  const r = await dsvAsync(dir, ...full)
  assertExit(r, code, `dsv ${full.join(' ')}`)
  const doc = r.json<DiffDoc>()
  assertSchema(doc, `dsv ${full.join(' ')}`)
  return doc
}

/** Runs `dsv diff ARGS --json` expecting a failure: the error document, checked. */
async function diffError(dir: string, args: string[], exitCode: number, errorCode: string): Promise<Record<string, any>> {
  const r = await dsvAsync(dir, ...jsonArgs(args))
  return assertJsonError(r, exitCode, errorCode)
}

/** Runs `dsv diff ARGS` (text), asserts the exit code, returns stdout's lines. */
function diffText(dir: string, args: string[], code = 0): Promise<string[]> {
  return once(['text', dir, code, ...args].join('\0'), () => runDiffText(dir, args, code))
}

async function runDiffText(dir: string, args: string[], code: number): Promise<string[]> {
  const r = await dsvAsync(dir, 'diff', ...args)
  assertExit(r, code, `dsv diff ${args.join(' ')}`)
  assert.equal(r.stderr, '', `dsv diff ${args.join(' ')} wrote to stderr`)
  return r.stdout.replace(/\n$/, '').split('\n')
}


/** The summary row of `file` in a text diff, with runs of spaces collapsed. */
function row(lines: string[], file: string): string {
  const found = lines.filter((l) => l.startsWith(`  ${file} `))
  assert.equal(found.length, 1, `one summary row for ${file} in:\n${lines.join('\n')}`)
  return found[0].trim().replace(/\s+/g, ' ')
}

/** Asserts `lines` holds `line` exactly (trailing spaces aside). */
function hasLine(lines: string[], line: string): void {
  assert.ok(lines.some((l) => l.trimEnd() === line), `expected the line ${JSON.stringify(line)} in:\n${lines.join('\n')}`)
}

function file(doc: DiffDoc, p: string): FileDiff {
  const f = doc.files.find((x) => x.path === p)
  assert.ok(f, `${p} is among the changed files: ${doc.files.map((x) => x.path).join(', ')}`)
  return f
}

/** A file entry without its changes (compared separately). */
function withoutChanges(f: FileDiff): FileDiff {
  const {changes: _c, omitted: _o, ...rest} = f
  return rest
}

const byPath = (a: {path: string}, b: {path: string}) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0)
const sortFields = (fs_: FieldChange[] | undefined) => [...(fs_ ?? [])].sort(byPath)
const counts = (added: number, removed: number, modified: number, moved = 0, movedOut = 0): ExampleCounts => ({added, removed, modified, moved, movedOut})

/** The size as the text output writes it. */
function size(bytes: number): string {
  return bytes < 1024 ? `${bytes} B` : `${(bytes / 1024).toFixed(1)} KiB`
}

// ---------------------------------------------------------------- reference computations

type Rec = Record<string, any>

/**
 * What a keyed diff must report, computed from the records of both versions: keys only in
 * the new version (added), only in the old (removed), in both with a different value (modified).
 */
function expectedKeyed(olds: Rec[], news: Rec[], key = 'id'): {added: string[]; removed: string[]; modified: string[]} {
  const o = new Map(olds.map((r) => [String(r[key]), JSON.stringify(r)]))
  const n = new Map(news.map((r) => [String(r[key]), JSON.stringify(r)]))
  return {
    added: [...n.keys()].filter((k) => !o.has(k)),
    removed: [...o.keys()].filter((k) => !n.has(k)),
    modified: [...n.keys()].filter((k) => o.has(k) && o.get(k) !== n.get(k)),
  }
}

function getPath(rec: Rec, dotted: string): unknown {
  let cur: unknown = rec
  for (const part of dotted.split('.')) {
    if (cur === null || typeof cur !== 'object') return undefined
    cur = (cur as Rec)[part]
  }
  return cur
}

/** A label value as docs/diff-json.md counts it: missing, null or '' → "(none)". */
function labelValue(rec: Rec, field: string): string {
  const v = getPath(rec, field)
  if (v === undefined || v === null || v === '') return '(none)'
  return typeof v === 'string' ? v : JSON.stringify(v)
}

/**
 * The label summary of docs/diff-json.md, from the two versions of one keyed file: before
 * counts the old side of removed and modified examples, after the new side of added and
 * modified ones; changed counts modified examples whose value changed.
 */
function expectedLabels(olds: Rec[], news: Rec[], fields: string[]): LabelSummary[] {
  const e = expectedKeyed(olds, news)
  const o = new Map(olds.map((r) => [r.id as string, r]))
  const n = new Map(news.map((r) => [r.id as string, r]))
  return fields.map((field) => {
    const before = new Map<string, number>()
    const afterC = new Map<string, number>()
    const inc = (m: Map<string, number>, v: string) => m.set(v, (m.get(v) ?? 0) + 1)
    let changed = 0
    for (const k of [...e.removed, ...e.modified]) inc(before, labelValue(o.get(k)!, field))
    for (const k of [...e.added, ...e.modified]) inc(afterC, labelValue(n.get(k)!, field))
    for (const k of e.modified) if (labelValue(o.get(k)!, field) !== labelValue(n.get(k)!, field)) changed++
    const values = [...new Set([...before.keys(), ...afterC.keys()])].sort()
    return {field, values: values.map((value) => ({value, before: before.get(value) ?? 0, after: afterC.get(value) ?? 0})), changed, scope: 'changed-examples' as const}
  })
}

/** The other contact tier: A → B, anything else → A. */
const otherTier = (t: string) => (t === 'A' ? 'B' : 'A')

/** Lines of a text file, without the final empty piece. */
function linesOf(text: string, sep = '\n'): string[] {
  const parts = text.split(sep)
  if (parts.at(-1) === '') parts.pop()
  return parts
}

// ---------------------------------------------------------------- repositories

// Made at once in the background (prepareAll); each describe awaits its own.
const repos = {
  /** golden fixtures: v1 (tag) → HEAD (ex-0002 edited, ex-0003 removed, one appended) → uncommitted edits */
  forms: prepared(async () => {
    const made = await makeRepoFromAsync(tmp, ['golden'])
    const dir = made.dir
    await ok(dsvAsync(dir, 'tag', 'v1', '--quiet'))
    const golden = path.join(dir, GOLDEN)
    const stt = path.join(dir, STT)
    const v1Recs = readJsonl(golden)
    const sttV1 = readJsonl(stt)
    const v1Size = fs.statSync(golden).size
    const editedIndex = 1
    const removedIndex = 2
    const appended = {...structuredClone(v1Recs[0]), id: 'ex-new-1', validation_status: 'pending', validated_by: null}
    const e = editJsonl(golden, (rec, i) => {
      if (i === editedIndex) return {...rec, expected_output: {...rec.expected_output, tier: otherTier(rec.expected_output.tier)}, labels: {...rec.labels, edge_case: !rec.labels.edge_case}, review_note: 'checked twice'}
      if (i === removedIndex) return null
      return undefined
    }, [appended])
    assert.deepEqual(e, {modified: 1, removed: 1, added: 1})
    const v2 = await commit(dir, 'v2')
    const v2Recs = readJsonl(golden)
    const v2Size = fs.statSync(golden).size
    // uncommitted: one more golden example rescored, one STT case re-validated
    const rescoredId = v1Recs[9].id as string
    assert.equal(editJsonl(golden, (rec) => (rec.id === rescoredId ? {...rec, quality_score: rec.quality_score / 2} : undefined)).modified, 1)
    assert.equal(editJsonl(stt, (rec, i) => (i === 0 ? {...rec, validation_status: rec.validation_status === 'rejected' ? 'validated' : 'rejected'} : undefined)).modified, 1)
    return {dir, v1: made.first!, v2, v1Recs, v2Recs, nowRecs: readJsonl(golden), sttV1, sttNow: readJsonl(stt), v1Size, v2Size, editedIndex, removedIndex, appended, rescoredId}
  }),

  /** the golden rows split into train (45) and test (15); then two keys move train → test, one edited */
  split: prepared(async () => {
    const lines = linesOf(fs.readFileSync(path.join(fixturesDir, GOLDEN), 'utf8')).map((l) => `${l}\n`)
    const cut = 45
    const made = await makeRepoFromAsync(tmp, [], {files: {'golden/train.jsonl': lines.slice(0, cut).join(''), 'golden/test.jsonl': lines.slice(cut).join('')}})
    const dir = made.dir
    const movedIdx = [6, 11] // index in train; the second is edited on the way
    const edited = JSON.parse(lines[movedIdx[1]])
    const oldTier = edited.expected_output.tier
    edited.expected_output.tier = otherTier(oldTier)
    const train = lines.slice(0, cut).filter((_, i) => !movedIdx.includes(i))
    const test = [...lines.slice(cut), lines[movedIdx[0]], `${JSON.stringify(edited)}\n`]
    fs.writeFileSync(path.join(dir, 'golden/train.jsonl'), train.join(''))
    fs.writeFileSync(path.join(dir, 'golden/test.jsonl'), test.join(''))
    await commit(dir, 'move two examples to test')
    const ids = movedIdx.map((i) => JSON.parse(lines[i]).id as string)
    const bytes = (ls: string[]) => Buffer.byteLength(ls.join(''))
    const sizes = {train: [bytes(lines.slice(0, cut)), bytes(train)], test: [bytes(lines.slice(cut)), bytes(test)]}
    return {dir, ids, movedIdx, sizes, testBefore: lines.length - cut, oldTier, newTier: edited.expected_output.tier as string}
  }),

  /** files renamed, added, removed, a binary changed, a table renamed, a table that became a plain file */
  files: prepared(async () => {
    const made = await makeRepoFromAsync(tmp, [CLIPS, STT, PRODUCTS])
    const dir = made.dir
    const clips = fs.readdirSync(path.join(dir, CLIPS)).sort()
    const [renamed, grown, deleted] = clips
    const clipSize = (c: string) => fs.statSync(path.join(dir, CLIPS, c)).size
    const sizes = {renamed: clipSize(renamed), grown: clipSize(grown), deleted: clipSize(deleted)}
    fs.mkdirSync(path.join(dir, 'audio'))
    fs.renameSync(path.join(dir, CLIPS, renamed), path.join(dir, 'audio', renamed))
    const tail = Buffer.from([0xff, 0xfb, 0x00])
    fs.appendFileSync(path.join(dir, CLIPS, grown), tail)
    fs.rmSync(path.join(dir, CLIPS, deleted))
    const bin = Buffer.from(Array.from({length: 100}, (_, i) => (i * 37) % 256))
    fs.writeFileSync(path.join(dir, 'audio/new.bin'), bin)
    const sttSize = fs.statSync(path.join(dir, STT)).size
    fs.renameSync(path.join(dir, STT), path.join(dir, 'golden/stt.jsonl'))
    // the same bytes, now under a name that is not a table: the CSV's examples leave the dataset
    const productsText = fs.readFileSync(path.join(dir, PRODUCTS))
    fs.renameSync(path.join(dir, PRODUCTS), path.join(dir, 'tables/products.txt'))
    const newRecs = [1, 2, 3].map((n) => ({id: `n-${n}`, text: `new example ${n}`, labels: {ok: n % 2 === 0}}))
    fs.mkdirSync(path.join(dir, 'extra'))
    fs.writeFileSync(path.join(dir, 'extra/new.jsonl'), newRecs.map((r) => `${JSON.stringify(r)}\n`).join(''))
    await commit(dir, 'file changes')
    return {dir, renamed, grown, deleted, sizes, tail, bin, sttSize, productsText, newRecs}
  }),

  /** golden + CSV (key sku) + Common Voice TSV + keyless: one commit of edits in each, then a keyless edit left uncommitted */
  opts: prepared(async () => {
    const {dir} = await makeRepoFromAsync(tmp, [GOLDEN, VALIDATED, PRODUCTS, PROMPTS], {commit: false})
    await ok(dsvAsync(dir, 'config', 'keys.tables/*.csv', 'sku', '--quiet'))
    const prev = await commit(dir, 'import')
    const golden = path.join(dir, GOLDEN)
    const goldenOld = readJsonl(golden)
    const rescored = [0, 7, 19, 33, 58].map((i) => goldenOld[i].id as string)
    assert.equal(editJsonl(golden, (rec) => (rescored.includes(rec.id) ? {...rec, quality_score: rec.quality_score / 2} : undefined)).modified, rescored.length)
    // CSV: records end with CRLF (one quoted field holds a bare LF); the header is record 1
    const csvFile = path.join(dir, PRODUCTS)
    const csvOld = fs.readFileSync(csvFile, 'utf8')
    const records = linesOf(csvOld, '\r\n')
    const skus = [records[1].split(',')[0], records.find((r) => r.startsWith('OF-3005'))!.split(',')[0]]
    const csvEdits = skus.map((sku) => {
      const line = records.findIndex((r) => r.startsWith(`${sku},`)) + 1
      const cells = records[line - 1].split(',')
      const oldPrice = cells[3]
      assert.match(oldPrice, /^\d+\.\d\d$/)
      const newPrice = (Number(oldPrice) + 5).toFixed(2)
      return {sku, line, oldPrice, newPrice}
    })
    assert.ok(csvOld.endsWith('\r\n'))
    fs.writeFileSync(csvFile, records.map((rec, i) => {
      const e = csvEdits.find((x) => x.line === i + 1)
      if (!e) return `${rec}\r\n`
      const cells = rec.split(',') // sku, name, category, price come before any quoted field in these rows
      cells[3] = e.newPrice
      return `${cells.join(',')}\r\n`
    }).join(''))
    // TSV: up_votes of two clips
    const tsvFile = path.join(dir, VALIDATED)
    const tsvLines = linesOf(fs.readFileSync(tsvFile, 'utf8'))
    const header = tsvLines[0].split('\t')
    const pathCol = header.indexOf('path')
    const votesCol = header.indexOf('up_votes')
    const tsvEdits = [2, 17].map((i) => ({key: tsvLines[i].split('\t')[pathCol], line: i + 1, old: tsvLines[i].split('\t')[votesCol]}))
    assert.equal(editTsvByKey(tsvFile, 'path', tsvEdits.map((e) => e.key), 'up_votes', (v) => String(Number(v) + 3)), tsvEdits.length)
    // keyless: one completion rewritten
    const promptsFile = path.join(dir, PROMPTS)
    const promptsOld = readJsonl(promptsFile)
    const keylessIndex = 4
    assert.equal(editJsonl(promptsFile, (rec, i) => (i === keylessIndex ? {...rec, completion: `${rec.completion} (reviewed)`} : undefined)).modified, 1)
    const head = await commit(dir, 'edits')
    // uncommitted: in the keyless file, one line deleted near the top and one appended at the end
    const promptsHead = readJsonl(promptsFile)
    const deleted = 2
    const appended = {prompt: 'Name three primary colours.', completion: 'Red, yellow and blue.'}
    assert.deepEqual(editJsonl(promptsFile, (_rec, i) => (i === deleted ? null : undefined), [appended]), {modified: 0, removed: 1, added: 1})
    return {
      dir, head, prev, goldenOld, deleted, appended, promptsNow: readJsonl(promptsFile), goldenNew: readJsonl(golden), rescored, csvEdits,
      tsvEdits: tsvEdits.map((e) => ({...e, new: String(Number(e.old) + 3)})),
      keylessIndex, promptsOld, promptsNew: promptsHead,
      goldenSizes: [Buffer.byteLength(fs.readFileSync(path.join(fixturesDir, GOLDEN))), fs.statSync(golden).size],
    }
  }),

  /** golden with labels.golden/*.jsonl = expected_output.tier,validation_status */
  labels: prepared(async () => {
    const {dir} = await makeRepoFromAsync(tmp, [GOLDEN], {commit: false})
    const set = (await ok(dsvAsync(dir, 'config', 'labels.golden/*.jsonl', 'expected_output.tier,validation_status', '--json'))).json()
    await commit(dir, 'import')
    const f = path.join(dir, GOLDEN)
    const old = readJsonl(f)
    const newcomer = {...structuredClone(old[40]), id: 'ex-new-label', expected_output: {...old[40].expected_output, tier: 'B'}}
    editJsonl(f, (rec, i) => {
      if (i === 0 || i === 4) return {...rec, expected_output: {...rec.expected_output, tier: otherTier(rec.expected_output.tier)}}
      if (i === 10) return {...rec, validation_status: rec.validation_status === 'rejected' ? 'validated' : 'rejected'}
      if (i === 12) return {...rec, validation_status: null}
      if (i === 20) return {...rec, quality_score: 0.5}
      if (i === 30) return null
      return undefined
    }, [newcomer])
    await commit(dir, 'relabel')
    return {dir, set, old, now: readJsonl(f)}
  }),

  /** a clean one-file repository for the empty diff and the errors */
  errors: prepared(() => makeRepoFromAsync(tmp, [STT, 'conversations'])),

  /** GSM8K train.jsonl (keyless): import → 4 answers edited → one line deleted, one appended */
  gsm8k: prepared(async () => {
    if (!fs.existsSync(GSM8K)) return null
    const dir = tmp.make('dsv-diff-gsm8k-')
    const rel = 'gsm8k/train.jsonl'
    const f = path.join(dir, rel)
    fs.mkdirSync(path.dirname(f), {recursive: true})
    fs.copyFileSync(GSM8K, f)
    fs.chmodSync(f, 0o644)
    assertExit(await dsvAsync(dir, 'init', '--quiet'), 0)
    await commit(dir, 'import gsm8k')
    const original = linesOf(fs.readFileSync(f, 'utf8'))
    const edited = [0, 1500, 4000, original.length - 1]
    assert.equal(editLines(f, (line, i) => {
      if (!edited.includes(i)) return line
      const rec = JSON.parse(line)
      return JSON.stringify({...rec, answer: rec.answer.replace('#### ', '#### (checked) ')})
    }), edited.length)
    await commit(dir, 'check 4 answers')
    const afterEdit = linesOf(fs.readFileSync(f, 'utf8'))
    const deleted = 3000
    const appended = {question: 'A class has 12 pupils and each brings 3 pencils. How many pencils are there?', answer: 'There are 12 * 3 = <<12*3=36>>36 pencils.\n#### 36'}
    assert.equal(editLines(f, (line, i) => (i === deleted ? null : i === afterEdit.length - 1 ? `${line}\n${JSON.stringify(appended)}` : line)), 2)
    await commit(dir, 'drop one problem, add one')
    return {dir, rel, original, afterEdit, final: linesOf(fs.readFileSync(f, 'utf8')), edited, deleted, appended}
  }),

  /** Common Voice pl: validated.tsv + a train/dev split of it; up_votes edited, then rows moved train → dev */
  cv: prepared(async () => {
    if (!fs.existsSync(CV)) return null
    const text = fs.readFileSync(CV, 'utf8')
    const lines = linesOf(text)
    const header = lines[0]
    const rows = lines.slice(1)
    const cut = 500
    const made = await makeRepoFromAsync(tmp, [], {files: {
      'cv/validated.tsv': text,
      'cv/train.tsv': [header, ...rows.slice(0, cut)].map((l) => `${l}\n`).join(''),
      'cv/dev.tsv': [header, ...rows.slice(cut)].map((l) => `${l}\n`).join(''),
    }})
    const dir = made.dir
    for (const rel of ['cv/validated.tsv', 'cv/train.tsv', 'cv/dev.tsv']) fs.chmodSync(path.join(dir, rel), 0o644)
    const cols = header.split('\t')
    const pathCol = cols.indexOf('path')
    const votesCol = cols.indexOf('up_votes')
    const keyOf = (r: string) => r.split('\t')[pathCol]
    const votesOf = (r: string) => r.split('\t')[votesCol]
    // 1. up_votes of three clips in validated.tsv
    const voteRows = [5, 300, rows.length - 1]
    const votes = voteRows.map((i) => ({key: keyOf(rows[i]), line: i + 2, old: votesOf(rows[i]), new: String(Number(votesOf(rows[i])) + 10)}))
    assert.equal(new Set(votes.map((v) => v.key)).size, votes.length)
    assert.equal(editTsvByKey(path.join(dir, 'cv/validated.tsv'), 'path', votes.map((v) => v.key), 'up_votes', (v) => String(Number(v) + 10)), votes.length)
    await commit(dir, 'up_votes')
    // 2. three clips move from train to dev; the last one gets a vote on the way
    const movedIdx = [10, 250, 499]
    const moved = movedIdx.map((i) => rows[i])
    const editedCells = moved[2].split('\t')
    const movedVotes = {old: editedCells[votesCol], new: String(Number(editedCells[votesCol]) + 1)}
    editedCells[votesCol] = movedVotes.new
    const arriving = [moved[0], moved[1], editedCells.join('\t')]
    const trainRows = rows.slice(0, cut).filter((_, i) => !movedIdx.includes(i))
    const devRows = [...rows.slice(cut), ...arriving]
    fs.writeFileSync(path.join(dir, 'cv/train.tsv'), [header, ...trainRows].map((l) => `${l}\n`).join(''))
    fs.writeFileSync(path.join(dir, 'cv/dev.tsv'), [header, ...devRows].map((l) => `${l}\n`).join(''))
    await commit(dir, 'move three clips to dev')
    return {dir, votes, moved: movedIdx.map((i, n) => ({key: keyOf(rows[i]), oldLine: i + 2, newLine: rows.length - cut + n + 2})), movedVotes}
  }),
}
prepareAll(repos)

// ---------------------------------------------------------------- forms

describe('dsv diff: forms and example changes (golden fixtures)', function () {
  this.timeout(120_000)

  it('dsv diff A B: examples added, removed and modified by key, with nested field changes (old/new), values and lines', async () => {
    const r = await repos.forms.get()
    const doc = await diffJson(r.dir, ['v1', 'HEAD'])
    assert.equal(doc.schemaVersion, 1)
    assert.deepEqual(doc.from, {label: 'v1', commit: r.v1})
    assert.deepEqual(doc.to, {label: 'HEAD', commit: r.v2})
    const exp = expectedKeyed(r.v1Recs, r.v2Recs)
    assert.deepEqual(exp, {added: [r.appended.id], removed: [r.v1Recs[r.removedIndex].id], modified: [r.v1Recs[r.editedIndex].id]})
    assert.equal(doc.files.length, 1)
    const f = doc.files[0]
    assert.deepEqual(withoutChanges(f), {path: GOLDEN, status: 'modified', kind: 'table', oldSize: r.v1Size, newSize: r.v2Size, key: ['id'], examples: counts(exp.added.length, exp.removed.length, exp.modified.length)})
    const old = r.v1Recs[r.editedIndex]
    const now = r.v2Recs[r.editedIndex]
    const changes = f.changes!.map((c) => (c.fields ? {...c, fields: sortFields(c.fields)} : c))
    assert.deepEqual(changes, [
      {change: 'modified', key: old.id, old: {path: GOLDEN, line: r.editedIndex + 1}, new: {path: GOLDEN, line: r.editedIndex + 1}, fields: sortFields([
        {path: 'expected_output.tier', change: 'changed', old: old.expected_output.tier, new: now.expected_output.tier},
        {path: 'labels.edge_case', change: 'changed', old: old.labels.edge_case, new: now.labels.edge_case},
        {path: 'review_note', change: 'added', new: 'checked twice'},
      ])},
      {change: 'removed', key: r.v1Recs[r.removedIndex].id, old: {path: GOLDEN, line: r.removedIndex + 1}, value: r.v1Recs[r.removedIndex]},
      {change: 'added', key: r.appended.id, new: {path: GOLDEN, line: r.v2Recs.length}, value: r.appended},
    ])
    assert.equal(f.omitted, 0)
    assert.deepEqual(doc.totals, {files: {added: 0, removed: 0, modified: 1, renamed: 0}, examples: {added: 1, removed: 1, modified: 1, moved: 0}})
    assert.deepEqual(doc.labels, [])
  })

  it('field changes are listed in document order (docs/diff-json.md: tier, edge_case, then the added review_note)', async () => {
    const r = await repos.forms.get()
    const doc = await diffJson(r.dir, ['v1', 'HEAD'])
    const modified = doc.files[0].changes!.find((c) => c.change === 'modified')!
    assert.deepEqual(modified.fields!.map((x) => x.path), ['expected_output.tier', 'labels.edge_case', 'review_note'])
  })

  it('dsv diff A..B is the same document as dsv diff A B; abbreviated ids work and keep the label typed', async () => {
    const r = await repos.forms.get()
    const [two, range, abbrev] = await Promise.all([
      diffJson(r.dir, ['v1', 'HEAD']),
      diffJson(r.dir, ['v1..HEAD']),
      diffJson(r.dir, [r.v1.slice(0, 10), r.v2.slice(0, 10)]),
    ])
    assert.deepEqual(range, two)
    assert.deepEqual(abbrev.from, {label: r.v1.slice(0, 10), commit: r.v1})
    assert.deepEqual(abbrev.to, {label: r.v2.slice(0, 10), commit: r.v2})
    assert.deepEqual(abbrev.files, two.files)
    assert.deepEqual(abbrev.totals, two.totals)
  })

  it('dsv diff (no revision): HEAD → working tree, only the uncommitted edits', async () => {
    const r = await repos.forms.get()
    const doc = await diffJson(r.dir, [])
    assert.deepEqual(doc.from, {label: 'HEAD', commit: r.v2})
    assert.deepEqual(doc.to, {label: 'working tree', commit: null})
    assert.deepEqual(doc.files.map((f) => f.path), [GOLDEN, STT])
    const g = file(doc, GOLDEN)
    assert.deepEqual(g.examples, counts(0, 0, 1))
    const before = r.v2Recs.find((x: Rec) => x.id === r.rescoredId)
    const after = r.nowRecs.find((x: Rec) => x.id === r.rescoredId)
    const line = r.nowRecs.indexOf(after) + 1
    assert.deepEqual(g.changes, [{change: 'modified', key: r.rescoredId, old: {path: GOLDEN, line}, new: {path: GOLDEN, line}, fields: [{path: 'quality_score', change: 'changed', old: before.quality_score, new: after.quality_score}]}])
    const s = file(doc, STT)
    assert.deepEqual(s.examples, counts(0, 0, 1))
    assert.deepEqual(s.changes, [{change: 'modified', key: r.sttV1[0].id, old: {path: STT, line: 1}, new: {path: STT, line: 1}, fields: [{path: 'validation_status', change: 'changed', old: r.sttV1[0].validation_status, new: r.sttNow[0].validation_status}]}])
    assert.deepEqual(doc.totals.examples, {added: 0, removed: 0, modified: 2, moved: 0})
  })

  it('dsv diff REV: REV → working tree (committed and uncommitted changes together)', async () => {
    const r = await repos.forms.get()
    const doc = await diffJson(r.dir, ['v1'])
    assert.deepEqual(doc.from, {label: 'v1', commit: r.v1})
    assert.deepEqual(doc.to, {label: 'working tree', commit: null})
    const exp = expectedKeyed(r.v1Recs, r.nowRecs)
    assert.equal(exp.modified.length, 2)
    const g = file(doc, GOLDEN)
    assert.deepEqual(g.examples, counts(exp.added.length, exp.removed.length, exp.modified.length))
    assert.deepEqual(g.changes!.filter((c) => c.change === 'modified').map((c) => c.key).sort(), [...exp.modified].sort())
    assert.deepEqual(g.changes!.filter((c) => c.change === 'added').map((c) => c.key), exp.added)
    assert.deepEqual(g.changes!.filter((c) => c.change === 'removed').map((c) => c.key), exp.removed)
    assert.deepEqual(file(doc, STT).examples, counts(0, 0, 1))
    assert.deepEqual(doc.totals.examples, {added: exp.added.length, removed: exp.removed.length, modified: exp.modified.length + 1, moved: 0})
  })

  it('paths after -- limit the diff: a file, a glob', async () => {
    const r = await repos.forms.get()
    const [one, other, glob, full] = await Promise.all([
      diffJson(r.dir, ['v1', '--', GOLDEN]),
      diffJson(r.dir, ['--', STT]),
      diffJson(r.dir, ['v1', '--', 'golden/stt_*.jsonl']),
      diffJson(r.dir, ['v1']),
    ])
    assert.deepEqual(one.files.map((f) => f.path), [GOLDEN])
    assert.deepEqual(one.files[0], file(full, GOLDEN))
    assert.deepEqual(one.totals.examples, {...full.totals.examples, modified: full.totals.examples.modified - 1})
    assert.deepEqual(other.files.map((f) => f.path), [STT])
    assert.deepEqual(other.totals.examples, {added: 0, removed: 0, modified: 1, moved: 0})
    assert.deepEqual(glob.files, [file(full, STT)])
  })

  it('text: a summary, then each example by key with its field changes', async () => {
    const r = await repos.forms.get()
    const lines = await diffText(r.dir, ['v1', 'HEAD'])
    const old = r.v1Recs[r.editedIndex]
    const now = r.v2Recs[r.editedIndex]
    assert.equal(lines[0], `diff v1 (${r.v1.slice(0, 12)}) → HEAD (${r.v2.slice(0, 12)})`)
    assert.equal(row(lines, GOLDEN), `${GOLDEN} modified +1 -1 ~1`)
    hasLine(lines, '1 file changed (1 modified); examples: +1 -1 ~1')
    hasLine(lines, `${GOLDEN}  (key: id)`)
    hasLine(lines, `  ~ ${old.id}  (line ${r.editedIndex + 1})`)
    hasLine(lines, `      expected_output.tier: "${old.expected_output.tier}" → "${now.expected_output.tier}"`)
    hasLine(lines, `      labels.edge_case: ${old.labels.edge_case} → ${now.labels.edge_case}`)
    hasLine(lines, '      review_note: + "checked twice"')
    hasLine(lines, `  - ${r.v1Recs[r.removedIndex].id}  (was line ${r.removedIndex + 1})`)
    hasLine(lines, `  + ${r.appended.id}  (line ${r.v2Recs.length})`)
  })
})

// ---------------------------------------------------------------- moves

describe('dsv diff: a key moved from one file to another (train → test)', function () {
  this.timeout(120_000)

  it('is reported as moved (with its field edits), not as removed + added', async () => {
    const r = await repos.split.get()
    const doc = await diffJson(r.dir, ['HEAD~1', 'HEAD'])
    const TRAIN = 'golden/train.jsonl'
    const TEST = 'golden/test.jsonl'
    assert.deepEqual(doc.files.map(withoutChanges), [
      {path: TEST, status: 'modified', kind: 'table', oldSize: r.sizes.test[0], newSize: r.sizes.test[1], key: ['id'], examples: counts(0, 0, 0, 2, 0)},
      {path: TRAIN, status: 'modified', kind: 'table', oldSize: r.sizes.train[0], newSize: r.sizes.train[1], key: ['id'], examples: counts(0, 0, 0, 0, 2)},
    ])
    assert.deepEqual(file(doc, TEST).changes, [
      {change: 'moved', key: r.ids[0], old: {path: TRAIN, line: r.movedIdx[0] + 1}, new: {path: TEST, line: r.testBefore + 1}, fields: []},
      {change: 'moved', key: r.ids[1], old: {path: TRAIN, line: r.movedIdx[1] + 1}, new: {path: TEST, line: r.testBefore + 2}, fields: [{path: 'expected_output.tier', change: 'changed', old: r.oldTier, new: r.newTier}]},
    ])
    assert.deepEqual(file(doc, TRAIN).changes, [], 'a move is listed once, under the file it arrived in')
    assert.deepEqual(doc.totals, {files: {added: 0, removed: 0, modified: 2, renamed: 0}, examples: {added: 0, removed: 0, modified: 0, moved: 2}})
  })

  it('text: "moved in" / "moved out" in the summary, then "moved from FILE:LINE"', async () => {
    const r = await repos.split.get()
    const lines = await diffText(r.dir, ['HEAD~1', 'HEAD'])
    assert.equal(row(lines, 'golden/test.jsonl'), 'golden/test.jsonl modified +0 -0 ~0 2 moved in')
    assert.equal(row(lines, 'golden/train.jsonl'), 'golden/train.jsonl modified +0 -0 ~0 2 moved out')
    hasLine(lines, '2 files changed (2 modified); examples: +0 -0 ~0 2 moved')
    hasLine(lines, `  → ${r.ids[0]}  moved from golden/train.jsonl:${r.movedIdx[0] + 1} to line ${r.testBefore + 1}`)
    hasLine(lines, '      (content unchanged)')
    hasLine(lines, `  → ${r.ids[1]}  moved from golden/train.jsonl:${r.movedIdx[1] + 1} to line ${r.testBefore + 2}`)
    hasLine(lines, `      expected_output.tier: "${r.oldTier}" → "${r.newTier}"`)
  })
})

// ---------------------------------------------------------------- files

describe('dsv diff: files added, removed, renamed, binary changes', function () {
  this.timeout(120_000)

  /** The file list the edits in repos.files must give, sorted by path. */
  function expectedFiles(r: Awaited<ReturnType<typeof repos.files.get>>): FileDiff[] {
    const clip = (c: string) => `${CLIPS}/${c}`
    const productRecords = linesOf(r.productsText.toString('utf8'), '\r\n').length - 1
    return ([
      {path: `audio/${r.renamed}`, status: 'renamed', from: clip(r.renamed), kind: 'blob', oldSize: r.sizes.renamed, newSize: r.sizes.renamed},
      {path: 'audio/new.bin', status: 'added', kind: 'blob', oldSize: null, newSize: r.bin.length},
      {path: clip(r.grown), status: 'modified', kind: 'blob', oldSize: r.sizes.grown, newSize: r.sizes.grown + r.tail.length},
      {path: clip(r.deleted), status: 'removed', kind: 'blob', oldSize: r.sizes.deleted, newSize: null},
      {path: 'extra/new.jsonl', status: 'added', kind: 'table', oldSize: null, newSize: r.newRecs.map((x) => JSON.stringify(x).length + 1).reduce((a, b) => a + b), key: ['id'], examples: counts(r.newRecs.length, 0, 0)},
      {path: 'golden/stt.jsonl', status: 'renamed', from: STT, kind: 'table', oldSize: r.sttSize, newSize: r.sttSize},
      // products.csv has no id/example_id/uuid column and no configured key: keyless
      {path: PRODUCTS, status: 'removed', kind: 'table', oldSize: r.productsText.length, newSize: null, key: null, examples: counts(0, productRecords, 0)},
      {path: 'tables/products.txt', status: 'added', kind: 'blob', oldSize: null, newSize: r.productsText.length},
    ] as FileDiff[]).sort(byPath)
  }

  it('--json: each file with its status, kind and sizes; renamed files name their old path', async () => {
    const r = await repos.files.get()
    const doc = await diffJson(r.dir, ['HEAD~1', 'HEAD'])
    const exp = expectedFiles(r)
    assert.deepEqual(doc.files.map(withoutChanges), exp)
    const tally = {added: 0, removed: 0, modified: 0, renamed: 0}
    for (const f of exp) tally[f.status]++
    assert.deepEqual(doc.totals.files, tally)
    assert.deepEqual(doc.totals.examples, {added: r.newRecs.length, removed: file(doc, PRODUCTS).examples!.removed, modified: 0, moved: 0})
    // an added table lists its examples with their values and lines
    assert.deepEqual(file(doc, 'extra/new.jsonl').changes, r.newRecs.map((v, i) => ({change: 'added', key: v.id, new: {path: 'extra/new.jsonl', line: i + 1}, value: v})))
    // renamed files and blobs carry no example changes
    for (const f of doc.files.filter((x) => x.kind === 'blob' || x.status === 'renamed')) assert.equal(f.changes, undefined, f.path)
  })

  it('a table that became a plain file (same bytes, .csv → .txt): its examples are removed, the new file is a blob', async () => {
    const r = await repos.files.get()
    const [doc, lines, only] = await Promise.all([
      diffJson(r.dir, ['HEAD~1', 'HEAD']),
      diffText(r.dir, ['HEAD~1', 'HEAD']),
      diffJson(r.dir, ['HEAD~1', 'HEAD', '--', 'tables/products.txt']),
    ])
    const records = linesOf(r.productsText.toString('utf8'), '\r\n')
    const header = records[0].split(',')
    const removed = file(doc, PRODUCTS).changes!
    assert.equal(removed.length, records.length - 1)
    assert.ok(removed.every((c, i) => c.change === 'removed' && c.key === null && c.old!.line === i + 2), 'every CSV record removed, in order')
    // CSV values are column → string
    assert.deepEqual(Object.keys(removed[0].value as object), header)
    assert.deepEqual(removed[0].value, Object.fromEntries(header.map((h, i) => [h, records[1].split(',')[i]])))
    assert.equal(file(doc, 'tables/products.txt').kind, 'blob')
    assert.ok(doc.files.every((f) => f.typeChanged === undefined), 'different paths: no typeChanged')
    assert.equal(row(lines, PRODUCTS), `${PRODUCTS} removed +0 -${records.length - 1} ~0`)
    assert.equal(row(lines, 'tables/products.txt'), `tables/products.txt added ${size(r.productsText.length)}`)
    // a path that is only in the new version is fine with --
    assert.deepEqual(only.files.map((f) => [f.path, f.status]), [['tables/products.txt', 'added']])
  })

  it('text: sizes of binary files, "renamed from", and the totals line', async () => {
    const r = await repos.files.get()
    const lines = await diffText(r.dir, ['HEAD~1', 'HEAD'])
    const exp = expectedFiles(r)
    assert.equal(row(lines, `${CLIPS}/${r.grown}`), `${CLIPS}/${r.grown} modified ${size(r.sizes.grown)} → ${size(r.sizes.grown + r.tail.length)}`)
    assert.equal(row(lines, `${CLIPS}/${r.deleted}`), `${CLIPS}/${r.deleted} removed ${size(r.sizes.deleted)}`)
    assert.equal(row(lines, `audio/${r.renamed}`), `audio/${r.renamed} renamed from ${CLIPS}/${r.renamed} ${size(r.sizes.renamed)}`)
    assert.equal(row(lines, 'audio/new.bin'), `audio/new.bin added ${size(r.bin.length)}`)
    assert.equal(row(lines, 'golden/stt.jsonl'), `golden/stt.jsonl renamed from ${STT} ${size(r.sttSize)}`)
    assert.equal(row(lines, 'extra/new.jsonl'), `extra/new.jsonl added +${r.newRecs.length} -0 ~0`)
    const n = (s: string) => exp.filter((f) => f.status === s).length
    const removedExamples = linesOf(r.productsText.toString('utf8'), '\r\n').length - 1
    hasLine(lines, `${exp.length} files changed (${n('added')} added, ${n('removed')} removed, ${n('modified')} modified, ${n('renamed')} renamed); examples: +${r.newRecs.length} -${removedExamples} ~0`)
  })

  it('--name-status: one A/D/M/R line per file; --stat and --name-status --json keep exact counts without changes', async () => {
    const r = await repos.files.get()
    const [lines, full, stat, names] = await Promise.all([
      diffText(r.dir, ['HEAD~1', 'HEAD', '--name-status']),
      diffJson(r.dir, ['HEAD~1', 'HEAD']),
      diffJson(r.dir, ['HEAD~1', 'HEAD', '--stat']),
      diffJson(r.dir, ['HEAD~1', 'HEAD', '--name-status']),
    ])
    const letter = {added: 'A', removed: 'D', modified: 'M', renamed: 'R'}
    assert.deepEqual(lines, expectedFiles(r).map((f) => (f.status === 'renamed' ? `R\t${f.from}\t${f.path}` : `${letter[f.status]}\t${f.path}`)))
    for (const doc of [stat, names]) {
      assert.deepEqual(doc.files, full.files.map(withoutChanges))
      for (const f of doc.files) assert.ok(!('changes' in f) && !('omitted' in f), `${f.path}: no changes/omitted with --stat/--name-status`)
      assert.deepEqual(doc.totals, full.totals)
    }
  })
})

// ---------------------------------------------------------------- CSV, TSV, keyless; summary options

describe('dsv diff: CSV/TSV columns, keyless files, --stat, --limit, --exit-code, --format markdown', function () {
  this.timeout(120_000)

  it('CSV and TSV columns are fields with string values; a keyless edited line is modified (paired by position)', async () => {
    const r = await repos.opts.get()
    const doc = await diffJson(r.dir, ['HEAD~1', 'HEAD'])
    assert.deepEqual(doc.files.map((f) => f.path), [VALIDATED, GOLDEN, PROMPTS, PRODUCTS].sort())
    const csv = file(doc, PRODUCTS)
    assert.deepEqual(csv.key, ['sku'])
    assert.deepEqual(csv.examples, counts(0, 0, r.csvEdits.length))
    // CSV lines: record number + 1 (OF-3005 comes after a quoted field holding a newline)
    assert.deepEqual(csv.changes, r.csvEdits.map((e) => ({change: 'modified', key: e.sku, old: {path: PRODUCTS, line: e.line}, new: {path: PRODUCTS, line: e.line}, fields: [{path: 'price', change: 'changed', old: e.oldPrice, new: e.newPrice}]})))
    const tsv = file(doc, VALIDATED)
    assert.deepEqual(tsv.key, ['path'])
    assert.deepEqual(tsv.examples, counts(0, 0, r.tsvEdits.length))
    assert.deepEqual(tsv.changes, r.tsvEdits.map((e) => ({change: 'modified', key: e.key, old: {path: VALIDATED, line: e.line}, new: {path: VALIDATED, line: e.line}, fields: [{path: 'up_votes', change: 'changed', old: e.old, new: e.new}]})))
    const keyless = file(doc, PROMPTS)
    assert.equal(keyless.key, null)
    assert.deepEqual(keyless.examples, counts(0, 0, 1))
    const line = r.keylessIndex + 1
    assert.deepEqual(keyless.changes, [{change: 'modified', key: null, old: {path: PROMPTS, line}, new: {path: PROMPTS, line}, fields: [{path: 'completion', change: 'changed', old: r.promptsOld[r.keylessIndex].completion, new: r.promptsNew[r.keylessIndex].completion}]}])
    const g = file(doc, GOLDEN)
    const exp = expectedKeyed(r.goldenOld, r.goldenNew)
    assert.deepEqual(exp.modified, r.rescored)
    assert.deepEqual(g.examples, counts(0, 0, r.rescored.length))
    assert.deepEqual(doc.totals.examples, {added: 0, removed: 0, modified: r.rescored.length + r.csvEdits.length + r.tsvEdits.length + 1, moved: 0})
  })

  it('--stat: only the summary (a row per file and the totals), counts exact', async () => {
    const r = await repos.opts.get()
    const lines = await diffText(r.dir, ['HEAD~1', 'HEAD', '--stat'])
    const total = r.rescored.length + r.csvEdits.length + r.tsvEdits.length + 1
    assert.deepEqual(lines.map((l) => l.trim().replace(/\s+/g, ' ')), [
      `diff HEAD~1 (${r.prev.slice(0, 12)}) → HEAD (${r.head.slice(0, 12)})`,
      `${VALIDATED} modified +0 -0 ~${r.tsvEdits.length}`,
      `${GOLDEN} modified +0 -0 ~${r.rescored.length}`,
      `${PROMPTS} modified +0 -0 ~1`,
      `${PRODUCTS} modified +0 -0 ~${r.csvEdits.length}`,
      `4 files changed (4 modified); examples: +0 -0 ~${total}`,
    ])
  })

  it('--limit N: at most N changes per file, and says how many were left out (text and --json); counts stay exact', async () => {
    const r = await repos.opts.get()
    const n = 2
    const left = r.rescored.length - n
    const [lines, all, doc] = await Promise.all([
      diffText(r.dir, ['HEAD~1', 'HEAD', '--limit', String(n), '--', GOLDEN]),
      diffText(r.dir, ['HEAD~1', 'HEAD', '--limit', '0', '--', GOLDEN]),
      diffJson(r.dir, ['HEAD~1', 'HEAD', '--limit', String(n)]),
    ])
    const shown = lines.filter((l) => l.startsWith('  ~ '))
    assert.deepEqual(shown.map((l) => l.trim().split(/\s+/)[1]), r.rescored.slice(0, n))
    hasLine(lines, `  … ${left} more example changes not shown (--limit ${n}; use --limit 0 for all, or --json)`)
    assert.deepEqual(all.filter((l) => l.startsWith('  ~ ')).map((l) => l.trim().split(/\s+/)[1]), r.rescored)
    assert.ok(!all.some((l) => l.includes('not shown')))
    const g = file(doc, GOLDEN)
    assert.equal(g.changes!.length, n)
    assert.equal(g.omitted, left)
    assert.deepEqual(g.examples, counts(0, 0, r.rescored.length))
    for (const f of doc.files.filter((x) => x.path !== GOLDEN)) {
      assert.equal(f.changes!.length, f.examples!.modified, f.path)
      assert.equal(f.omitted ?? 0, 0, f.path)
    }
  })

  it('--exit-code: 1 when there are differences (the output is still printed), 0 when there are none', async () => {
    const r = await repos.opts.get()
    const [diffText1, diffJson1, same, plain, full] = await Promise.all([
      dsvAsync(r.dir, 'diff', 'HEAD~1', 'HEAD', '--exit-code', '--stat'),
      diffJson(r.dir, ['HEAD~1', 'HEAD', '--exit-code'], 1),
      dsvAsync(r.dir, 'diff', 'HEAD', 'HEAD', '--exit-code'),
      diffText(r.dir, ['HEAD~1', 'HEAD', '--stat']), // exit 0 without --exit-code
      diffJson(r.dir, ['HEAD~1', 'HEAD']),
    ])
    assertExit(diffText1, 1, 'diff --exit-code with differences')
    assert.equal(diffText1.stdout, `${plain.join('\n')}\n`)
    assert.deepEqual(diffJson1, full)
    assertExit(same, 0, 'diff HEAD HEAD --exit-code')
    assert.deepEqual(same.stdout.split('\n').slice(1, 2), ['no differences'])
  })

  it('keyless: a line deleted near the top and a line appended at the end are removed + added, not one "modified" pair', async () => {
    const r = await repos.opts.get()
    const [doc, lines] = await Promise.all([diffJson(r.dir, ['--', PROMPTS]), diffText(r.dir, ['--', PROMPTS])])
    const f = file(doc, PROMPTS)
    assert.equal(f.key, null)
    hasLine(lines, `${PROMPTS}  (keyless: edits paired by position)`)
    assert.deepEqual(f.examples, counts(1, 1, 0))
    assert.deepEqual(f.changes, [
      {change: 'removed', key: null, old: {path: PROMPTS, line: r.deleted + 1}, value: r.promptsNew[r.deleted]},
      {change: 'added', key: null, new: {path: PROMPTS, line: r.promptsNow.length}, value: r.appended},
    ])
  })

  it('--format markdown: a summary table and collapsible example lists', async () => {
    const r = await repos.opts.get()
    const lines = await diffText(r.dir, ['HEAD~1', 'HEAD', '--format', 'markdown', '--', GOLDEN])
    const [oldSize, newSize] = r.goldenSizes
    assert.equal(lines[0], `### Dataset diff: HEAD~1 (${r.prev.slice(0, 12)}) → HEAD (${r.head.slice(0, 12)})`)
    hasLine(lines, `**1 file changed** · examples **+0 −0 ~${r.rescored.length}**`)
    hasLine(lines, '| file | status | added | removed | modified | moved in | moved out | size |')
    hasLine(lines, `| \`${GOLDEN}\` | modified | 0 | 0 | ${r.rescored.length} | 0 | 0 | ${size(oldSize)} → ${size(newSize)} |`)
    hasLine(lines, `<details><summary><code>${GOLDEN}</code>: ${r.rescored.length} example changes</summary>`)
    for (const id of r.rescored) {
      const o = r.goldenOld.find((x: Rec) => x.id === id)
      const n = r.goldenNew.find((x: Rec) => x.id === id)
      hasLine(lines, `- **modified** \`${id}\``)
      hasLine(lines, `  - \`quality_score\`: \`${JSON.stringify(o.quality_score)}\` → \`${JSON.stringify(n.quality_score)}\``)
    }
    hasLine(lines, '</details>')
  })
})

// ---------------------------------------------------------------- labels

describe('dsv diff: label summary (dsv config labels.<pattern> field,field)', function () {
  this.timeout(120_000)
  const FIELDS = ['expected_output.tier', 'validation_status']

  it('counts per value before/after among the changed examples, and how many changed label', async () => {
    const r = await repos.labels.get()
    assert.deepEqual(r.set, {key: 'labels.golden/*.jsonl', value: FIELDS.join(',')})
    const [doc, limited] = await Promise.all([
      diffJson(r.dir, ['HEAD~1', 'HEAD']),
      diffJson(r.dir, ['HEAD~1', 'HEAD', '--limit', '1']),
    ])
    const exp = expectedLabels(r.old, r.now, FIELDS)
    // the edits: 2 tiers flipped, 1 status flipped, 1 status emptied, 1 score changed, 1 removed, 1 added
    assert.equal(exp[0].changed, 2)
    assert.equal(exp[1].changed, 2)
    assert.ok(exp[1].values.some((v) => v.value === '(none)' && v.after === 1))
    assert.deepEqual(doc.labels, exp)
    assert.deepEqual(limited.labels, exp, '--limit leaves the label summary whole')
    // after − before is the net change over the whole file
    for (const l of exp) {
      for (const v of l.values) {
        const whole = (recs: Rec[]) => recs.filter((x) => labelValue(x, l.field) === v.value).length
        assert.equal(v.after - v.before, whole(r.now) - whole(r.old), `${l.field}=${v.value}`)
      }
    }
    const keyed = expectedKeyed(r.old, r.now)
    assert.deepEqual(file(doc, GOLDEN).examples, counts(keyed.added.length, keyed.removed.length, keyed.modified.length))
  })

  it('text (also with --stat) and markdown show the label tables', async () => {
    const r = await repos.labels.get()
    const [lines, md] = await Promise.all([diffText(r.dir, ['HEAD~1', 'HEAD', '--stat']), diffText(r.dir, ['HEAD~1', 'HEAD', '--format', 'markdown'])])
    const norm = lines.map((l) => l.trim().replace(/\s+/g, ' '))
    for (const l of expectedLabels(r.old, r.now, FIELDS)) {
      assert.ok(norm.includes(`label ${l.field} (among changed examples; ${l.changed} changed label):`), `label header for ${l.field} in:\n${lines.join('\n')}`)
      hasLine(md, `**Label \`${l.field}\`** (among changed examples; ${l.changed} changed label)`)
      for (const v of l.values) {
        const d = v.after - v.before
        assert.ok(norm.includes(`${v.value} ${v.before} → ${v.after} ${d > 0 ? `+${d}` : d < 0 ? String(d) : '±0'}`), `${l.field} ${v.value} in:\n${lines.join('\n')}`)
        hasLine(md, `| ${v.value} | ${v.before} | ${v.after} | ${d > 0 ? '+' : ''}${d} |`)
      }
    }
  })
})

// ---------------------------------------------------------------- empty diff and errors

describe('label summary of examples moved between files with different label settings', () => {
  it('a move counts before under the old file\'s label fields and after under the new file\'s', async () => {
    const {dir} = makeRepoFrom(tmp, [], {commit: false})
    const row = (id: string, label: string) => JSON.stringify({id, label}) + '\n'
    fs.writeFileSync(path.join(dir, 'train.jsonl'), ['t0', 't1', 't2'].map((id) => row(id, 'A')).join(''))
    fs.writeFileSync(path.join(dir, 'test.jsonl'), ['s0', 's1'].map((id) => row(id, 'B')).join(''))
    assertExit(dsv(dir, 'commit', '-m', 'v1', '--quiet'), 0)
    fs.writeFileSync(path.join(dir, 'train.jsonl'), ['t1', 't2'].map((id) => row(id, 'A')).join(''))
    fs.writeFileSync(path.join(dir, 'test.jsonl'), ['s0', 's1', 't0'].map((id) => row(id, id === 't0' ? 'A' : 'B')).join(''))
    assertExit(dsv(dir, 'config', 'labels.test.jsonl', 'label', '--quiet'), 0)
    const intoLabelled = await runDiffJson(dir, [], 0)
    assert.equal(intoLabelled.totals.examples.moved, 1)
    assert.deepEqual(intoLabelled.labels, [{field: 'label', values: [{value: 'A', before: 0, after: 1}], changed: 0, scope: 'changed-examples'}])
    assertExit(dsv(dir, 'config', '--unset', 'labels.test.jsonl', '--quiet'), 0)
    assertExit(dsv(dir, 'config', 'labels.train.jsonl', 'label', '--quiet'), 0)
    const outOfLabelled = await runDiffJson(dir, ['HEAD'], 0)
    assert.deepEqual(outOfLabelled.labels, [{field: 'label', values: [{value: 'A', before: 1, after: 0}], changed: 0, scope: 'changed-examples'}])
  })
})

describe('moves across the edge of a path filter', () => {
  it('`-- test.jsonl` reports examples moved in from train as moves (with where from); `-- train.jsonl` as moved out, not removed', async () => {
    const {dir} = makeRepoFrom(tmp, [], {commit: false})
    const row = (id: string) => JSON.stringify({id, text: `t-${id}`}) + '\n'
    fs.writeFileSync(path.join(dir, 'train.jsonl'), ['t0', 't1', 't2', 't3'].map(row).join(''))
    fs.writeFileSync(path.join(dir, 'test.jsonl'), ['s0'].map(row).join(''))
    fs.writeFileSync(path.join(dir, 'other.jsonl'), ['o0'].map(row).join(''))
    assertExit(dsv(dir, 'commit', '-m', 'v1', '--quiet'), 0)
    fs.writeFileSync(path.join(dir, 'train.jsonl'), ['t0', 't1'].map(row).join(''))
    fs.writeFileSync(path.join(dir, 'test.jsonl'), ['s0', 't2', 't3', 'n0'].map(row).join(''))
    fs.writeFileSync(path.join(dir, 'other.jsonl'), ['o0', 'o1'].map(row).join(''))
    // the working tree, then the same change committed
    for (const args of [[], ['HEAD~1', 'HEAD']]) {
      if (args.length) assertExit(dsv(dir, 'commit', '-m', 'v2', '--quiet'), 0)
      const test = await runDiffJson(dir, [...args, '--', 'test.jsonl'], 0)
      assert.deepEqual(test.files.map((f) => f.path), ['test.jsonl'])
      assert.deepEqual(test.files[0].examples, counts(1, 0, 0, 2))
      assert.deepEqual(test.files[0].changes!.map((c) => [c.change, c.key, c.old?.path ?? null]), [['moved', 't2', 'train.jsonl'], ['moved', 't3', 'train.jsonl'], ['added', 'n0', null]])
      assert.deepEqual(test.totals.examples, {added: 1, removed: 0, modified: 0, moved: 2})
      const train = await runDiffJson(dir, [...args, '--', 'train.jsonl'], 0)
      assert.deepEqual(train.files.map((f) => [f.path, f.examples]), [['train.jsonl', counts(0, 0, 0, 0, 2)]])
      assert.deepEqual(train.files[0].changes, [])
    }
  })
})

describe('a file whose bytes changed but no example did', () => {
  it('says so: CRLF line endings change no example, in the summary; Markdown marks formatting-only examples', () => {
    const {dir} = makeRepoFrom(tmp, [], {commit: false})
    const file = path.join(dir, 't.jsonl')
    fs.writeFileSync(file, '{"id":1,"a":1}\n{"id":2,"a":2}\n')
    assertExit(dsv(dir, 'commit', '-m', 'v1', '--quiet'), 0)
    fs.writeFileSync(file, '{"id":1,"a":1}\r\n{"id":2,"a":2}\r\n')
    const crlf = dsv(dir, 'diff')
    assertExit(crlf, 0)
    assert.match(crlf.stdout, /^ +t\.jsonl +modified +\+0 -0 ~0 \(no example changed: only formatting or order\)$/m)
    fs.writeFileSync(file, '{"id":1,"a":1}\n{"a":2,"id":2}\n')
    const md = dsv(dir, 'diff', '--format', 'markdown')
    assert.match(md.stdout, /^- \*\*modified\*\* `2` \(formatting only: same fields and values\)$/m)
  })
})

describe('review cases: moves next to keyless rows, labels and broken files across a path filter', () => {
  const row = (id: string | null, label = 'A') => JSON.stringify(id === null ? {note: 'no id', label} : {id, label}) + '\n'

  it('a keyed example moving in where a row without the key was deleted is a move, not a modification of that row', async () => {
    const {dir} = makeRepoFrom(tmp, [], {commit: false})
    fs.writeFileSync(path.join(dir, 'train.jsonl'), [row('t0'), row('t7')].join(''))
    fs.writeFileSync(path.join(dir, 'test.jsonl'), [row('s0'), row(null), row('s1')].join(''))
    assertExit(dsv(dir, 'commit', '-m', 'v1', '--quiet'), 0)
    fs.writeFileSync(path.join(dir, 'train.jsonl'), row('t0'))
    fs.writeFileSync(path.join(dir, 'test.jsonl'), [row('s0'), row('t7'), row('s1')].join(''))
    const doc = await runDiffJson(dir, [], 0)
    assert.deepEqual(doc.files.map((f) => [f.path, f.examples]), [['test.jsonl', counts(0, 1, 0, 1)], ['train.jsonl', counts(0, 0, 0, 0, 1)]])
  })

  it('with paths, only the side of a move inside them counts in the label summary; a broken file outside them does not fail the diff', async () => {
    const {dir} = makeRepoFrom(tmp, [], {commit: false})
    fs.writeFileSync(path.join(dir, 'train.jsonl'), [row('t0'), row('t1')].join(''))
    fs.writeFileSync(path.join(dir, 'test.jsonl'), row('s0', 'B'))
    assertExit(dsv(dir, 'config', 'labels.*.jsonl', 'label', '--quiet'), 0)
    assertExit(dsv(dir, 'commit', '-m', 'v1', '--quiet'), 0)
    fs.writeFileSync(path.join(dir, 'train.jsonl'), row('t1'))
    fs.writeFileSync(path.join(dir, 'test.jsonl'), [row('s0', 'B'), row('t0')].join(''))
    const whole = await runDiffJson(dir, [], 0)
    assert.deepEqual(whole.labels[0].values, [{value: 'A', before: 1, after: 1}])
    const into = await runDiffJson(dir, ['--', 'test.jsonl'], 0)
    assert.deepEqual(into.labels[0].values, [{value: 'A', before: 0, after: 1}])
    const outOf = await runDiffJson(dir, ['--', 'train.jsonl'], 0)
    assert.deepEqual(outOf.labels[0].values, [{value: 'A', before: 1, after: 0}])
    fs.writeFileSync(path.join(dir, 'broken.jsonl'), '{"id": \n')
    const despite = await runDiffJson(dir, ['--', 'test.jsonl'], 0)
    assert.deepEqual(despite.files.map((f) => [f.path, f.examples]), [['test.jsonl', counts(1, 0, 0)]])
  })
})

describe('dsv diff: empty diff and errors', function () {
  this.timeout(120_000)

  it('no differences: a clear message, exit 0 (also with --exit-code), JSON with zero totals', async () => {
    const {dir, first} = await repos.errors.get()
    const [text, doc, md] = await Promise.all([
      diffText(dir, ['--exit-code']), // exit 0: no differences
      diffJson(dir, []),
      diffText(dir, ['HEAD', 'HEAD', '--format', 'markdown']),
    ])
    assert.deepEqual(text, [`diff HEAD (${first!.slice(0, 12)}) → working tree`, 'no differences'])
    const zero = {files: {added: 0, removed: 0, modified: 0, renamed: 0}, examples: {added: 0, removed: 0, modified: 0, moved: 0}}
    assert.deepEqual(doc, {schemaVersion: 1, from: {label: 'HEAD', commit: first}, to: {label: 'working tree', commit: null}, files: [], totals: zero, labels: []})
    assert.equal(md[0], `### Dataset diff: HEAD (${first!.slice(0, 12)}) → HEAD (${first!.slice(0, 12)})`)
    hasLine(md, 'No differences.')
  })

  it('an unknown revision: exit 4, E_BAD_REVISION naming it (either side, and in A..B)', async () => {
    const {dir} = await repos.errors.get()
    const [a, c, text] = await Promise.all([
      diffError(dir, ['nope'], 4, 'E_BAD_REVISION'),
      diffError(dir, ['HEAD..nope'], 4, 'E_BAD_REVISION'),
      dsvAsync(dir, 'diff', 'HEAD', 'nope'),
    ])
    for (const e of [a, c]) assert.match(e.message, /'nope'/)
    assertExit(text, 4)
    assert.equal(text.stdout, '')
    assert.match(text.stderr, /^error: .*'nope'/m)
  })

  it('a path in neither version: exit 4, E_PATH_NOT_FOUND naming the path', async () => {
    const {dir} = await repos.errors.get()
    const [a, text] = await Promise.all([
      diffError(dir, ['HEAD', 'HEAD', '--', 'nothere.jsonl'], 4, 'E_PATH_NOT_FOUND'),
      dsvAsync(dir, 'diff', '--', 'golden/nothere.jsonl'),
    ])
    assert.equal(a.path, 'nothere.jsonl')
    assert.match(a.message, /nothere\.jsonl/)
    assertExit(text, 4)
    assert.equal(text.stdout, '')
    assert.match(text.stderr, /^error: path 'golden\/nothere\.jsonl'/m)
  })

  it('three revisions: exit 2, E_USAGE', async () => {
    const {dir} = await repos.errors.get()
    const e = await diffError(dir, ['HEAD', 'HEAD', 'HEAD'], 2, 'E_USAGE')
    assert.match(e.message, /revisions/)
  })

  it('a range and another revision (A..B C): exit 2, E_USAGE', async () => {
    const {dir} = await repos.errors.get()
    const e = await diffError(dir, ['HEAD..HEAD', 'HEAD'], 2, 'E_USAGE')
    assert.match(e.message, /HEAD\.\.HEAD/)
  })

  it('a .jsonl in the working tree that is not JSON: exit 5, E_INVALID_DATA with file and line', async () => {
    const {dir} = await repos.errors.get()
    const f = path.join(dir, STT)
    const original = fs.readFileSync(f)
    try {
      fs.appendFileSync(f, 'this is not json\n')
      const line = linesOf(original.toString('utf8')).length + 1
      const [e, text] = await Promise.all([diffError(dir, [], 5, 'E_INVALID_DATA'), dsvAsync(dir, 'diff')])
      assert.equal(e.file, STT)
      assert.equal(e.line, line)
      assert.match(e.message, new RegExp(`^${STT.replace(/\./g, '\\.')}:${line}: not valid JSON`))
      assertExit(text, 5)
      assert.match(text.stderr, new RegExp(`^error: ${STT.replace(/\./g, '\\.')}:${line}: not valid JSON`, 'm'))
      // limited to other paths, the working-tree diff neither reads nor trips over the broken file
      const other = await dsvAsync(dir, 'diff', '--json', '--', 'conversations/')
      assertExit(other, 0)
      assert.ok(other.json<{files: Array<{path: string}>}>().files.every((f) => f.path.startsWith('conversations/')))
    } finally {
      fs.writeFileSync(f, original)
    }
  })
})

describe('keyless files: pairing after long insertions and deletions', () => {
  type Change = {change: string; old?: {line: number}; new?: {line: number}}
  const lines = (n: number, tag = 'q') => Array.from({length: n}, (_, i) => JSON.stringify({question: `${tag} ${i}`, answer: `a${i}`}) + '\n')
  const at = (c: Change) => [c.change, c.old?.line ?? null, c.new?.line ?? null]
  const keylessRepo = (content: string[]) => {
    const {dir} = makeRepoFrom(tmp, [], {commit: false})
    fs.writeFileSync(path.join(dir, 't.jsonl'), content.join(''))
    assertExit(dsv(dir, 'commit', '-m', 'v1', '--quiet'), 0)
    return dir
  }
  const diffAndStatus = async (dir: string, content: string[]) => {
    fs.writeFileSync(path.join(dir, 't.jsonl'), content.join(''))
    const doc = await runDiffJson(dir, [], 0)
    const status = dsvJson<{examples: {added: number; removed: number; modified: number}}>(dir, 0, 'status')
    assert.deepEqual(status.examples, {added: doc.totals.examples.added, removed: doc.totals.examples.removed, modified: doc.totals.examples.modified}, 'status counts as diff does')
    return doc.files[0] as Omit<FileDiff, 'changes'> & {changes: Change[]}
  }

  it('10 lines inserted, one deleted 30 lines later, one edited: +10 -1 ~1, each at its line', async () => {
    const v1 = lines(300)
    const dir = keylessRepo(v1)
    const v2 = [...v1]
    v2[200] = JSON.stringify({question: 'q 200', answer: 'EDITED'}) + '\n'
    v2.splice(130, 1)
    v2.splice(100, 0, ...lines(10, 'ins'))
    const f = await diffAndStatus(dir, v2)
    assert.deepEqual(f.examples, counts(10, 1, 1))
    assert.deepEqual(f.changes.map(at), [
      ...Array.from({length: 10}, (_, k) => ['added', null, 101 + k]),
      ['removed', 131, null],
      ['modified', 201, 210],
    ])
  })

  it('10 lines deleted, one edited 20 lines later: -10 ~1, the edit paired with itself', async () => {
    const v1 = lines(300)
    const dir = keylessRepo(v1)
    const v2 = [...v1]
    v2[130] = JSON.stringify({question: 'q 130', answer: 'EDITED'}) + '\n'
    v2.splice(100, 10)
    const f = await diffAndStatus(dir, v2)
    assert.deepEqual(f.examples, counts(0, 10, 1))
    assert.deepEqual(f.changes.filter((c) => c.change === 'modified').map(at), [['modified', 131, 121]])
    assert.deepEqual(f.changes.filter((c) => c.change === 'removed').map((c) => c.old!.line), Array.from({length: 10}, (_, k) => 101 + k))
  })

  it('a block of 2,000 lines inserted at the top: +2000, nothing modified', async () => {
    const v1 = lines(3000)
    const dir = keylessRepo(v1)
    const f = await diffAndStatus(dir, [...lines(2000, 'new'), ...v1])
    assert.deepEqual(f.examples, counts(2000, 0, 0))
  })
})

describe('a key added to (or dropped from) every example of a keyless file', () => {
  it('shows modified examples with the key field added, not all removed and all added; status agrees', async () => {
    const {dir} = makeRepoFrom(tmp, [], {commit: false})
    const file = path.join(dir, 't.jsonl')
    const rows = Array.from({length: 20}, (_, i) => ({question: `q${i}`, answer: `a${i}`}))
    fs.writeFileSync(file, rows.map((r) => JSON.stringify(r) + '\n').join(''))
    assertExit(dsv(dir, 'commit', '-m', 'keyless', '--quiet'), 0)
    fs.writeFileSync(file, rows.map((r, i) => JSON.stringify({id: `g${i}`, ...r}) + '\n').join(''))
    const added = (await runDiffJson(dir, [], 0)).files[0]
    assert.deepEqual(added.key, ['id'])
    assert.deepEqual(added.examples, counts(0, 0, 20))
    assert.deepEqual(added.changes![3], {...added.changes![3], change: 'modified', key: 'g3', fields: [{path: 'id', change: 'added', new: 'g3'}]})
    const {examples} = dsvJson<{examples: Record<string, number>}>(dir, 0, 'status')
    assert.deepEqual([examples.added, examples.removed, examples.modified], [0, 0, 20])
    assert.deepEqual(dsvJson<{examples: unknown}>(dir, 0, 'commit', '-m', 'ids').examples, {added: 0, removed: 0, modified: 20})
    fs.writeFileSync(file, rows.map((r) => JSON.stringify(r) + '\n').join(''))
    const dropped = (await runDiffJson(dir, [], 0)).files[0]
    assert.deepEqual(dropped.examples, counts(0, 0, 20))
    assert.deepEqual(dropped.changes![0].fields, [{path: 'id', change: 'removed', old: 'g0'}])
  })
})

// ---------------------------------------------------------------- real data

describe('dsv diff on real data: GSM8K train.jsonl (keyless, 7,473 lines)', function () {
  this.timeout(120_000)
  let r: NonNullable<Awaited<ReturnType<typeof repos.gsm8k.get>>>

  before(async function () {
    const made = await repos.gsm8k.get()
    if (!made) this.skip()
    r = made
  })

  it('4 answers edited: exactly those 4 lines are modified, with the `answer` field old/new', async () => {
    const [doc, lines] = await Promise.all([diffJson(r.dir, ['HEAD~2', 'HEAD~1']), diffText(r.dir, ['HEAD~2', 'HEAD~1', '--stat'])])
    assert.deepEqual(doc.files.map(withoutChanges), [{path: r.rel, status: 'modified', kind: 'table', oldSize: Buffer.byteLength(fs.readFileSync(GSM8K)), newSize: r.afterEdit.map((l) => Buffer.byteLength(l) + 1).reduce((a, b) => a + b), key: null, examples: counts(0, 0, r.edited.length)}])
    assert.deepEqual(doc.files[0].changes, r.edited.map((i) => {
      const o = JSON.parse(r.original[i])
      const n = JSON.parse(r.afterEdit[i])
      assert.notEqual(o.answer, n.answer)
      return {change: 'modified', key: null, old: {path: r.rel, line: i + 1}, new: {path: r.rel, line: i + 1}, fields: [{path: 'answer', change: 'changed', old: o.answer, new: n.answer}]}
    }))
    assert.deepEqual(doc.totals.examples, {added: 0, removed: 0, modified: r.edited.length, moved: 0})
    assert.equal(row(lines, r.rel), `${r.rel} modified +0 -0 ~${r.edited.length}`)
  })

  it('one problem deleted and one appended: 1 removed, 1 added, nothing modified', async () => {
    const doc = await diffJson(r.dir, ['HEAD~1', 'HEAD'])
    const f = file(doc, r.rel)
    assert.deepEqual(f.examples, counts(1, 1, 0))
    assert.deepEqual(f.changes, [
      {change: 'removed', key: null, old: {path: r.rel, line: r.deleted + 1}, value: JSON.parse(r.afterEdit[r.deleted])},
      {change: 'added', key: null, new: {path: r.rel, line: r.final.length}, value: r.appended},
    ])
  })
})

describe('dsv diff on real data: Common Voice (pl) validated.tsv (key `path`)', function () {
  this.timeout(120_000)
  let r: NonNullable<Awaited<ReturnType<typeof repos.cv.get>>>

  before(async function () {
    const made = await repos.cv.get()
    if (!made) this.skip()
    r = made
  })

  it('up_votes changed on 3 clips: exactly those 3 examples, field `up_votes` old/new', async () => {
    const doc = await diffJson(r.dir, ['HEAD~2', 'HEAD~1'])
    assert.deepEqual(doc.files.map((f) => [f.path, f.status, f.kind, f.key]), [['cv/validated.tsv', 'modified', 'table', ['path']]])
    assert.deepEqual(doc.files[0].examples, counts(0, 0, r.votes.length))
    assert.deepEqual(doc.files[0].changes, r.votes.map((v) => ({change: 'modified', key: v.key, old: {path: 'cv/validated.tsv', line: v.line}, new: {path: 'cv/validated.tsv', line: v.line}, fields: [{path: 'up_votes', change: 'changed', old: v.old, new: v.new}]})))
  })

  it('3 clips moved from train.tsv to dev.tsv: moved (one with its up_votes edit), not removed + added', async () => {
    const [doc, lines] = await Promise.all([diffJson(r.dir, ['HEAD~1', 'HEAD']), diffText(r.dir, ['HEAD~1', 'HEAD'])])
    assert.deepEqual(doc.files.map((f) => [f.path, f.examples]), [['cv/dev.tsv', counts(0, 0, 0, 3, 0)], ['cv/train.tsv', counts(0, 0, 0, 0, 3)]])
    assert.deepEqual(file(doc, 'cv/dev.tsv').changes, r.moved.map((m, i) => ({
      change: 'moved', key: m.key, old: {path: 'cv/train.tsv', line: m.oldLine}, new: {path: 'cv/dev.tsv', line: m.newLine},
      fields: i === 2 ? [{path: 'up_votes', change: 'changed', old: r.movedVotes.old, new: r.movedVotes.new}] : [],
    })))
    assert.deepEqual(file(doc, 'cv/train.tsv').changes, [])
    assert.deepEqual(doc.totals.examples, {added: 0, removed: 0, modified: 0, moved: 3})
    for (const m of r.moved) hasLine(lines, `  → ${m.key}  moved from cv/train.tsv:${m.oldLine} to line ${m.newLine}`)
  })
})

describe('CSV edge cases: quotes inside unquoted fields, a byte order mark', () => {
  it('a quote inside an unquoted field is an ordinary character: every row stays an example', () => {
    const {dir} = makeRepoFrom(tmp, [], {commit: false})
    const file = path.join(dir, 'screens.csv')
    fs.writeFileSync(file, 'id,size\n1,5" screen\n2,7" screen\n3,x\n4,"quoted ""inch"" mark"\n')
    const {added, removed, modified} = dsvJson(dir, 0, 'commit', '-m', 'v1').examples
    assert.deepEqual({added, removed, modified}, {added: 4, removed: 0, modified: 0})
    fs.writeFileSync(file, 'id,size\n2,7" screen\n3,x\n4,"quoted ""inch"" mark"\n5,1"\n')
    const d = dsvJson(dir, 0, 'diff', '--json')
    const changes = d.files[0].changes.map((ch: {change: string; key: string; value: unknown}) => [ch.change, ch.key, ch.value])
    assert.deepEqual(changes, [
      ['removed', '1', {id: '1', size: '5" screen'}],
      ['added', '5', {id: '5', size: '1"'}],
    ])
    assertExit(dsv(dir, 'commit', '-m', 'v2', '--quiet'), 0)
    assertExit(dsv(dir, 'checkout', 'HEAD~1', '--quiet'), 0)
    assert.equal(fs.readFileSync(file, 'utf8'), 'id,size\n1,5" screen\n2,7" screen\n3,x\n4,"quoted ""inch"" mark"\n')
  })

  it('a byte order mark before the header is not part of the first column name: the key is found', () => {
    const {dir} = makeRepoFrom(tmp, [], {commit: false})
    const file = path.join(dir, 'excel.csv')
    fs.writeFileSync(file, '\ufeffid,text\r\n1,a\r\n2,b\r\n')
    assertExit(dsv(dir, 'commit', '-m', 'v1', '--quiet'), 0)
    fs.writeFileSync(file, '\ufeffid,text\r\n2,b\r\n1,A\r\n3,c\r\n')
    const f = dsvJson(dir, 0, 'diff', '--json').files[0]
    assert.deepEqual(f.key, ['id'])
    assert.deepEqual(f.examples, {added: 1, removed: 0, modified: 1, moved: 0, movedOut: 0})
    const modified = f.changes.find((ch: {change: string}) => ch.change === 'modified')
    assert.deepEqual([modified.key, modified.fields], ['1', [{path: 'text', change: 'changed', old: 'a', new: 'A'}]])
  })
})

describe('the key of a file whose other version has no key field', () => {
  it('an emptied file keeps its key: examples moved out of it show as moves; a keyless first record does not make the file keyless', () => {
    const {dir} = makeRepoFrom(tmp, [], {commit: false})
    fs.writeFileSync(path.join(dir, 'train.jsonl'), '{"id":1,"v":"a"}\n{"id":2,"v":"b"}\n')
    fs.writeFileSync(path.join(dir, 'test.jsonl'), '{"id":0}\n')
    assertExit(dsv(dir, 'commit', '-m', 'v1', '--quiet'), 0)
    fs.writeFileSync(path.join(dir, 'train.jsonl'), '')
    fs.writeFileSync(path.join(dir, 'test.jsonl'), '{"id":0}\n{"id":1,"v":"a"}\n{"id":2,"v":"b"}\n')
    const d = dsvJson(dir, 0, 'diff', '--json')
    assert.deepEqual(d.files.map((f: {path: string; key: string[]}) => [f.path, f.key]), [['test.jsonl', ['id']], ['train.jsonl', ['id']]])
    assert.deepEqual(d.totals.examples, {added: 0, removed: 0, modified: 0, moved: 2})
    assertExit(dsv(dir, 'commit', '-m', 'v2', '--quiet'), 0)
    // a new first record without an id: the other records still pair by key
    fs.writeFileSync(path.join(dir, 'test.jsonl'), '{"note":"header"}\n{"id":0}\n{"id":1,"v":"A"}\n{"id":2,"v":"b"}\n')
    const e = dsvJson(dir, 0, 'diff', '--json').files[0]
    assert.deepEqual(e.key, ['id'])
    assert.deepEqual(e.changes.map((c: {change: string; key: string | null}) => [c.change, c.key]), [['added', null], ['modified', '1']])
    const {added, removed, modified} = dsvJson(dir, 0, 'status').examples
    assert.deepEqual({added, removed, modified}, {added: 1, removed: 0, modified: 1})
  })

  it('the new version\'s key comes first: a file that drops `id` but keeps `uuid` is matched by uuid', () => {
    const {dir} = makeRepoFrom(tmp, [], {commit: false})
    const file = path.join(dir, 'items.jsonl')
    fs.writeFileSync(file, '{"id":1,"uuid":"u-a","text":"a"}\n{"id":2,"uuid":"u-b","text":"b"}\n')
    assertExit(dsv(dir, 'commit', '-m', 'v1', '--quiet'), 0)
    fs.writeFileSync(file, '{"uuid":"u-a","text":"a"}\n{"uuid":"u-b","text":"B"}\n')
    const f = dsvJson(dir, 0, 'diff', '--json').files[0]
    assert.deepEqual(f.key, ['uuid'])
    assert.deepEqual(f.changes.map((c: {change: string; key: string}) => [c.change, c.key]), [['modified', 'u-a'], ['modified', 'u-b']])
  })
})

describe('a CSV header that names a column twice', () => {
  it('keeps both cells as fields (a, a#2): an edit to either shows its value change', async () => {
    const {dir} = makeRepoFrom(tmp, [], {commit: false})
    const file = path.join(dir, 't.csv')
    fs.writeFileSync(file, 'id,a,a\n1,x,y\n2,p,q\n')
    assertExit(dsv(dir, 'commit', '-m', 'v1', '--quiet'), 0)
    fs.writeFileSync(file, 'id,a,a\n1,CHANGED,y\n2,p,Q\n')
    const f = (await runDiffJson(dir, [], 0)).files[0]
    assert.deepEqual(f.changes!.map((c) => [c.key, c.fields]), [
      ['1', [{path: 'a', change: 'changed', old: 'x', new: 'CHANGED'}]],
      ['2', [{path: '"a#2"', change: 'changed', old: 'q', new: 'Q'}]],
    ])
  })
})

describe('CSV/TSV whose columns change', () => {
  it('renamed or swapped columns change the examples (rows of equal bytes hold other values); reordered columns with their cells do not', () => {
    const {dir} = makeRepoFrom(tmp, [], {commit: false})
    const file = path.join(dir, 'pets.csv')
    const tsv = path.join(dir, 'pets.tsv')
    fs.writeFileSync(file, 'id,label\n1,cat\n2,dog\n')
    fs.writeFileSync(tsv, 'id\tlabel\n1\tcat\n2\tdog\n')
    assertExit(dsv(dir, 'commit', '-m', 'v1', '--quiet'), 0)
    const diff = () => dsvJson(dir, 0, 'diff', '--json').files
    // the same columns in another order, each row's cells moved with them: nothing changed but the file
    fs.writeFileSync(file, 'label,id\ncat,1\ndog,2\n')
    assert.deepEqual(diff().map((f: {path: string; examples: object}) => [f.path, f.examples]), [['pets.csv', {added: 0, removed: 0, modified: 0, moved: 0, movedOut: 0}]])
    // a column renamed: every example's fields changed, though no row's bytes did (CSV and TSV)
    fs.writeFileSync(file, 'id,kind\n1,cat\n2,dog\n')
    fs.writeFileSync(tsv, 'id\tkind\n1\tcat\n2\tdog\n')
    for (const f of diff()) {
      assert.deepEqual(f.examples, {added: 0, removed: 0, modified: 2, moved: 0, movedOut: 0}, f.path)
      assert.deepEqual(f.changes[0].fields, [{path: 'kind', change: 'added', new: 'cat'}, {path: 'label', change: 'removed', old: 'cat'}], f.path)
    }
    // commit, status and log count the same
    const {added, removed, modified} = dsvJson(dir, 0, 'commit', '-m', 'v2').examples
    assert.deepEqual({added, removed, modified}, {added: 0, removed: 0, modified: 4})
    // the header names swapped over unchanged rows: the keys become the old labels
    fs.writeFileSync(file, 'kind,id\n1,cat\n2,dog\n')
    const [f] = diff()
    assert.deepEqual(f.changes.map((c: {change: string; key: string}) => [c.change, c.key]).sort(), [['added', 'cat'], ['added', 'dog'], ['removed', '1'], ['removed', '2']])
  })
})

describe('integer ids beyond 2^53 (snowflake ids)', () => {
  it('keys and values keep every digit: two ids a unit apart are two examples, not one "formatting only" change', () => {
    const {dir} = makeRepoFrom(tmp, [], {commit: false})
    const file = path.join(dir, 'tweets.jsonl')
    fs.writeFileSync(file, '{"id":1234567890123456789,"text":"a"}\n{"id":2,"text":"b","ref":"1234567890123456789"}\n')
    assertExit(dsv(dir, 'commit', '-m', 'v1', '--quiet'), 0)
    fs.writeFileSync(file, '{"id":1234567890123456788,"text":"a"}\n{"id":2,"text":"b","ref":"1234567890123456789","big":-98765432109876543210}\n')
    const f = dsvJson(dir, 0, 'diff', '--json').files[0]
    assert.deepEqual(f.changes.map((c: {change: string; key: string}) => [c.change, c.key]), [['added', '1234567890123456788'], ['removed', '1234567890123456789'], ['modified', '2']])
    assert.deepEqual(f.changes[2].fields, [{path: 'big', change: 'added', new: '-98765432109876543210'}])
    const {added, removed, modified} = dsvJson(dir, 0, 'status').examples
    assert.deepEqual({added, removed, modified}, {added: 1, removed: 1, modified: 1})
  })
})

describe('text from the data in human output', () => {
  it('control characters in keys, values and file names are shown escaped (no raw newline or ESC reaches the terminal); Markdown keeps its table and code spans', () => {
    const {dir} = makeRepoFrom(tmp, [], {commit: false})
    const name = 'we|ird`.jsonl'
    fs.writeFileSync(path.join(dir, name), '{"id":"a\\nb\\u001b[31m","v":"x`y"}\n')
    assertExit(dsv(dir, 'commit', '-m', 'v1', '--quiet'), 0)
    fs.writeFileSync(path.join(dir, name), '{"id":"a\\nb\\u001b[31m","v":"x``y|z\\u009b"}\n{"id":"`tick","v":1}\n')
    const human = dsv(dir, 'diff', '--color', 'never')
    assertExit(human, 0)
    assert.ok(!/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/.test(human.stdout), 'no control character but newlines')
    const lines = human.stdout.split('\n')
    assert.ok(lines.includes('  ~ a\\nb\\u001b[31m  (line 1)'), human.stdout)
    assert.ok(lines.includes('      v: "x`y" → "x``y|z\\u009b"'), human.stdout)
    const md = dsv(dir, 'diff', '--format', 'markdown')
    assertExit(md, 0)
    const mdLines = md.stdout.split('\n')
    // the file's row has the table's 9 cell borders (its own | escaped), and code spans fenced past the backticks inside
    const row = mdLines.find((l) => l.startsWith('| ``we'))!
    assert.equal(row.replace(/\\\|/g, '').split('|').length, 10, row)
    assert.ok(mdLines.includes('- **added** `` `tick ``'), md.stdout)
    assert.ok(mdLines.includes('  - `v`: ``"x`y"`` → ```"x``y|z\\u009b"```'), md.stdout)
    assert.ok(mdLines.includes('<details><summary><code>we|ird`.jsonl</code>: 2 example changes</summary>'), md.stdout)
    const status = dsv(dir, 'status')
    assert.ok(status.stdout.includes(`  modified  ${name}  (+1 -0 ~1)`), status.stdout)
  })
})

describe('values that look alike on screen', () => {
  it('shows the differing code points of strings that differ only in Unicode form or invisible characters; other values as they are', () => {
    const {dir} = makeRepoFrom(tmp, [], {commit: false})
    const file = path.join(dir, 'names.jsonl')
    const rows = (v: string[]) => v.map((name, i) => JSON.stringify({id: i, name})).join('\n') + '\n'
    fs.writeFileSync(file, rows(['café', 'New York', 'ab', 'naïve']))
    assertExit(dsv(dir, 'commit', '-m', 'v1', '--quiet'), 0)
    // NFD é; a no-break space; a zero-width space; an ordinary visible edit
    fs.writeFileSync(file, rows(['cafe\u0301', 'New\u00a0York', 'a\u200bb', 'naive']))
    const human = dsv(dir, 'diff', '--color', 'never')
    assertExit(human, 0)
    const lines = human.stdout.split('\n')
    for (const want of ['      name: "caf\\u00e9" → "cafe\\u0301"', '      name: "New York" → "New\\u00a0York"', '      name: "ab" → "a\\u200bb"', '      name: "naïve" → "naive"'])
      assert.ok(lines.includes(want), `${want}\n${human.stdout}`)
    // --json keeps the exact strings
    const changes = dsvJson(dir, 0, 'diff', '--json').files[0].changes
    assert.deepEqual(changes[0].fields, [{path: 'name', change: 'changed', old: 'café', new: 'cafe\u0301'}])
  })
})

describe('dsv diff in a repository without commits', () => {
  it('compares the working tree with an empty version (as status does); an explicit HEAD is still an unknown revision', () => {
    const {dir} = makeRepoFrom(tmp, [], {commit: false})
    fs.writeFileSync(path.join(dir, 'a.jsonl'), '{"id":1}\n{"id":2}\n')
    const d = dsvJson(dir, 0, 'diff', '--json')
    assert.deepEqual(d.from, {label: 'HEAD (no commits yet)', commit: null})
    assert.deepEqual(d.totals.examples, {added: 2, removed: 0, modified: 0, moved: 0})
    assertJsonError(dsv(dir, 'diff', 'HEAD', '--json'), 4, 'E_BAD_REVISION')
  })
})
