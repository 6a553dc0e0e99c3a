/**
 * End to end: `dsv quality check` / `dsv quality compare` and the commit gate — the real `dsv`
 * binary on real files in temp dirs. The known-defect datasets live in test/data/quality/
 * (README.md there lists every planted defect); every expected count below is derived from
 * the DEFECTS table that mirrors that list, or computed by hand from the documented score
 * formula, never copied from a dsv run. The real datasets of ../shared/datasets get a check too.
 */
import assert from 'node:assert/strict'
import fs from 'node:fs'
import path from 'node:path'
import {
  TempDirs,
  assertExit,
  assertJsonError,
  dsvAsync,
  makeRepoFromAsync,
  prepareAll,
  prepared,
  repoRoot,
  sharedDatasets,
  type RunResult,
  type StatusDoc,
} from './helpers.js'

const DATA = path.join(repoRoot, 'test', 'data', 'quality')

const tmp = new TempDirs()
after(() => tmp.cleanup())

type Check = 'completeness' | 'consistency' | 'validity' | 'uniqueness' | 'referential'
const CHECK_ORDER: Check[] = ['completeness', 'consistency', 'validity', 'uniqueness', 'referential']
const DEFAULT_THRESHOLDS = {completeness: 95, consistency: 90, validity: 95, uniqueness: null, referential: null, overall: 90}

// ---------------------------------------------------------------- helpers

async function jsonOf<T = any>(p: Promise<RunResult>, code = 0): Promise<T> {
  const r = await p
  assertExit(r, code)
  return r.json<T>()
}

/** A check's score: the share of examples passing, in percent with one decimal. */
function pct(passed: number, total: number): number {
  return total === 0 ? 100 : Math.round((1000 * passed) / total) / 10
}

/** The overall score: the mean of the check scores, one decimal. */
function overallOf(scores: number[]): number {
  return Math.round((10 * scores.reduce((s, x) => s + x, 0)) / scores.length) / 10
}

function checkResult(passed: number, total: number, threshold: number | null) {
  const score = pct(passed, total)
  return {score, passed, failed: total - passed, threshold, ok: threshold === null || score >= threshold}
}

function tierOf(score: number): 'gold' | 'silver' | 'bronze' | 'rejected' {
  return score >= 90 ? 'gold' : score >= 75 ? 'silver' : score >= 60 ? 'bronze' : 'rejected'
}

/** Examples in a data file: non-blank lines, minus the header of a TSV/CSV. */
function examplesIn(file: string): number {
  const lines = fs.readFileSync(file, 'utf8').split('\n').filter((l) => l.trim() !== '')
  return /\.(tsv|csv)$/.test(file) ? lines.length - 1 : lines.length
}

/** A temp dir holding a copy of test/data/quality/<name>, `dsv init`ed (and committed with `commit`). */
async function repoFromData(name: string, commit?: string): Promise<{dir: string; first?: string}> {
  const dir = tmp.make('dsv-quality-')
  fs.cpSync(path.join(DATA, name), dir, {recursive: true})
  assertExit(await dsvAsync(dir, 'init', '--quiet'), 0, 'dsv init')
  if (!commit) return {dir}
  return {dir, first: (await jsonOf(dsvAsync(dir, 'commit', '-m', commit, '--json'))).id}
}

/** A temp dir with these files, `dsv init`ed. */
async function repoWithFiles(files: Record<string, string>): Promise<string> {
  const dir = tmp.make('dsv-quality-')
  writeFiles(dir, files)
  assertExit(await dsvAsync(dir, 'init', '--quiet'), 0, 'dsv init')
  return dir
}

function writeFiles(dir: string, files: Record<string, string>): void {
  for (const [rel, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, rel)), {recursive: true})
    fs.writeFileSync(path.join(dir, rel), text)
  }
}

const jsonl = (rows: unknown[]) => rows.map((r) => JSON.stringify(r)).join('\n') + '\n'

/** A clean golden-profile example (validated, quality 1.0, class A) with overrides; undefined drops a field. */
function golden(id: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const row: Record<string, unknown> = {id, input_data: {text: `contact ${id}`}, expected_output: {tier: 'A'}, quality_score: 1, validation_status: 'validated', validated_by: 'ann@example.com', ...extra}
  for (const k of Object.keys(row)) if (row[k] === undefined) delete row[k]
  return row
}

const GOLDEN_RULES = (gate: boolean) => `gate: ${gate}\nfiles:\n  - pattern: "golden/*.jsonl"\n    profile: golden\n`

// ---------------------------------------------------------------- the planted defects (test/data/quality/README.md)

interface Defect {
  path: string
  line: number
  key: string | null
  check: Check
  rule: string
  detail?: string
}

const STATUS = 'validation_status not one of "validated", "pending", "rejected", "needs_review"'
const LEAK = (why: 'key' | 'content' | 'group') => `leakage between splits: same ${why} in two splits`

const DEFECTS: Defect[] = [
  // golden (profile golden)
  {path: 'golden/train.jsonl', line: 4, key: 'g04', check: 'completeness', rule: 'input_data is missing or empty'},
  {path: 'golden/train.jsonl', line: 5, key: 'g05', check: 'completeness', rule: 'expected_output is missing or empty'},
  {path: 'golden/train.jsonl', line: 6, key: 'g06', check: 'completeness', rule: 'input_data is not an object', detail: '"just a string"'},
  {path: 'golden/train.jsonl', line: 7, key: 'g07', check: 'consistency', rule: 'a validated example names who validated it (validated_by)'},
  {path: 'golden/train.jsonl', line: 8, key: 'g08', check: 'validity', rule: 'quality_score outside [0, 1]', detail: '1.5'},
  {path: 'golden/train.jsonl', line: 9, key: 'g09', check: 'validity', rule: STATUS, detail: '"approved"'},
  {path: 'golden/train.jsonl', line: 10, key: 'g10', check: 'validity', rule: 'labels is not an object', detail: '["billing"]'},
  {path: 'golden/train.jsonl', line: 11, key: 'g01', check: 'uniqueness', rule: 'duplicate key in golden/train.jsonl', detail: 'g01'},
  {path: 'golden/train.jsonl', line: 3, key: 'g03', check: 'uniqueness', rule: LEAK('key'), detail: 'train'},
  {path: 'golden/test.jsonl', line: 2, key: 'g03', check: 'uniqueness', rule: LEAK('key'), detail: 'test'},
  // stt (profile stt-failed, corrected_transcript length 1..80)
  {path: 'stt/stt_failed.jsonl', line: 3, key: 's03', check: 'completeness', rule: 'error_types is missing or empty'},
  {path: 'stt/stt_failed.jsonl', line: 4, key: 's04', check: 'completeness', rule: 'original_transcript is not a string', detail: '42'},
  {path: 'stt/stt_failed.jsonl', line: 5, key: 's05', check: 'consistency', rule: 'a correction must differ from the original transcript', detail: '"Call me at noon."'},
  {path: 'stt/stt_failed.jsonl', line: 6, key: 's06', check: 'validity', rule: 'error_score outside [0, 1]', detail: '1.2'},
  {path: 'stt/stt_failed.jsonl', line: 7, key: 's07', check: 'validity', rule: STATUS, detail: '"done"'},
  {path: 'stt/stt_failed.jsonl', line: 8, key: 's08', check: 'validity', rule: 'corrected_transcript length outside [1, 80]', detail: '87'},
  {path: 'stt/stt_failed.jsonl', line: 9, key: 's09', check: 'referential', rule: 'audio_path names a file that is not in the dataset', detail: 'audio/missing.wav'},
  {path: 'stt/stt_failed.jsonl', line: 10, key: 's01', check: 'uniqueness', rule: 'duplicate key in stt/stt_failed.jsonl', detail: 's01'},
  // cv (profile common-voice; TSV, header on line 1)
  {path: 'cv/train.tsv', line: 4, key: 'c03.mp3', check: 'completeness', rule: 'client_id is missing or empty'},
  {path: 'cv/train.tsv', line: 5, key: 'c04.mp3', check: 'completeness', rule: 'down_votes is not an integer', detail: '"1.5"'},
  {path: 'cv/train.tsv', line: 6, key: 'c05.mp3', check: 'validity', rule: 'down_votes outside ≥ 0', detail: '"-1"'},
  {path: 'cv/train.tsv', line: 7, key: 'c06.mp3', check: 'validity', rule: 'sentence length outside [1, 500]', detail: '501'},
  {path: 'cv/train.tsv', line: 8, key: 'c07.mp3', check: 'referential', rule: 'path names a file that is not in the dataset', detail: 'cv/clips/c07.mp3'},
  {path: 'cv/train.tsv', line: 9, key: 'c01.mp3', check: 'uniqueness', rule: 'duplicate key in cv/train.tsv', detail: 'c01.mp3'},
  {path: 'cv/train.tsv', line: 2, key: 'c01.mp3', check: 'uniqueness', rule: LEAK('group'), detail: 'train'},
  {path: 'cv/test.tsv', line: 3, key: 'd02.mp3', check: 'uniqueness', rule: LEAK('group'), detail: 'test'},
  // chats (profile conversations + "validated needs validated_by")
  {path: 'chats/chats.jsonl', line: 3, key: 'v03', check: 'completeness', rule: 'messages is missing or empty'},
  {path: 'chats/chats.jsonl', line: 4, key: 'v04', check: 'completeness', rule: 'messages is not an array', detail: '{"role":"user","content":"hi"}'},
  {path: 'chats/chats.jsonl', line: 4, key: 'v04', check: 'validity', rule: 'schema: /messages must be array', detail: '{"type":"array"}'},
  {path: 'chats/chats.jsonl', line: 5, key: 'v05', check: 'validity', rule: "schema: /messages/1 must have required property 'role'", detail: '{"missingProperty":"role"}'},
  {path: 'chats/chats.jsonl', line: 6, key: 'v06', check: 'validity', rule: 'schema: /messages/0/role must be equal to one of the allowed values', detail: '{"allowedValues":["system","user","assistant","tool"]}'},
  {path: 'chats/chats.jsonl', line: 7, key: 'v07', check: 'validity', rule: STATUS, detail: '"unknown"'},
  {path: 'chats/chats.jsonl', line: 8, key: 'v08', check: 'consistency', rule: 'validated_by is required when validation_status is "validated"'},
  {path: 'chats/chats.jsonl', line: 9, key: 'v02', check: 'uniqueness', rule: 'duplicate key in chats/chats.jsonl', detail: 'v02'},
  {path: 'chats/chats.jsonl', line: 9, key: 'v02', check: 'uniqueness', rule: 'duplicate content in chats/chats.jsonl'},
  // plain (keyless, required prompt + completion)
  {path: 'plain/train.jsonl', line: 3, key: null, check: 'uniqueness', rule: 'duplicate content in plain/train.jsonl'},
  {path: 'plain/train.jsonl', line: 4, key: null, check: 'completeness', rule: 'completion is missing or empty'},
  {path: 'plain/train.jsonl', line: 2, key: null, check: 'uniqueness', rule: LEAK('content'), detail: 'train'},
  {path: 'plain/test.jsonl', line: 2, key: null, check: 'uniqueness', rule: LEAK('content'), detail: 'test'},
]
/** The clip under cv/clips/ that no row references. */
const ORPHANS = ['cv/clips/orphan.mp3']
/** The data files of defects/ with their pattern, profile and split. */
const DEFECT_FILES = [
  {path: 'chats/chats.jsonl', pattern: 'chats/chats.jsonl', profile: 'conversations', split: null},
  {path: 'cv/test.tsv', pattern: 'cv/*.tsv', profile: 'common-voice', split: 'test'},
  {path: 'cv/train.tsv', pattern: 'cv/*.tsv', profile: 'common-voice', split: 'train'},
  {path: 'golden/test.jsonl', pattern: 'golden/*.jsonl', profile: 'golden', split: 'test'},
  {path: 'golden/train.jsonl', pattern: 'golden/*.jsonl', profile: 'golden', split: 'train'},
  {path: 'plain/test.jsonl', pattern: 'plain/*.jsonl', profile: null, split: 'test'},
  {path: 'plain/train.jsonl', pattern: 'plain/*.jsonl', profile: null, split: 'train'},
  {path: 'stt/stt_failed.jsonl', pattern: 'stt/stt_failed.jsonl', profile: 'stt-failed', split: null},
]
/** Files whose profile references other files (common-voice: clips; stt-failed: audio_path). */
const REFERENCING = (p: string) => p.startsWith('cv/') || p.startsWith('stt/')

/**
 * What a check of the defects dataset restricted to `prefix` ('' for all; or several) must
 * report; `fixed` leaves out defects repaired since, `orphans` replaces ORPHANS.
 */
function expectedReport(prefix: string | string[], thresholds: Record<string, number | null> = DEFAULT_THRESHOLDS, fixed: (d: Defect) => boolean = () => false, orphanPaths = ORPHANS) {
  const within = (p: string) => (Array.isArray(prefix) ? prefix : [prefix]).some((x) => p.startsWith(x))
  const files = DEFECT_FILES.filter((f) => within(f.path)).map((f) => ({...f, examples: examplesIn(path.join(DATA, 'defects', f.path))}))
  const defects = DEFECTS.filter((d) => within(d.path) && !fixed(d))
  const examples = files.reduce((s, f) => s + f.examples, 0)
  const referencing = files.filter((f) => REFERENCING(f.path)).reduce((s, f) => s + f.examples, 0)
  const failing = (check: Check) => new Set(defects.filter((d) => d.check === check).map((d) => `${d.path}:${d.line}`)).size
  const checks: Record<string, ReturnType<typeof checkResult>> = {}
  for (const c of CHECK_ORDER) {
    const total = c === 'referential' ? referencing : examples
    if (total > 0) checks[c] = checkResult(total - failing(c), total, thresholds[c] ?? null)
  }
  const overallScore = overallOf(Object.values(checks).map((c) => c.score))
  const okCount = Object.values(checks).filter((c) => c.ok).length
  const overall = {score: overallScore, passed: okCount, failed: Object.keys(checks).length - okCount, threshold: thresholds.overall, ok: overallScore >= thresholds.overall!}
  const groups = new Map<string, {check: Check; rule: string; count: number; instances: Array<{path: string; line: number; key: string | null; detail?: string}>}>()
  for (const d of defects) {
    const id = `${d.check}\0${d.rule}`
    if (!groups.has(id)) groups.set(id, {check: d.check, rule: d.rule, count: 0, instances: []})
    const g = groups.get(id)!
    g.count++
    g.instances.push({path: d.path, line: d.line, key: d.key, ...(d.detail ? {detail: d.detail} : {})})
  }
  // orphans: files of the folder the CV tables reference, when the CV tables are checked
  const orphans = files.some((f) => f.path.startsWith('cv/')) ? orphanPaths : []
  if (orphans.length > 0) groups.set('orphans', {check: 'referential', rule: 'files in a referenced folder that no example references', count: orphans.length, instances: orphans.map((p) => ({path: p, line: 0, key: null}))})
  for (const g of groups.values()) assert.ok(g.instances.length <= 3, 'every planted problem lists all its instances (at most 3)')
  return {examples, files, checks, overall, passed: Object.values(checks).every((c) => c.ok) && overall.ok, problems: normaliseProblems([...groups.values()]), orphans: {count: orphans.length, paths: orphans}}
}

/** Problems in a canonical order (the report orders by check, then count; ties as found). */
function normaliseProblems(problems: any[]): any[] {
  const byPlace = (a: any, b: any) => a.path.localeCompare(b.path) || a.line - b.line
  return problems
    .map((p) => ({...p, instances: [...p.instances].sort(byPlace)}))
    .sort((a, b) => CHECK_ORDER.indexOf(a.check) - CHECK_ORDER.indexOf(b.check) || a.rule.localeCompare(b.rule))
}

function assertProblemOrder(problems: Array<{check: Check; count: number}>): void {
  for (let i = 1; i < problems.length; i++) {
    const [a, b] = [problems[i - 1], problems[i]]
    const order = CHECK_ORDER.indexOf(a.check) - CHECK_ORDER.indexOf(b.check)
    assert.ok(order < 0 || (order === 0 && a.count >= b.count), `problems ordered by check, then by count: ${JSON.stringify(a)} before ${JSON.stringify(b)}`)
  }
}

/** Asserts a `quality check --json` document against expectedReport(). */
function assertReport(doc: any, want: ReturnType<typeof expectedReport>): void {
  assert.equal(doc.examples, want.examples, 'examples')
  assert.deepEqual([...doc.files].sort((a: any, b: any) => a.path.localeCompare(b.path)), want.files, 'files')
  assert.deepEqual(doc.checks, want.checks, 'checks')
  assert.deepEqual(doc.overall, want.overall, 'overall')
  assert.equal(doc.passed, want.passed, 'passed')
  assert.deepEqual(normaliseProblems(doc.problems), want.problems, 'problems')
  assertProblemOrder(doc.problems)
  assert.deepEqual(doc.orphans, want.orphans, 'orphans')
  const tiers = doc.scores.tiers
  assert.equal(tiers.gold + tiers.silver + tiers.bronze + tiers.rejected, want.examples, 'every example has a tier')
}

// ---------------------------------------------------------------- repositories, prepared at once

const COMPARE_V1 = [golden('k1'), golden('k2', {quality_score: 2}), golden('k3', {validated_by: undefined}), golden('k4'), golden('k5'), golden('k6')]
const COMPARE_V2 = [golden('k1'), golden('k2'), golden('k3', {validated_by: undefined}), golden('k4', {validation_status: 'approved'}), golden('k5'), golden('k6'), golden('k5', {quality_score: 0.9, input_data: {text: 'same key as line 5'}})]

const repos = {
  defects: prepared(() => repoFromData('defects')),
  scores: prepared(() => repoFromData('scores')),
  /** v1 (tag v1): defects with the default thresholds; v2 (HEAD): only the rules change; worktree: stt line 3 (s03) removed */
  history: prepared(async () => {
    const {dir, first} = await repoFromData('defects', 'v1: defects, default thresholds')
    assertExit(await dsvAsync(dir, 'tag', 'v1', '--quiet'), 0)
    fs.appendFileSync(path.join(dir, 'dsv.yaml'), 'thresholds: {completeness: 80, validity: 70, overall: 84}\n')
    const second = (await jsonOf(dsvAsync(dir, 'commit', '-m', 'v2: lower thresholds', '--json'))).id as string
    const stt = path.join(dir, 'stt/stt_failed.jsonl')
    fs.writeFileSync(stt, fs.readFileSync(stt, 'utf8').split('\n').filter((_, i) => i !== 2).join('\n'))
    return {dir, v1: first!, v2: second}
  }),
  compare: prepared(async () => {
    const dir = await repoWithFiles({'dsv.yaml': GOLDEN_RULES(false), 'golden/data.jsonl': jsonl(COMPARE_V1)})
    const v1 = (await jsonOf(dsvAsync(dir, 'commit', '-m', 'v1', '--json'))).id as string
    fs.writeFileSync(path.join(dir, 'golden/data.jsonl'), jsonl(COMPARE_V2))
    const v2 = (await jsonOf(dsvAsync(dir, 'commit', '-m', 'v2', '--json'))).id as string
    // the working tree fixes k3
    fs.writeFileSync(path.join(dir, 'golden/data.jsonl'), jsonl(COMPARE_V2.map((r) => (r.id === 'k3' ? golden('k3') : r))))
    return {dir, v1, v2}
  }),
  fixtures: prepared(() => makeRepoFromAsync(tmp, ['dsv.yaml', 'golden', 'common_voice', 'conversations'], {commit: false})),
  /** a copy of defects/ checked once (cv/ and stt/), to change and check again */
  recheck: prepared(async () => {
    const {dir} = await repoFromData('defects')
    return {dir, first: await jsonOf(dsvAsync(dir, 'quality', 'check', '--json', '--', 'cv/', 'stt/'), 9)}
  }),
  /** two small traps for the counting, checked once (thresholds 0: only the counts matter) */
  probes: prepared(async () => {
    // d/train.jsonl: a, b, b (line 3 duplicates line 2); d/test.jsonl: b, b (line 2 duplicates line 1)
    const b = JSON.stringify({id: 'b', text: 'bee'})
    const dir = await repoWithFiles({
      'dsv.yaml': [
        'thresholds: {completeness: 0, consistency: 0, validity: 0, overall: 0}',
        'files:',
        '  - pattern: "d/*.jsonl"',
        '    key: id',
        '  - pattern: s.jsonl',
        '    key: id',
        '    types: {score: number}',
        '    ranges: {score: {min: 0, max: 1}}',
        '',
      ].join('\n'),
      'd/train.jsonl': `${JSON.stringify({id: 'a', text: 'ay'})}\n${b}\n${b}\n`,
      'd/test.jsonl': `${b}\n${b}\n`,
      's.jsonl': jsonl([{id: 'x', score: 'high'}, {id: 'y', score: 0.5}]),
    })
    return jsonOf(dsvAsync(dir, 'quality', 'check', '--json'))
  }),
}
prepareAll(repos)

// ---------------------------------------------------------------- the checks, on known defects

describe('dsv quality check: every check on known-defect fixtures', () => {
  let dir: string
  before(async () => {
    ;({dir} = await repos.defects.get())
  })

  for (const [name, prefix] of [['golden profile', 'golden/'], ['stt-failed profile', 'stt/'], ['common-voice profile', 'cv/'], ['conversations profile', 'chats/'], ['keyless file without a profile', 'plain/']] as const) {
    it(`${name} (-- ${prefix}): exact passed/failed per check, problems with path, line and key, overall`, async () => {
      const want = expectedReport(prefix)
      // sanity: the planted defects really are in the files we copied
      assert.ok(DEFECTS.some((d) => d.path.startsWith(prefix)))
      const r = await dsvAsync(dir, 'quality', 'check', '--json', '--', prefix)
      assertExit(r, want.passed ? 0 : 9)
      const doc = r.json()
      assert.equal(doc.target, 'working tree')
      assert.equal(doc.commit, null)
      assert.equal(doc.rules, 'dsv.yaml')
      assertReport(doc, want)
    })
  }

  it('the whole dataset: the sum of the parts, and exit 9 E_QUALITY_FAILED with the report still on stdout', async () => {
    const want = expectedReport('')
    assert.equal(want.examples, 50)
    assert.equal(want.passed, false)
    const r = await dsvAsync(dir, 'quality', 'check', '--json')
    assertExit(r, 9)
    const doc = r.json()
    assert.equal(doc.error, undefined, 'the report, not an error document')
    assertReport(doc, want)
    // the same problem rule in three profiles is one problem with three instances
    const status = doc.problems.find((p: any) => p.rule === STATUS)
    assert.deepEqual(status.instances.map((i: any) => `${i.path}:${i.line}`).sort(), ['chats/chats.jsonl:7', 'golden/train.jsonl:9', 'stt/stt_failed.jsonl:7'])
    // one row failing two checks (chats line 4) counts once in each
    assert.equal(doc.checks.completeness.failed, new Set(DEFECTS.filter((d) => d.check === 'completeness').map((d) => `${d.path}:${d.line}`)).size)
    // the worst list: lowest first, each a real row with its key
    const scores = doc.worst.map((w: any) => w.score)
    assert.deepEqual(scores, [...scores].sort((a, b) => a - b))
    for (const w of doc.worst) {
      assert.equal(w.tier, tierOf(w.score))
      assert.ok(DEFECT_FILES.some((f) => f.path === w.path) && w.line >= 1)
    }
  })

  it('a single split file alone shows no leakage (`-- golden/train.jsonl`)', async () => {
    const doc = await jsonOf(dsvAsync(dir, 'quality', 'check', '--json', '--', 'golden/train.jsonl'), 9)
    const rows = examplesIn(path.join(DATA, 'defects/golden/train.jsonl'))
    assert.equal(doc.examples, rows)
    assert.deepEqual(doc.files.map((f: any) => f.path), ['golden/train.jsonl'])
    // only the duplicate key on line 11: leakage needs the other split
    assert.deepEqual(doc.checks.uniqueness, checkResult(rows - 1, rows, null))
    assert.deepEqual(doc.problems.filter((p: any) => p.check === 'uniqueness').map((p: any) => p.rule), ['duplicate key in golden/train.jsonl'])
  })

  it('an example that is both a duplicate and leaked counts once in uniqueness', async () => {
    const doc = await repos.probes.get()
    // d/: 5 examples, every b is in both splits (4 fail), a passes; s.jsonl: 2 examples, both unique
    assert.equal(doc.examples, 7)
    const leak = doc.problems.find((p: any) => p.rule === LEAK('key'))
    assert.equal(leak.count, 4)
    assert.deepEqual(doc.checks.uniqueness, checkResult(3, 7, null))
  })

  it('a problem counts each example once, even when two settings flag the same value', async () => {
    const doc = await repos.probes.get()
    // s.jsonl line 1: score "high" breaks the type (number) and the range (0..1), with one message
    assert.deepEqual(doc.checks.validity, checkResult(6, 7, 0))
    const p = doc.problems.filter((q: any) => q.check === 'validity')
    assert.deepEqual(p, [{check: 'validity', rule: 'score is not a number', count: 1, instances: [{path: 's.jsonl', line: 1, key: 'x', detail: '"high"'}]}])
  })

  it('a second check sees what changed since the first: a clip added, an orphan deleted, a rule relaxed', async () => {
    const {dir, first} = await repos.recheck.get()
    assertReport(first, expectedReport(['cv/', 'stt/']))
    fs.writeFileSync(path.join(dir, 'cv/clips/c07.mp3'), 'ID3 the missing clip, downloaded\n')
    fs.rmSync(path.join(dir, 'cv/clips/orphan.mp3'))
    const rules = path.join(dir, 'dsv.yaml')
    fs.writeFileSync(rules, fs.readFileSync(rules, 'utf8').replace('{min: 1, max: 80}', '{min: 1, max: 100}'))
    const doc = await jsonOf(dsvAsync(dir, 'quality', 'check', '--json', '--', 'cv/', 'stt/'), 9)
    // c07's clip exists now; s08's 87 characters are within 1..100; no clip is left unreferenced
    const repaired = (d: Defect) => (d.key === 'c07.mp3' && d.check === 'referential') || (d.key === 's08' && d.check === 'validity')
    assert.equal(DEFECTS.filter(repaired).length, 2)
    const want = expectedReport(['cv/', 'stt/'], DEFAULT_THRESHOLDS, repaired, [])
    assert.equal(want.checks.referential.failed, 1, 'only s09 still names a missing file')
    assertReport(doc, want)
  })

  it('the bundled fixtures with fixtures/dsv.yaml: 124 examples, the 18 CV rows without a clip are referential failures', async () => {
    const {dir: fx} = await repos.fixtures.get()
    const doc = await jsonOf(dsvAsync(fx, 'quality', 'check', '--json'))
    const sizes = {golden: 60, stt: 25, cv: 24, chats: 15} // fixtures/README.md
    assert.equal(doc.examples, sizes.golden + sizes.stt + sizes.cv + sizes.chats)
    // README: 6 clips shipped for the first 6 CV rows; every stt audio_path is a shipped clip
    assert.deepEqual(doc.checks.referential, checkResult(sizes.cv + sizes.stt - 18, sizes.cv + sizes.stt, null))
    const ref = doc.problems.find((p: any) => p.check === 'referential')
    assert.equal(ref.rule, 'path names a file that is not in the dataset')
    assert.equal(ref.count, 18)
    assert.deepEqual(ref.instances.map((i: any) => [i.path, i.line]), [['common_voice/validated.tsv', 8], ['common_voice/validated.tsv', 9], ['common_voice/validated.tsv', 10]])
    assert.equal(doc.orphans.count, 0)
    for (const c of ['completeness', 'consistency', 'validity', 'uniqueness'] as const) assert.deepEqual(doc.checks[c].failed, 0, c)
    assert.equal(doc.passed, true)
  })
})

// ---------------------------------------------------------------- per-example scores

describe('dsv quality check: per-example scores and tiers', () => {
  // test/data/quality/scores/golden/scored.jsonl, scored by hand (README.md there):
  // 30 completeness + 40 correctness + 15 clarity (quality_score) + 15 representativeness
  const rows = 7
  const evenShare = rows / 3 // classes A (3 rows), B (3 rows), C (1 row)
  const expected = [
    {line: 1, key: 'e1', score: 30 + 40 + 15 + 15, issues: []},
    {line: 2, key: 'e2', score: 30 + 0 + 15 + 15, issues: ['no human-validated label (validation_status)']},
    {line: 3, key: 'e3', score: 30 + 40 + 15 * 0.6 + 15, issues: []},
    {line: 4, key: 'e4', score: 30 + 40 * 0.5 + 15 + 15, issues: ['a validated example names who validated it (validated_by)']},
    {line: 5, key: 'e5', score: 30 * (3 / 4) + 40 + 15 + 15, issues: ['input_data is missing or empty']},
    {line: 6, key: 'e6', score: 30 + 0 + 0 + 15, issues: ['no human-validated label (validation_status)', 'low confidence or agreement']},
    {line: 7, key: 'e7', score: 30 + 40 + 15 + 15 * Math.min(1, 1 / evenShare), issues: ['rare class expected_output.tier = C']},
  ]

  it('tiers, mean and silver-or-better follow the formula; the worst list is lowest first with its reasons', async () => {
    const {dir} = await repos.scores.get()
    const doc = await jsonOf(dsvAsync(dir, 'quality', 'check', '--json'), 9)
    assert.equal(doc.examples, rows)
    const tiers = {gold: 0, silver: 0, bronze: 0, rejected: 0}
    for (const e of expected) tiers[tierOf(e.score)]++
    assert.deepEqual(tiers, {gold: 4, silver: 1, bronze: 1, rejected: 1}, 'the hand computation itself')
    const mean = Math.round((10 * expected.reduce((s, e) => s + e.score, 0)) / rows) / 10
    assert.deepEqual(doc.scores, {mean, tiers, silverOrBetter: pct(tiers.gold + tiers.silver, rows)})
    // offenders only: gold examples with nothing to fix (e1, e3) are not listed
    const worst = [...expected].filter((e) => tierOf(Math.round(e.score)) !== 'gold' || e.issues.length > 0).sort((a, b) => Math.round(a.score) - Math.round(b.score) || a.line - b.line)
    assert.deepEqual(doc.worst, worst.map((e) => ({path: 'golden/scored.jsonl', line: e.line, key: e.key, score: Math.round(e.score), tier: tierOf(Math.round(e.score)), issues: e.issues})))
    assert.deepEqual(doc.worst.map((w: any) => w.key), ['e6', 'e2', 'e4', 'e7', 'e5'])
    // completeness (e5) and consistency (e4) each fail 1 of 7; the tiers do not decide pass/fail
    assert.deepEqual(doc.checks.completeness, checkResult(6, 7, 95))
    assert.deepEqual(doc.checks.consistency, checkResult(6, 7, 90))
    assert.equal(doc.passed, false)
  })
})

// ---------------------------------------------------------------- thresholds, revisions, paths

/** The thresholds of the history repository's v2 rules file. */
const V2_THRESHOLDS = {...DEFAULT_THRESHOLDS, completeness: 80, validity: 70, overall: 84}

describe('dsv quality check: thresholds, REV and paths', () => {
  let h: {dir: string; v1: string; v2: string}
  before(async () => {
    h = await repos.history.get()
  })

  it('v1 with the default thresholds fails (exit 9); v2 checks with its own, lower, thresholds and passes at the boundaries', async () => {
    const [r1, r2] = await Promise.all([
      dsvAsync(h.dir, 'quality', 'check', 'v1', '--json', '--', 'stt/'),
      dsvAsync(h.dir, 'quality', 'check', 'HEAD', '--json', '--', 'stt/'),
    ])
    assertExit(r1, 9)
    const d1 = r1.json()
    assert.equal(d1.target, 'v1')
    assert.equal(d1.commit, h.v1)
    assert.equal(d1.rules, 'dsv.yaml')
    assertReport(d1, expectedReport('stt/'))
    assert.deepEqual(Object.fromEntries(Object.entries(d1.checks).map(([k, c]: [string, any]) => [k, c.threshold])), {completeness: 95, consistency: 90, validity: 95, uniqueness: null, referential: null})
    assert.equal(d1.overall.threshold, 90)
    // consistency: 9 of 10 = 90% ≥ 90%: exactly at the threshold passes
    assert.deepEqual(d1.checks.consistency, {score: 90, passed: 9, failed: 1, threshold: 90, ok: true})

    assertExit(r2, 0)
    const d2 = r2.json()
    assert.equal(d2.commit, h.v2)
    const want = expectedReport('stt/', V2_THRESHOLDS)
    assert.deepEqual([want.checks.completeness.score, want.checks.validity.score, want.overall.score], [80, 70, 84], 'the v2 thresholds sit exactly on the scores')
    assert.equal(want.passed, true)
    assertReport(d2, want)
  })

  it('--min-score overrides the overall threshold only: 85 fails v2 (exit 9); out of range is a usage error', async () => {
    const hi = await dsvAsync(h.dir, 'quality', 'check', 'HEAD', '--min-score', '85', '--json', '--', 'stt/')
    assertExit(hi, 9)
    const d = hi.json()
    const want = expectedReport('stt/', {...V2_THRESHOLDS, overall: 85})
    assert.equal(want.overall.ok, false)
    assert.deepEqual(d.overall, want.overall)
    assert.equal(d.checks.completeness.threshold, 80, 'the other thresholds stay those of the rules file')
    assert.equal(d.passed, false)
    // out of range: a usage error
    assertJsonError(await dsvAsync(h.dir, 'quality', 'check', 'HEAD', '--min-score', '101', '--json'), 2, 'E_USAGE')
  })

  it('the working tree is checked by default (stt line 3 removed since v2); paths and REV combine', async () => {
    const [wt, g1] = await Promise.all([
      dsvAsync(h.dir, 'quality', 'check', '--json', '--', 'stt/'),
      dsvAsync(h.dir, 'quality', 'check', 'v1', '--json', '--', 'golden/'),
    ])
    assertExit(wt, 9) // the working tree has the v2 thresholds: completeness 8/9 passes, validity 6/9 does not
    const d = wt.json()
    assert.equal(d.target, 'working tree')
    assert.equal(d.commit, null)
    const rows = examplesIn(path.join(DATA, 'defects/stt/stt_failed.jsonl')) - 1
    assert.equal(d.examples, rows)
    // s03 (completeness) is gone, s04 still fails; every line after 3 moved up by one
    assert.deepEqual(d.checks.completeness, checkResult(rows - 1, rows, 80))
    assert.deepEqual(d.checks.validity, checkResult(rows - 3, rows, 70))
    const s04 = d.problems.find((p: any) => p.rule === 'original_transcript is not a string')
    assert.deepEqual(s04.instances, [{path: 'stt/stt_failed.jsonl', line: 3, key: 's04', detail: '42'}])

    assertExit(g1, 9)
    const dg = g1.json()
    assert.equal(dg.commit, h.v1)
    assertReport(dg, expectedReport('golden/'))
  })

  it('--rules FILE checks a version with rules from outside it: v1 under the v2 rules passes; a missing file exits 10', async () => {
    const outside = path.join(tmp.make('dsv-quality-rules-'), 'new-rules.yaml')
    fs.copyFileSync(path.join(h.dir, 'dsv.yaml'), outside) // the working tree keeps v2's rules
    const [r, missing] = await Promise.all([
      dsvAsync(h.dir, 'quality', 'check', 'v1', '--rules', outside, '--json', '--', 'stt/'),
      dsvAsync(h.dir, 'quality', 'check', 'v1', '--rules', `${outside}.nope`, '--json'),
    ])
    assertExit(r, 0)
    const d = r.json()
    assert.equal(d.commit, h.v1)
    assert.equal(d.rules, outside)
    assertReport(d, expectedReport('stt/', V2_THRESHOLDS))
    const err = assertJsonError(missing, 10, 'E_RULES')
    assert.match(err.message, /new-rules\.yaml\.nope: ENOENT/)
  })

  it('bad revisions and paths: two revisions exit 2, an unknown one exit 4, a path in no file exit 4', async () => {
    const [two, unknown, nopath] = await Promise.all([
      dsvAsync(h.dir, 'quality', 'check', 'v1', 'HEAD', '--json'),
      dsvAsync(h.dir, 'quality', 'check', 'nosuchrev', '--json'),
      dsvAsync(h.dir, 'quality', 'check', 'v1', '--json', '--', 'goldne/'),
    ])
    assertJsonError(two, 2, 'E_USAGE')
    assertJsonError(unknown, 4, 'E_BAD_REVISION')
    // a mistyped path must not pass the check with 0 examples (as `dsv diff -- PATH` refuses it)
    const err = assertJsonError(nopath, 4, 'E_PATH_NOT_FOUND')
    assert.match(err.message, /goldne/)
  })
})

// ---------------------------------------------------------------- broken rules files

describe('dsv quality check: a broken rules file exits 10 (E_RULES) naming the file and line', () => {
  const cases: Array<{name: string; file: string; text: string; line: number; reason: RegExp}> = [
    {name: 'YAML syntax: a tab as indentation', file: 'dsv.yaml', text: 'gate: true\nfiles:\n  - pattern: a.jsonl\n\tprofile: golden\n', line: 4, reason: /tab/i},
    {name: 'an unknown setting in valid YAML', file: 'dsv.yaml', text: 'gate: true\nfiles:\n  - pattern: a.jsonl\n    profil: golden\n', line: 4, reason: /unknown setting 'profil'/},
    {name: 'a wrong type (a threshold that is a word)', file: 'dsv.yaml', text: 'gate: true\nthresholds:\n  overall: high\nfiles:\n  - pattern: a.jsonl\n', line: 3, reason: /thresholds\.overall: must be number/},
    {name: 'a threshold above 100', file: 'dsv.yaml', text: '# rules\nthresholds: {overall: 150}\n', line: 2, reason: /thresholds\.overall: must be <= 100/},
    {name: 'an unknown profile', file: 'dsv.yaml', text: 'files:\n  - pattern: a.jsonl\n    profile: golde\n', line: 3, reason: /files\.0\.profile: must be one of "golden", "common-voice", "stt-failed", "conversations"/},
    {name: 'a file entry without pattern', file: 'dsv.yaml', text: 'gate: false\nfiles:\n  - profile: golden\n', line: 3, reason: /files\.0: missing 'pattern'/},
    {name: 'dsv.json: a wrong type', file: 'dsv.json', text: '{\n  "gate": true,\n  "files": [\n    {"pattern": "a.jsonl", "required": "id"}\n  ]\n}\n', line: 4, reason: /files\.0\.required: must be array/},
    {name: 'dsv.json: a syntax error', file: 'dsv.json', text: '{\n  "gate": true,\n  "files": [\n    {"pattern": "a.jsonl",\n     "required": ["id"],,\n  ]\n}\n', line: 5, reason: /./},
    {name: 'a schema file that is not in the dataset', file: 'dsv.yaml', text: 'files:\n  - pattern: a.jsonl\n    schema: schemas/missing.json\n', line: 3, reason: /schemas\/missing\.json/},
  ]
  // two repositories, each trying its half of the cases one after the other (a working-tree
  // check takes the repository lock); the first case also runs without --json
  const runs = new Map<string, Promise<{json: RunResult; text?: RunResult}>>()
  before(() => {
    for (const half of [0, 1]) {
      const mine = cases.filter((_, i) => i % 2 === half)
      const dir = repoWithFiles({'a.jsonl': jsonl([{id: 'a'}])})
      let chain: Promise<unknown> = dir
      for (const c of mine) {
        const p = chain.then(async () => {
          const d = await dir
          fs.writeFileSync(path.join(d, c.file), c.text)
          const json = await dsvAsync(d, 'quality', 'check', '--json')
          const text = c === cases[0] ? await dsvAsync(d, 'quality', 'check') : undefined
          fs.rmSync(path.join(d, c.file))
          return {json, text}
        })
        p.catch(() => {}) // reported by the test
        runs.set(c.name, p)
        chain = p.catch(() => {})
      }
    }
  })

  for (const c of cases) {
    it(c.name, async () => {
      const {json: j, text: t} = await runs.get(c.name)!
      const err = assertJsonError(j, 10, 'E_RULES')
      assert.equal(err.file, c.file)
      assert.equal(err.line, c.line, `line of: ${err.message}`)
      assert.ok(err.message.startsWith(`${c.file}:${c.line}: `), err.message)
      assert.match(err.reason, c.reason)
      if (t) {
        // the human form: one error line on stderr naming file and line, nothing on stdout
        assertExit(t, 10)
        assert.equal(t.stdout, '')
        assert.ok(t.stderr.startsWith(`error: ${c.file}:${c.line}: `), t.stderr)
      }
    })
  }

  it('a broken rules file in the working tree: a committed version still checks with its own; commit refuses (exit 10) unless --no-verify', async () => {
    const dir = await repoWithFiles({'dsv.yaml': GOLDEN_RULES(false), 'golden/g.jsonl': jsonl([golden('a'), golden('b')])})
    const first = (await jsonOf(dsvAsync(dir, 'commit', '-m', 'good rules', '--json'))).id
    fs.writeFileSync(path.join(dir, 'dsv.yaml'), 'files:\n  - pattern: "golden/*.jsonl"\n    profile: goldenn\n')
    const head = await dsvAsync(dir, 'quality', 'check', 'HEAD', '--json')
    const commit = await dsvAsync(dir, 'commit', '-m', 'broken rules', '--json')
    const d = (assertExit(head, 0), head.json())
    assert.equal(d.examples, 2)
    assert.equal(d.passed, true)
    assert.match(assertJsonError(commit, 10, 'E_RULES').message, /^dsv\.yaml:3: /)
    const log = await jsonOf(dsvAsync(dir, 'log', '--json'))
    assert.deepEqual(log.map((e: any) => e.id), [first], 'nothing committed')
    const nv = await jsonOf(dsvAsync(dir, 'commit', '-m', 'broken rules anyway', '--no-verify', '--json'))
    assert.deepEqual(nv.parents, [first])
  })
})

// ---------------------------------------------------------------- the commit gate and quality in the log

describe('dsv commit: the quality gate, and quality recorded in the log', () => {
  const good = Array.from({length: 19}, (_, i) => golden(`r${String(i + 1).padStart(2, '0')}`))
  const file = 'golden/data.jsonl'
  let dir: string
  const ids: Record<string, string> = {}

  /** The summary a commit of `rows` records: every check 100% but those planted. */
  function summary(rows: number, failed: Partial<Record<Check, number>>, tiers: Record<string, number>) {
    const checks = Object.fromEntries((['completeness', 'consistency', 'validity', 'uniqueness'] as const).map((c) => [c, pct(rows - (failed[c] ?? 0), rows)]))
    const t = {completeness: 95, consistency: 90, validity: 95}
    const overall = overallOf(Object.values(checks))
    const passed = overall >= 90 && Object.entries(t).every(([c, min]) => checks[c] >= min)
    return {overall, passed, examples: rows, checks, tiers: {gold: 0, silver: 0, bronze: 0, rejected: 0, ...tiers}, silverOrBetter: pct((tiers.gold ?? 0) + (tiers.silver ?? 0), rows)}
  }

  before(async () => {
    dir = await repoWithFiles({[file]: jsonl(good)})
  })

  it('a commit without a rules file records quality: null', async () => {
    const c = await jsonOf(dsvAsync(dir, 'commit', '-m', 'c0: no rules', '--json'))
    ids.c0 = c.id
    assert.equal(c.quality, undefined, 'nothing checked, nothing recorded (the log shows null: see below)')
  })

  it('gate: true and good data: the commit goes through and records its quality', async () => {
    fs.writeFileSync(path.join(dir, 'dsv.yaml'), GOLDEN_RULES(true))
    const c = await jsonOf(dsvAsync(dir, 'commit', '-m', 'c1: rules, gate on', '--json'))
    ids.c1 = c.id
    const want = summary(19, {}, {gold: 19})
    assert.equal(want.overall, 100)
    assert.deepEqual(c.quality, want)
  })

  it('failing data: exit 9 E_QUALITY_FAILED with the report; nothing committed, the tree still dirty', async () => {
    // two rows without input_data: completeness 19/21 < 95%
    fs.appendFileSync(path.join(dir, file), jsonl([golden('r20', {input_data: undefined}), golden('r21', {input_data: undefined})]))
    const j = await dsvAsync(dir, 'commit', '-m', 'bad', '--json')
    const t = await dsvAsync(dir, 'commit', '-m', 'bad')
    const err = assertJsonError(j, 9, 'E_QUALITY_FAILED')
    const completeness = pct(19, 21)
    assert.equal(err.message, `quality gate: completeness ${completeness.toFixed(1)}% < 95%; nothing was committed`)
    assert.deepEqual(err.report.checks.completeness, checkResult(19, 21, 95))
    assert.deepEqual(err.report.problems.map((p: any) => [p.rule, p.count, p.instances.map((i: any) => `${i.path}:${i.line} ${i.key}`)]), [['input_data is missing or empty', 2, [`${file}:20 r20`, `${file}:21 r21`]]])
    // the human form prints the report (to stderr) before the error
    assertExit(t, 9)
    assert.match(t.stderr, /completeness\s+90\.5%\s+≥ 95%\s+FAIL/)
    assert.match(t.stderr, /input_data is missing or empty: 2 examples/)
    assert.match(t.stderr, new RegExp(`${file}:20  r20`))
    assert.match(t.stderr, /result: FAILED \(completeness 90\.5% < 95%\)/)
    assert.match(t.stderr, /^error: quality gate: .*nothing was committed$/m)
    const log = await jsonOf(dsvAsync(dir, 'log', '--json'))
    const st = await jsonOf<StatusDoc>(dsvAsync(dir, 'status', '--json'))
    assert.deepEqual(log.map((e: any) => e.id), [ids.c1, ids.c0])
    assert.equal(st.clean, false)
    assert.deepEqual(st.examples, {added: 2, removed: 0, modified: 0})
  })

  it('--no-verify commits the failing data, without a quality record', async () => {
    const c = await jsonOf(dsvAsync(dir, 'commit', '-m', 'c2: wip', '--no-verify', '--json'))
    ids.c2 = c.id
    assert.deepEqual(c.parents, [ids.c1])
    assert.deepEqual(c.examples, {added: 2, removed: 0, modified: 0})
    assert.equal(c.quality, undefined, 'not checked (the log shows null: see below)')
  })

  it('fixed data within the thresholds commits; gate: false records a failing result without blocking', async () => {
    // r20 fixed, r21 keeps one validity defect: 20/21 valid ≥ 95%
    fs.writeFileSync(path.join(dir, file), jsonl([...good, golden('r20'), golden('r21', {quality_score: 1.5})]))
    const c3 = await jsonOf(dsvAsync(dir, 'commit', '-m', 'c3: fixed', '--json'))
    ids.c3 = c3.id
    // r21: validated but invalid → correctness 0.5 → 30+20+15+15 = 80, silver
    const want3 = summary(21, {validity: 1}, {gold: 20, silver: 1})
    assert.equal(want3.passed, true)
    assert.deepEqual(c3.quality, want3)

    fs.writeFileSync(path.join(dir, 'dsv.yaml'), GOLDEN_RULES(false))
    fs.appendFileSync(path.join(dir, file), jsonl([golden('r22', {input_data: undefined}), golden('r23', {input_data: undefined})]))
    const c4 = await jsonOf(dsvAsync(dir, 'commit', '-m', 'c4: gate off', '--json'))
    ids.c4 = c4.id
    // r22, r23: 3 of 4 required fields → 22.5+40+15+15 = 92.5, gold
    const want4 = summary(23, {completeness: 2, validity: 1}, {gold: 22, silver: 1})
    assert.equal(want4.passed, false)
    assert.deepEqual(c4.quality, want4)

    const log = await jsonOf(dsvAsync(dir, 'log', '--json'))
    assert.deepEqual(log.map((e: any) => e.id), [ids.c4, ids.c3, ids.c2, ids.c1, ids.c0])
    assert.deepEqual(log.map((e: any) => e.quality), [want4, want3, null, summary(19, {}, {gold: 19}), null])

    // --min-quality N: recorded overall ≥ N; commits without a record are left out
    assert.ok(want4.overall < 97 && want3.overall >= 97 && want3.overall < 99, `${want4.overall} < 97 ≤ ${want3.overall} < 99`)
    const [q99, q97, q0, text] = await Promise.all([
      jsonOf(dsvAsync(dir, 'log', '--min-quality', '99', '--json')),
      jsonOf(dsvAsync(dir, 'log', '--min-quality', '97', '--json')),
      jsonOf(dsvAsync(dir, 'log', '--min-quality', '0', '--json')),
      dsvAsync(dir, 'log', '-n', '1'),
    ])
    assert.deepEqual(q99.map((e: any) => e.id), [ids.c1])
    assert.deepEqual(q97.map((e: any) => e.id), [ids.c3, ids.c1])
    assert.deepEqual(q0.map((e: any) => e.id), [ids.c4, ids.c3, ids.c1])
    assertExit(text, 0)
    assert.ok(text.stdout.includes(`Quality:  ${want4.overall}% below thresholds; gold 22, silver 1, bronze 0, rejected 0`), text.stdout)
  })
})

// ---------------------------------------------------------------- compare

describe('dsv quality compare', () => {
  let c: {dir: string; v1: string; v2: string}
  before(async () => {
    c = await repos.compare.get()
  })

  it('v1 → v2 (HEAD~1 HEAD): scores before and after, tiers, newly failing and fixed examples by key', async () => {
    const [j, t] = await Promise.all([dsvAsync(c.dir, 'quality', 'compare', 'HEAD~1', 'HEAD', '--json'), dsvAsync(c.dir, 'quality', 'compare', 'HEAD~1', 'HEAD')])
    const doc = (assertExit(j, 0), j.json())
    // v1: k2 invalid (quality 2), k3 inconsistent; v2: k2 fixed, k4 invalid status, k5 duplicated on line 7
    const before = {completeness: pct(6, 6), consistency: pct(5, 6), validity: pct(5, 6), uniqueness: pct(6, 6)}
    const after = {completeness: pct(7, 7), consistency: pct(6, 7), validity: pct(6, 7), uniqueness: pct(6, 7)}
    const o1 = overallOf(Object.values(before))
    const o2 = overallOf(Object.values(after))
    assert.deepEqual(doc.from, {target: 'HEAD~1', commit: c.v1, overall: o1, passed: false, examples: 6})
    assert.deepEqual(doc.to, {target: 'HEAD', commit: c.v2, overall: o2, passed: false, examples: 7})
    assert.deepEqual(doc.checks, [
      ...(['completeness', 'consistency', 'validity', 'uniqueness'] as const).map((k) => ({check: k, before: before[k], after: after[k]})),
      {check: 'overall', before: o1, after: o2},
    ])
    // scores: clean 100 gold; validated but inconsistent/invalid 80 silver; not validated 60 bronze;
    // the duplicate k5 (quality 0.9) 98.5 gold
    assert.deepEqual(doc.tiers, [
      {tier: 'gold', before: 4, after: 5},
      {tier: 'silver', before: 2, after: 1},
      {tier: 'bronze', before: 0, after: 1},
      {tier: 'rejected', before: 0, after: 0},
    ])
    const at = (...keys: string[]) => keys.map((key) => ({path: 'golden/data.jsonl', key}))
    assert.deepEqual(doc.newlyFailing, {count: 2, examples: at('k4', 'k5')})
    assert.deepEqual(doc.fixed, {count: 1, examples: at('k2')})

    assertExit(t, 0)
    assert.match(t.stdout, /^quality HEAD~1 → HEAD$/m)
    assert.match(t.stdout, new RegExp(`^  consistency\\s+${before.consistency.toFixed(1)}% → ${after.consistency.toFixed(1)}%  \\+${(after.consistency - before.consistency).toFixed(1)}$`, 'm'))
    assert.match(t.stdout, /^tiers: gold 4 → 5, silver 2 → 1, bronze 0 → 1, rejected 0 → 0$/m)
    assert.match(t.stdout, /^2 examples newly failing, 1 fixed$/m)
    assert.match(t.stdout, /^  ✗ golden\/data\.jsonl  k4$/m)
    assert.match(t.stdout, /^  ✓ golden\/data\.jsonl  k2$/m)
  })

  it('one revision compares it with the working tree (k3 fixed there)', async () => {
    const doc = await jsonOf(dsvAsync(c.dir, 'quality', 'compare', 'HEAD', '--json'))
    assert.equal(doc.from.commit, c.v2)
    assert.deepEqual(doc.to, {target: 'working tree', commit: null, overall: overallOf([100, 100, pct(6, 7), pct(6, 7)]), passed: false, examples: 7})
    assert.deepEqual(doc.fixed, {count: 1, examples: [{path: 'golden/data.jsonl', key: 'k3'}]})
    assert.deepEqual(doc.newlyFailing, {count: 0, examples: []})
    assert.deepEqual(doc.tiers.map((t: any) => [t.tier, t.before, t.after]), [['gold', 5, 6], ['silver', 1, 0], ['bronze', 1, 1], ['rejected', 0, 0]])
  })

  it('an unknown revision exits 4', async () => {
    assertJsonError(await dsvAsync(c.dir, 'quality', 'compare', 'HEAD', 'nosuch', '--json'), 4, 'E_BAD_REVISION')
  })
})

// ---------------------------------------------------------------- the text report

describe('dsv quality check: the text report', () => {
  it('shows the scores, the failed checks, problems and worst offenders with file:line and key, and "result: FAILED"', async () => {
    const {dir} = await repos.defects.get()
    const want = expectedReport('')
    const r = await dsvAsync(dir, 'quality', 'check', '--limit', '100')
    const limited = await dsvAsync(dir, 'quality', 'check', '--limit', '2')
    assertExit(r, 9)
    const out = r.stdout
    assert.match(out, /^quality check: working tree; rules: dsv\.yaml; 8 files, 50 examples$/m)
    for (const [name, c] of Object.entries(want.checks)) {
      const verdict = c.threshold === null ? '' : c.ok ? 'ok' : 'FAIL'
      assert.match(out, new RegExp(`^  ${name}\\s+${c.score.toFixed(1).replace('.', '\\.')}%\\s+${c.threshold === null ? '' : `≥ ${c.threshold}%\\s+`}${verdict}`, 'm'), name)
    }
    assert.match(out, /^  referential .*\(1 file referenced by no example\)$/m)
    assert.match(out, new RegExp(`^  overall\\s+${want.overall.score.toFixed(1).replace('.', '\\.')}%\\s+≥ 90%\\s+FAIL$`, 'm'))
    assert.match(out, /^examples: mean score [\d.]+; gold \d+, silver \d+, bronze \d+, rejected \d+; silver or better [\d.]+%$/m)
    // every planted defect appears with file:line and key
    for (const d of DEFECTS) assert.ok(out.includes(`      ${d.path}:${d.line}${d.key !== null ? `  ${d.key}` : ''}`), `${d.path}:${d.line} listed`)
    assert.match(out, /^  completeness input_data is missing or empty: 1 example$/m)
    assert.match(out, /^  validity     validation_status not one of .*: 3 examples$/m)
    assert.match(out, /^lowest-scoring examples:$/m)
    assert.match(out, /^\s+50 rejected chats\/chats\.jsonl:4  v04: messages is not an array/m)
    const failed = Object.entries(want.checks).filter(([, c]) => !c.ok).map(([n, c]) => `${n} ${c.score.toFixed(1)}% < ${c.threshold}%`)
    assert.ok(out.trimEnd().endsWith(`result: FAILED (${[...failed, `overall ${want.overall.score.toFixed(1)}% < 90%`].join(', ')})`), out.slice(-300))
    // --limit: only the first problems, then how many more
    assertExit(limited, 9)
    assert.match(limited.stdout, new RegExp(`… ${want.problems.length - 2} more problems \\(--json for all\\)`))
  })

  it('a passing check ends with "result: passed"', async () => {
    const {dir} = await repos.history.get()
    const r = await dsvAsync(dir, 'quality', 'check', 'HEAD', '--', 'stt/')
    assertExit(r, 0)
    assert.match(r.stdout, /^quality check: HEAD \([0-9a-f]{12}\); rules: dsv\.yaml; 1 file, 10 examples$/m)
    assert.match(r.stdout, /^  completeness\s+80\.0%\s+≥ 80%\s+ok$/m)
    assert.ok(r.stdout.trimEnd().endsWith('result: passed'))
  })
})

// ---------------------------------------------------------------- real data

const GSM8K = path.join(sharedDatasets, 'gsm8k')
const CV = path.join(sharedDatasets, 'common-voice-pl', 'validated.tsv')

describe('real data: GSM8K (keyless, train + test) with a rules file', function () {
  this.timeout(120_000)
  const rules = 'files:\n  - pattern: "gsm8k/*.jsonl"\n    required: [question, answer]\n    lengths: {answer: {max: 1000}, question: {min: 20}}\n'

  before(function () {
    if (!fs.existsSync(path.join(GSM8K, 'train.jsonl'))) this.skip()
  })

  it('every line is an example; counts derived from the data itself', async () => {
    const dir = tmp.make('dsv-quality-real-')
    fs.mkdirSync(path.join(dir, 'gsm8k'))
    const lines: Record<string, string[]> = {}
    for (const f of ['test.jsonl', 'train.jsonl']) {
      fs.copyFileSync(path.join(GSM8K, f), path.join(dir, 'gsm8k', f))
      fs.chmodSync(path.join(dir, 'gsm8k', f), 0o644)
      lines[f] = fs.readFileSync(path.join(GSM8K, f), 'utf8').split('\n').filter((l) => l !== '')
    }
    fs.writeFileSync(path.join(dir, 'dsv.yaml'), rules)
    assertExit(await dsvAsync(dir, 'init', '--quiet'), 0)
    const r = await dsvAsync(dir, 'quality', 'check', '--json')

    // the expected report, from the lines
    const all = [...lines['test.jsonl'].map((l, i) => ({f: 'test.jsonl', i, l})), ...lines['train.jsonl'].map((l, i) => ({f: 'train.jsonl', i, l}))]
    assert.equal(all.length, 7473 + 1319)
    let incomplete = 0
    let invalid = 0
    let duplicates = 0
    let sum = 0
    const tiers = {gold: 0, silver: 0, bronze: 0, rejected: 0}
    const longAnswers: string[] = []
    for (const f of ['test.jsonl', 'train.jsonl']) {
      const seen = new Set<string>()
      for (const l of lines[f]) (seen.has(l) ? duplicates++ : seen.add(l))
    }
    const inBoth = new Set(lines['test.jsonl'].filter((l) => new Set(lines['train.jsonl']).has(l)))
    const leaked = all.filter((e) => inBoth.has(e.l)).length
    for (const e of all) {
      const rec = JSON.parse(e.l)
      const complete = ['question', 'answer'].filter((k) => typeof rec[k] === 'string' && rec[k].trim() !== '').length
      if (complete < 2) incomplete++
      const bad = (typeof rec.answer === 'string' && [...rec.answer].length > 1000) || (typeof rec.question === 'string' && [...rec.question].length < 20)
      if (bad) invalid++
      if (typeof rec.answer === 'string' && [...rec.answer].length > 1000) longAnswers.push(`gsm8k/${e.f}:${e.i + 1}`)
      // no labels, no validation field, no confidence: clarity and representativeness full
      const score = 30 * (complete / 2) + 40 * (bad ? 0.5 : 1) + 15 + 15
      sum += score
      tiers[tierOf(score)]++
    }
    assert.ok(longAnswers.length > 0, 'the length rule catches something in GSM8K')
    const n = all.length
    const checks = {
      completeness: checkResult(n - incomplete, n, 95),
      consistency: checkResult(n, n, 90),
      validity: checkResult(n - invalid, n, 95),
      uniqueness: checkResult(n - duplicates - leaked, n, null),
    }
    const overall = overallOf(Object.values(checks).map((c) => c.score))
    const passed = Object.values(checks).every((c) => c.ok) && overall >= 90
    assertExit(r, passed ? 0 : 9)
    const doc = r.json()
    assert.equal(doc.examples, n)
    assert.deepEqual(doc.files.map((f: any) => [f.path, f.examples, f.split, f.profile]), [['gsm8k/test.jsonl', 1319, 'test', null], ['gsm8k/train.jsonl', 7473, 'train', null]])
    assert.deepEqual(doc.checks, checks)
    assert.equal(doc.overall.score, overall)
    assert.equal(doc.passed, passed)
    assert.deepEqual(doc.scores, {mean: Math.round((10 * sum) / n) / 10, tiers, silverOrBetter: pct(tiers.gold + tiers.silver, n)})
    const p = doc.problems.find((x: any) => x.rule === 'answer length outside ≤ 1000')
    assert.equal(p.count, longAnswers.length)
    for (const i of p.instances) {
      assert.ok(longAnswers.includes(`${i.path}:${i.line}`), `${i.path}:${i.line} has a long answer`)
      assert.equal(i.key, null)
    }
  })
})

describe('real data: Common Voice (pl) validated.tsv with the common-voice profile', function () {
  this.timeout(120_000)

  before(function () {
    if (!fs.existsSync(CV)) this.skip()
  })

  it('711 examples, complete rows, every clip missing (no audio shipped), tiers from the formula, exit code per thresholds', async () => {
    const dir = tmp.make('dsv-quality-real-')
    fs.mkdirSync(path.join(dir, 'cv'))
    fs.copyFileSync(CV, path.join(dir, 'cv/validated.tsv'))
    fs.chmodSync(path.join(dir, 'cv/validated.tsv'), 0o644)
    fs.writeFileSync(path.join(dir, 'dsv.yaml'), 'files:\n  - pattern: "cv/*.tsv"\n    profile: common-voice\n')
    assertExit(await dsvAsync(dir, 'init', '--quiet'), 0)
    const r = await dsvAsync(dir, 'quality', 'check', '--json')
    const lenient = await dsvAsync(dir, 'quality', 'check', '--min-score', '75', '--json')

    // the expected report, from the TSV (tab-separated, never quoted)
    const lines = fs.readFileSync(CV, 'utf8').split('\n').filter((l) => l !== '')
    const header = lines[0].split('\t')
    assert.equal(header.length, 13)
    const rows = lines.slice(1).map((l) => {
      const cells = l.split('\t')
      assert.equal(cells.length, 13, 'every row has all 13 columns')
      return Object.fromEntries(header.map((h, i) => [h, cells[i]]))
    })
    const n = rows.length
    assert.equal(n, 711)
    const isInt = (s: string) => s.trim() !== '' && Number.isInteger(Number(s))
    const required = ['client_id', 'path', 'sentence', 'up_votes', 'down_votes', 'locale']
    const genders = new Map<string, number>()
    for (const row of rows) if (row.gender.trim() !== '') genders.set(row.gender, (genders.get(row.gender) ?? 0) + 1)
    let incomplete = 0
    let invalid = 0
    let sum = 0
    const tiers = {gold: 0, silver: 0, bronze: 0, rejected: 0}
    const keys = new Set<string>()
    const contents = new Set<string>()
    let duplicates = 0
    rows.forEach((row, i) => {
      const complete = required.filter((k) => row[k].trim() !== '' && (!k.endsWith('_votes') || isInt(row[k]))).length
      if (complete < required.length) incomplete++
      const sentenceLength = [...row.sentence].length
      const bad = ['up_votes', 'down_votes'].some((k) => row[k] !== '' && !(Number(row[k]) >= 0)) || sentenceLength < 1 || sentenceLength > 500
      if (bad) invalid++
      const up = Number(row.up_votes) || 0
      const down = Number(row.down_votes) || 0
      const validated = up >= 2
      const clarity = up + down > 0 ? up / (up + down) : 0
      const repr = row.gender.trim() === '' ? 0 : Math.min(1, genders.get(row.gender)! / (n / genders.size))
      const score = 30 * (complete / required.length) + 40 * (validated ? (bad ? 0.5 : 1) : 0) + 15 * clarity + 15 * repr
      sum += score
      tiers[tierOf(score)]++
      const line = lines[i + 1]
      if (keys.has(row.path) || contents.has(line)) duplicates++
      keys.add(row.path)
      contents.add(line)
    })
    const checks = {
      completeness: checkResult(n - incomplete, n, 95),
      consistency: checkResult(n, n, 90),
      validity: checkResult(n - invalid, n, 95),
      uniqueness: checkResult(n - duplicates, n, null),
      referential: checkResult(0, n, null), // no clip is shipped with the table
    }
    const overall = overallOf(Object.values(checks).map((c) => c.score))
    const othersOk = Object.values(checks).every((c) => c.ok)
    assert.equal(incomplete, 0, 'the real table has every required cell')

    assertExit(r, othersOk && overall >= 90 ? 0 : 9)
    const doc = r.json()
    assert.equal(doc.examples, n)
    assert.deepEqual(doc.files, [{path: 'cv/validated.tsv', pattern: 'cv/*.tsv', profile: 'common-voice', examples: n, split: null}])
    assert.deepEqual(doc.checks, checks)
    assert.deepEqual(doc.overall, {score: overall, passed: Object.values(checks).filter((c) => c.ok).length, failed: Object.values(checks).filter((c) => !c.ok).length, threshold: 90, ok: overall >= 90})
    assert.deepEqual(doc.scores, {mean: Math.round((10 * sum) / n) / 10, tiers, silverOrBetter: pct(tiers.gold + tiers.silver, n)})
    const missing = doc.problems.find((p: any) => p.check === 'referential')
    assert.equal(missing.rule, 'path names a file that is not in the dataset')
    assert.equal(missing.count, n)
    assert.deepEqual(missing.instances, rows.slice(0, 3).map((row, i) => ({path: 'cv/validated.tsv', line: i + 2, key: row.path, detail: `cv/clips/${row.path}`})))
    assert.deepEqual(doc.orphans, {count: 0, paths: []})
    // the sentence that starts with a quote is read as it is: its row is valid and complete
    assert.ok(rows.some((row) => row.sentence.startsWith('"')))

    assertExit(lenient, othersOk && overall >= 75 ? 0 : 9)
    assert.equal(lenient.json().overall.threshold, 75)
  })
})
