/**
 * `dsv export --profile cv22`: Common Voice's corpus layout, and the aggregate-on-export
 * strategy (`--aggregate sentence`, see export/cv22.ts).
 *
 * Corpus: `validated.tsv` (every clip table of the selection but `invalidated`/`other`),
 * `invalidated.tsv` and `other.tsv` as they are, and `train/dev/test.tsv` split from the
 * validated clips with every speaker (`client_id`) in one split. Tab-separated, never
 * quoted, the 13 clip columns; rows whose table already has exactly those columns are
 * copied byte for byte.
 */
import {basename, join} from 'node:path'
import {getPath} from '../example-key.js'
import {tableExamples} from '../table-examples.js'
import {parseSplits, splitAt, unitHash} from '../export/splits.js'
import {RowWriter, type ExportRow, type TextFormat} from '../export/writers.js'
import {aggregateSentence, contributionKind, CV_COLUMNS, EXTENDED_COLUMNS, passesCvFilter, type VoiceRecord} from '../export/cv22.js'
import {DsvError} from '../../errors/index.js'
import {loadSources, makeOutputDirs, manifestHead, openWriters, planOutput, publish, type ExportOptions, type ExportResult, type Source} from './export.js'
import {pathMatcher} from './dataset-diff.js'
import type {Repository} from '../repository.js'

const DEFAULT_CV_SPLIT = 'train=0.8,dev=0.1,test=0.1'
const PASSED_THROUGH = new Set(['invalidated.tsv', 'other.tsv'])
const REGENERATED = new Set(['train.tsv', 'dev.tsv', 'test.tsv'])
const NUMERIC = new Set(['up_votes', 'down_votes', 'contributor_count', 'upload_contributions', 'practice_sessions', 'practice_ratio'])

const isClipTable = (s: Source) => ['client_id', 'path', 'sentence'].every((c) => s.columns.includes(c))

export async function exportCommonVoice(repo: Repository, rev: string, opts: ExportOptions): Promise<ExportResult> {
  const format = (opts.format ?? 'tsv') as TextFormat
  if (!['tsv', 'csv', 'json'].includes(format)) throw new DsvError('E_USAGE', `--profile cv22 writes tsv, csv or json, not ${format}`, {format})
  if (opts.where || opts.balanceBy || opts.maxSamples !== undefined || opts.stratifyBy) throw new DsvError('E_USAGE', '--profile cv22 does not take --where, --balance-by, --max-samples or --stratify-by', {}, 'export the clip table without --profile to use them')
  return opts.aggregate ? aggregateExport(repo, rev, opts, format) : corpusExport(repo, rev, opts, format)
}

async function corpusExport(repo: Repository, rev: string, opts: ExportOptions, format: TextFormat): Promise<ExportResult> {
  if (format !== 'tsv') throw new DsvError('E_USAGE', 'the Common Voice corpus layout is TSV; for CSV or JSON add --aggregate sentence, or export without --profile', {})
  if (opts.qualityFilter) throw new DsvError('E_USAGE', '--quality-filter with --profile cv22 needs --aggregate sentence', {})
  const splits = parseSplits(opts.split ?? DEFAULT_CV_SPLIT)
  const seed = opts.seed ?? '0'
  const {commit, sources: all} = await loadSources(repo, rev, opts.files)
  const sources = all.filter((s) => isClipTable(s) && !REGENERATED.has(basename(s.path)))
  if (sources.length === 0) throw new DsvError('E_PATH_NOT_FOUND', `no Common Voice clip table (client_id, path, sentence columns) in ${rev}${opts.files?.length ? ` matching ${opts.files.join(', ')}` : ''}`, {rev})
  const layout = planOutput({output: opts.output, force: opts.force}, [])
  const columns = [...CV_COLUMNS]
  makeOutputDirs(layout)
  const names = ['validated.tsv', ...splits.map((s) => `${s.name}.tsv`), ...[...PASSED_THROUGH].filter((n) => sources.some((s) => basename(s.path) === n))]
  const opened = openWriters(layout, names, (n) => new RowWriter(join(layout.folder!, n), n, 'tsv', columns))
  const outputs = new Map(names.map((n, i) => [n, opened[i]]))
  const perSplit: Record<string, number> = Object.fromEntries(splits.map((s) => [s.name, 0]))
  let read = 0
  return publish(layout, [...outputs.values()], () => {
    for (const source of sources) {
      const passThrough = PASSED_THROUGH.has(basename(source.path)) ? basename(source.path) : null
      for (const e of tableExamples(source, repo.store.reader)) {
        read++
        const row: ExportRow = {example: e.example, bytes: e.bytes, format: source.format, header: source.headerText, path: source.path, line: e.line}
        if (passThrough) {
          outputs.get(passThrough)!.write(row)
          continue
        }
        outputs.get('validated.tsv')!.write(row)
        // every clip of a speaker in one split
        const split = splits[splitAt(splits, unitHash(seed, `g:${String(getPath(e.example, 'client_id') ?? '')}`))].name
        outputs.get(`${split}.tsv`)!.write(row)
        perSplit[split]++
      }
    }
  }, (files) => ({
    ...manifestHead(commit, rev, opts.command, format),
    profile: {name: 'cv22', aggregate: null, cvFormat: 'standard', qualityFilter: null},
    sources: sources.map((s) => ({path: s.path, examples: s.examples})),
    selection: {files: opts.files?.length ? opts.files : null, where: null, balanceBy: null, maxSamples: null},
    split: {spec: splits, seed, groupBy: 'client_id', stratifyBy: null},
    counts: {read, matched: read, notApplicable: 0, written: files.find((f) => f.name === 'validated.tsv')?.rows ?? 0, perSplit},
    files,
  }))
}

async function aggregateExport(repo: Repository, rev: string, opts: ExportOptions, format: TextFormat): Promise<ExportResult> {
  if (opts.aggregate !== 'sentence') throw new DsvError('E_USAGE', `--aggregate ${opts.aggregate}: only "sentence" is known`, {})
  if (opts.qualityFilter && !['high', 'medium', 'validated'].includes(opts.qualityFilter)) throw new DsvError('E_USAGE', `--quality-filter ${opts.qualityFilter}: aggregated Common Voice sentences take high, medium or validated`, {})
  const {commit, sources: all, tree} = await loadSources(repo, rev)
  // the tables default from the version's rules file (export: {cv22: {clips, contributions}}), then by their columns
  if (!opts.clips?.length || !opts.contributions?.length) {
    const {loadRules} = await import('./quality.js')
    const fromRules = (await loadRules(repo, tree, false)).export.cv22
    opts = {...opts, clips: opts.clips?.length ? opts.clips : fromRules.clips, contributions: opts.contributions?.length ? opts.contributions : fromRules.contributions}
  }
  const match = (patterns: string[] | undefined, fallback: (s: Source) => boolean) => {
    if (!patterns?.length) return all.filter(fallback)
    const ms = patterns.map(pathMatcher)
    return all.filter((s) => ms.some((m) => m(s.path)))
  }
  const hasSession = (s: Source) => s.columns.includes('session_type')
  const contributions = match(opts.contributions, hasSession)
  const clips = match(opts.clips, (s) => isClipTable(s) && !hasSession(s) && !contributions.includes(s))
  if (clips.length + contributions.length === 0) throw new DsvError('E_PATH_NOT_FOUND', `no clip or contribution table in ${rev}`, {rev}, 'name them with --clips PATTERN and --contributions PATTERN')
  const splits = opts.split ? parseSplits(opts.split) : null
  const seed = opts.seed ?? '0'
  const layout = planOutput({output: opts.output, force: opts.force}, splits)

  // every record, grouped by sentence in the order sentences are first seen
  const bySentence = new Map<string, VoiceRecord[]>()
  let read = 0
  const collect = (source: Source, kindOf: (f: Record<string, unknown>) => VoiceRecord['kind']) => {
    for (const e of tableExamples(source, repo.store.reader)) {
      read++
      const sentence = String(e.example.sentence ?? '').trim()
      if (sentence === '') continue
      const list = bySentence.get(sentence) ?? bySentence.set(sentence, []).get(sentence)!
      list.push({kind: kindOf(e.example), fields: e.example})
    }
  }
  for (const s of clips) collect(s, () => 'clip')
  for (const s of contributions) collect(s, contributionKind)

  const extended = opts.cvFormat === 'extended'
  const columns = extended ? [...CV_COLUMNS, ...EXTENDED_COLUMNS] : [...CV_COLUMNS]
  const ext = format
  const names = splits ? splits.map((s) => s.name) : [null]
  makeOutputDirs(layout)
  const writers = openWriters(layout, names, (n) => (n === null ? new RowWriter(layout.file!, basename(layout.file!), format, columns) : new RowWriter(join(layout.folder!, `${n}.${ext}`), `${n}.${ext}`, format, columns)))
  const perSplit: Record<string, number> = Object.fromEntries(names.map((n) => [n ?? 'all', 0]))
  let written = 0
  let matched = 0
  return publish(layout, writers, () => {
    for (const [sentence, records] of bySentence) {
      const row = aggregateSentence(sentence, records)
      if (opts.qualityFilter && !passesCvFilter(row, opts.qualityFilter)) continue
      matched++
      const example: Record<string, unknown> = {}
      for (const c of columns) example[c] = format === 'json' && NUMERIC.has(c) ? Number(row[c]) : row[c]
      const w = splits ? splitAt(splits, unitHash(seed, `s:${row.sentence_id}`)) : 0
      writers[w].write({example, bytes: Buffer.alloc(0), format: 'csv', header: '', path: clips[0]?.path ?? contributions[0].path, line: 0})
      perSplit[names[w] ?? 'all']++
      written++
    }
  }, (files) => ({
    ...manifestHead(commit, rev, opts.command, format),
    profile: {name: 'cv22', aggregate: 'sentence', cvFormat: extended ? 'extended' : 'standard', qualityFilter: opts.qualityFilter ?? null, clips: clips.map((s) => s.path), contributions: contributions.map((s) => s.path)},
    sources: [...clips, ...contributions].map((s) => ({path: s.path, examples: s.examples})),
    selection: {files: null, where: null, balanceBy: null, maxSamples: null},
    split: splits ? {spec: splits, seed, groupBy: null, stratifyBy: null} : null,
    counts: {read, matched, notApplicable: 0, written, perSplit},
    files,
  }))
}
