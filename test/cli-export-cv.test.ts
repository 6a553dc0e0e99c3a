/**
 * dsv export --profile cv22: the Common Voice corpus layout (real pl data round-trips
 * byte for byte; speaker-disjoint splits) and the aggregate-on-export strategy, with the
 * speech team's worked example.
 */
import assert from 'node:assert/strict'
import {createHash} from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import {parse as parseCsv} from 'csv-parse/sync'
import {TempDirs, assertExit, assertJsonError, dsvAsync, fixturesDir, makeRepoFromAsync, sharedDatasets, type MadeRepo} from './helpers.js'

const CV_COLUMNS = ['client_id', 'path', 'sentence_id', 'sentence', 'sentence_domain', 'up_votes', 'down_votes', 'age', 'gender', 'accents', 'variant', 'locale', 'segment']
const EXTENDED = ['contributor_count', 'upload_contributions', 'practice_sessions', 'practice_ratio', 'data_source_type', 'quality_score', 'first_recorded', 'last_updated']
const CONTRIB_COLUMNS = ['client_id', 'sentence', 'sentence_id', 'path', 'session_type', 'validation_status', 'up_votes', 'down_votes', 'accents', 'locale', 'created_at']

const tsv = (columns: string[], rows: Array<Record<string, string | number>>) => [columns.join('\t'), ...rows.map((r) => columns.map((c) => String(r[c] ?? '')).join('\t'))].join('\n') + '\n'
const readTsv = (file: string) => {
  const [header, ...lines] = fs.readFileSync(file, 'utf8').split('\n').filter((l) => l !== '')
  const cols = header.split('\t')
  return {columns: cols, rows: lines.map((l) => Object.fromEntries(l.split('\t').map((v, i) => [cols[i], v])))}
}
const sha = (s: string) => createHash('sha256').update(s, 'utf8').digest('hex')

const FOX = 'The quick brown fox'
const clips = [
  {client_id: 'cv22_001', path: 'fox.mp3', sentence: FOX, up_votes: 2, down_votes: 0, accents: 'US', locale: 'en'},
  // the original clip table's other sentences: ids kept, metadata from the clips only
  {client_id: 'cv22_002', path: 'lazy.mp3', sentence_id: 'given-id-1', sentence: 'A lazy dog', up_votes: 3, down_votes: 1, gender: 'female', accents: 'IE', locale: 'en'},
  {client_id: 'cv22_003', path: 'rain.mp3', sentence: 'Rain in Spain', up_votes: 1, down_votes: 2, accents: 'ES', locale: 'en'},
]
const contributions = [
  {client_id: 'john@email.com', sentence: FOX, session_type: 'practice', validation_status: 'pending', up_votes: 1, down_votes: 0, locale: 'en', created_at: '2025-03-01T10:00:00Z'},
  {client_id: 'mary@email.com', sentence: FOX, session_type: 'upload', validation_status: 'pending', up_votes: 1, down_votes: 0, accents: 'UK', locale: 'en', created_at: '2025-03-02T10:00:00Z'},
  // Rain in Spain: a validated upload beats the others; a majority of practice records does not
  {client_id: 'ana@email.com', sentence: 'Rain in Spain', session_type: 'practice', validation_status: 'pending', up_votes: 1, accents: 'MX', created_at: '2025-01-01T00:00:00Z'},
  {client_id: 'luis@email.com', sentence: 'Rain in Spain', session_type: 'practice', validation_status: 'pending', up_votes: 1, accents: 'MX', created_at: '2025-01-02T00:00:00Z'},
  {client_id: 'eva@email.com', sentence: 'Rain in Spain', session_type: 'upload', validation_status: 'validated', up_votes: 2, accents: 'AR', created_at: '2025-01-03T00:00:00Z'},
  {client_id: 'eva@email.com', sentence: 'Rain in Spain', session_type: 'upload', validation_status: 'pending', up_votes: 0, accents: 'CL', created_at: '2025-01-04T00:00:00Z'},
  // New words: only contributions; two uploads disagree: the most recent wins the tie
  {client_id: 'p@x.org', sentence: 'New words', session_type: 'upload', validation_status: 'pending', up_votes: 1, accents: 'AU', path: 'n1.mp3', created_at: '2025-02-01T00:00:00Z'},
  {client_id: 'q@x.org', sentence: 'New words', session_type: 'upload', validation_status: 'pending', up_votes: 0, accents: 'NZ', path: 'n2.mp3', created_at: '2025-02-05T00:00:00Z'},
]

const tmp = new TempDirs()
after(() => tmp.cleanup())

describe('dsv export --profile cv22 --aggregate sentence', function () {
  this.timeout(120_000)
  let repo: MadeRepo
  let out: string
  before(async () => {
    repo = await makeRepoFromAsync(tmp, [], {files: {'cv/clips.tsv': tsv(CV_COLUMNS, clips), 'cv/contributions.tsv': tsv(CONTRIB_COLUMNS, contributions)}})
    out = tmp.make('dsv-cv-out-')
  })
  const agg = (...extra: string[]) => dsvAsync(repo.dir, 'export', 'HEAD', '--profile', 'cv22', '--aggregate', 'sentence', '--clips', 'cv/clips.tsv', '--contributions', 'cv/contributions.tsv', ...extra)

  it('the worked example comes out exactly (standard columns, then extended)', async () => {
    const [std, ext] = [path.join(out, 'std.tsv'), path.join(out, 'ext.tsv')]
    const [a, b] = await Promise.all([agg('--output', std), agg('--cv22-format', 'extended', '--output', ext)])
    assertExit(a, 0)
    assertExit(b, 0)
    const s = readTsv(std)
    assert.deepEqual(s.columns, CV_COLUMNS)
    const fox = s.rows.find((r) => r.sentence === FOX)!
    assert.deepEqual(fox, {client_id: 'cv22_001,john@email.com,mary@email.com', path: 'fox.mp3', sentence_id: sha(FOX), sentence: FOX, sentence_domain: '', up_votes: '4', down_votes: '0', age: '', gender: '', accents: 'UK', variant: '', locale: 'en', segment: ''})
    const e = readTsv(ext)
    assert.deepEqual(e.columns, [...CV_COLUMNS, ...EXTENDED])
    const foxExt = e.rows.find((r) => r.sentence === FOX)!
    assert.deepEqual(
      EXTENDED.map((c) => foxExt[c]),
      ['3', '1', '1', '0.5', 'mixed', 'medium', '2025-03-01T10:00:00Z', '2025-03-02T10:00:00Z'],
    )
    // one row per sentence, in the order sentences are first seen (clips, then contributions)
    assert.deepEqual(e.rows.map((r) => r.sentence), [FOX, 'A lazy dog', 'Rain in Spain', 'New words'])
  })

  it('metadata: validated records first, then uploads, practice, clips; majority; the most recent breaks a tie; ids kept or derived', async () => {
    const file = path.join(out, 'meta.tsv')
    assertExit(await agg('--cv22-format', 'extended', '--output', file), 0)
    const rows = Object.fromEntries(readTsv(file).rows.map((r) => [r.sentence, r]))
    assert.equal(rows['Rain in Spain'].accents, 'AR', 'the validated upload outranks two practice records and a later upload')
    assert.equal(rows['Rain in Spain'].client_id, 'ana@email.com,cv22_003,eva@email.com,luis@email.com')
    assert.equal(rows['Rain in Spain'].up_votes, String(1 + 1 + 1 + 2 + 0))
    assert.equal(rows['Rain in Spain'].down_votes, '2')
    assert.equal(rows['Rain in Spain'].path, 'rain.mp3', 'no contribution has a path: the clip gives it')
    assert.equal(rows['New words'].accents, 'NZ', 'two uploads disagree one to one: the most recent wins')
    assert.equal(rows['New words'].path, 'n2.mp3')
    assert.equal(rows['New words'].data_source_type, 'contributions')
    assert.equal(rows['New words'].quality_score, 'reviewed')
    assert.equal(rows['A lazy dog'].sentence_id, 'given-id-1')
    assert.equal(rows['A lazy dog'].gender, 'female')
    assert.equal(rows['A lazy dog'].data_source_type, 'original')
    assert.equal(rows['A lazy dog'].quality_score, 'basic')
    assert.equal(rows['Rain in Spain'].quality_score, 'high', '4 contributors, 5 up-votes')
    assert.equal(rows['Rain in Spain'].practice_ratio, String(Math.round((100 * 2) / 4) / 100))
  })

  it('--quality-filter high | medium | validated', async () => {
    const run = async (f: string) => {
      const file = path.join(out, `q-${f}.tsv`)
      assertExit(await agg('--quality-filter', f, '--output', file), 0)
      return readTsv(file).rows.map((r) => r.sentence)
    }
    const [high, medium, validated] = await Promise.all([run('high'), run('medium'), run('validated')])
    assert.deepEqual(high, ['Rain in Spain'])
    assert.deepEqual(medium, [FOX, 'Rain in Spain'])
    // validated: a validated contribution, or a clip with >= 2 up-votes and more up than down
    assert.deepEqual(validated, [FOX, 'A lazy dog', 'Rain in Spain'])
  })

  it('CSV and JSON output of the same rows; JSON keeps counts as numbers', async () => {
    const [csvFile, jsonFile] = [path.join(out, 'agg.csv'), path.join(out, 'agg.json')]
    const [a, b] = await Promise.all([agg('--format', 'csv', '--output', csvFile), agg('--format', 'json', '--cv22-format', 'extended', '--output', jsonFile)])
    assertExit(a, 0)
    assertExit(b, 0)
    const csvRows = parseCsv(fs.readFileSync(csvFile, 'utf8'), {columns: true}) as Array<Record<string, string>>
    assert.equal(csvRows.find((r) => r.sentence === FOX)!.client_id, 'cv22_001,john@email.com,mary@email.com')
    const json = JSON.parse(fs.readFileSync(jsonFile, 'utf8')) as Array<Record<string, unknown>>
    const fox = json.find((r) => r.sentence === FOX)!
    assert.equal(fox.up_votes, 4)
    assert.equal(fox.contributor_count, 3)
    assert.equal(fox.practice_ratio, 0.5)
    assert.equal(fox.accents, 'UK')
  })

  it('--clips and --contributions default from the rules file (export: cv22: ...), before the column guess', async () => {
    const decoy = tsv(CV_COLUMNS, [{client_id: 'zz', path: 'z.mp3', sentence: 'Not this table', up_votes: 9, locale: 'en'}])
    const rules = 'export:\n  cv22:\n    clips: cv/clips.tsv\n    contributions: [cv/contributions.tsv]\n'
    const r2 = await makeRepoFromAsync(tmp, [], {files: {'cv/clips.tsv': tsv(CV_COLUMNS, clips), 'cv/contributions.tsv': tsv(CONTRIB_COLUMNS, contributions), 'extra/decoy.tsv': decoy, 'dsv.yaml': rules}})
    const file = path.join(out, 'from-rules.tsv')
    const r = await dsvAsync(r2.dir, 'export', 'HEAD', '--profile', 'cv22', '--aggregate', 'sentence', '--output', file, '--json')
    assertExit(r, 0)
    assert.deepEqual(r.json<{profile: {clips: string[]; contributions: string[]}}>().profile, {name: 'cv22', aggregate: 'sentence', cvFormat: 'standard', qualityFilter: null, clips: ['cv/clips.tsv'], contributions: ['cv/contributions.tsv']})
    assert.deepEqual(readTsv(file).rows.map((x) => x.sentence), [FOX, 'A lazy dog', 'Rain in Spain', 'New words'])
  })

  it('usage errors: a typed format, --aggregate without the profile, a filter without --aggregate', async () => {
    const [a, b, c] = await Promise.all([
      agg('--format', 'tfrecord', '--output', path.join(out, 'x.tfrecord'), '--json'),
      dsvAsync(repo.dir, 'export', 'HEAD', '--format', 'tsv', '--aggregate', 'sentence', '--output', path.join(out, 'y.tsv'), '--json'),
      dsvAsync(repo.dir, 'export', 'HEAD', '--profile', 'cv22', '--quality-filter', 'high', '--output', path.join(out, 'z'), '--json'),
    ])
    assertJsonError(a, 2, 'E_USAGE')
    assertJsonError(b, 2, 'E_USAGE')
    assertJsonError(c, 2, 'E_USAGE')
    assert.equal(fs.existsSync(path.join(out, 'z')), false)
  })
})

describe('dsv export --profile cv22: the corpus layout', function () {
  this.timeout(120_000)

  it('fixtures: validated.tsv byte-identical; train/dev/test speaker-disjoint and together the validated clips; invalidated.tsv passed through', async () => {
    const invalid = tsv(CV_COLUMNS, [{client_id: 'bad01', path: 'x.mp3', sentence: 'Nope', up_votes: 0, down_votes: 3, locale: 'en'}])
    const repo = await makeRepoFromAsync(tmp, ['common_voice'], {files: {'common_voice/invalidated.tsv': invalid}})
    const out = path.join(tmp.make('dsv-cv-corpus-'), 'corpus')
    const r = await dsvAsync(repo.dir, 'export', 'HEAD', '--profile', 'cv22', '--output', out, '--files', 'common_voice/*.tsv', '--json')
    assertExit(r, 0)
    const source = fs.readFileSync(path.join(fixturesDir, 'common_voice', 'validated.tsv'))
    assert.ok(fs.readFileSync(path.join(out, 'validated.tsv')).equals(source.at(-1) === 0x0a ? source : Buffer.concat([source, Buffer.from('\n')])))
    assert.equal(fs.readFileSync(path.join(out, 'invalidated.tsv'), 'utf8'), invalid)
    const all = readTsv(path.join(out, 'validated.tsv')).rows
    const parts = ['train', 'dev', 'test'].map((s) => readTsv(path.join(out, `${s}.tsv`)))
    for (const p of parts) assert.deepEqual(p.columns, CV_COLUMNS)
    assert.deepEqual(parts.flatMap((p) => p.rows.map((x) => x.path)).sort(), all.map((x) => x.path).sort())
    const speakers = parts.map((p) => new Set(p.rows.map((x) => x.client_id)))
    for (let i = 0; i < 3; i++) for (let j = i + 1; j < 3; j++) assert.deepEqual([...speakers[i]].filter((s) => speakers[j].has(s)), [])
    assert.deepEqual(r.json<{counts: {perSplit: Record<string, number>}}>().counts.perSplit, {train: parts[0].rows.length, dev: parts[1].rows.length, test: parts[2].rows.length})
  })

  it('real Common Voice (pl): validated.tsv round-trips unchanged, stray quote included, never quoted', async function () {
    const real = path.join(sharedDatasets, 'common-voice-pl', 'validated.tsv')
    if (!fs.existsSync(real)) this.skip()
    const repo = await makeRepoFromAsync(tmp, [], {files: {'cv/validated.tsv': fs.readFileSync(real)}})
    const out = path.join(tmp.make('dsv-cv-real-'), 'corpus')
    assertExit(await dsvAsync(repo.dir, 'export', 'HEAD', '--profile', 'cv22', '--output', out), 0)
    assert.ok(fs.readFileSync(path.join(out, 'validated.tsv')).equals(fs.readFileSync(real)))
    const rows = ['train', 'dev', 'test'].flatMap((s) => readTsv(path.join(out, `${s}.tsv`)).rows)
    assert.equal(rows.length, readTsv(real).rows.length)
  })
})
