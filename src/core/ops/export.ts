/**
 * `dsv export`: a committed version's examples as training-ready files, selected
 * (`--files`, `--where`, `--balance-by`, `--max-samples`) and split deterministically,
 * with a manifest naming the commit, the command and the SHA-256 of every file written.
 *
 * Examples are streamed from the packs. When a choice needs the whole selection first
 * (balancing, sampling, stratifying, the columns of a CSV/TSV made from JSONL), a first
 * pass keeps a few numbers per example and the second pass writes.
 */
import {existsSync, mkdirSync, readdirSync, rmSync, statSync} from 'node:fs'
import {basename, dirname, join} from 'node:path'
import {compileExpression} from 'filtrex'
import {chooseKey, distinctNames, getPath, keyOf} from '../example-key.js'
import {locateTableLeaves, readTable} from '../table-read.js'
import {tableExamples, type TableExample, type TableSource} from '../table-examples.js'
import {flattenTree, type FileMap} from '../tree-ops.js'
import {readCommit} from './history.js'
import {pathMatcher} from './dataset-diff.js'
import {parseSplits, splitAt, stratify, unitHash, type SplitSpec} from '../export/splits.js'
import {RowWriter, TEXT_FORMATS, type ExportWriter, type TextFormat, type WriterOptions, type WrittenFile} from '../export/writers.js'
import {SchemaBuilder} from '../export/schema.js'
import {classOf as labelClassOf} from '../quality/values.js'
import type {CardInfo} from '../export/hf-writer.js'
import {AtomicFileWriter} from '../atomic-file.js'
import {DsvError} from '../../errors/index.js'
import {splitHeader} from '../table-format.js'
import {stripTerminator, type TableFormat} from '../table-format.js'
import {createHash} from 'node:crypto'
import type {ProgressFn, Repository} from '../repository.js'
import type {Oid} from '../bytes.js'

/**
 * Every output format. Text formats are written here; the others live in their own
 * module, `src/core/export/<format>-writer.ts`, loaded only when used, which exports
 * `createWriter(opts: WriterOptions): ExportWriter`.
 */
export const EXPORT_FORMATS = [...TEXT_FORMATS, 'parquet', 'tfrecord', 'hf'] as const
export type ExportFormat = (typeof EXPORT_FORMATS)[number]
const EXTENSIONS: Record<ExportFormat, string> = {jsonl: 'jsonl', json: 'json', csv: 'csv', tsv: 'tsv', parquet: 'parquet', tfrecord: 'tfrecord', hf: 'parquet'}
/** formats whose files --max-rows-per-file cuts into NAME-00000-of-0000N shards */
const SHARDED: ExportFormat[] = ['parquet', 'tfrecord', 'hf']

export interface ExportOptions {
  format: ExportFormat
  /** a file, or a folder when splitting */
  output: string
  /** gitignore-style patterns of the data files to export (default: every table) */
  files?: string[]
  where?: string
  maxSamples?: number
  balanceBy?: string
  /** `train=0.8,val=0.1,test=0.1` */
  split?: string
  seed?: string
  groupBy?: string
  stratifyBy?: string
  /** `cv22`: Common Voice's corpus layout (see ops/export-cv.ts) */
  profile?: 'cv22'
  /** with cv22: one row per sentence from clips and contributions */
  aggregate?: string
  clips?: string[]
  contributions?: string[]
  cvFormat?: 'standard' | 'extended'
  qualityFilter?: string
  /** shard files after this many rows (Parquet, TFRecord) */
  maxRowsPerFile?: number
  /** replace an existing output */
  force?: boolean
  /** the command line, recorded in the manifest */
  command?: string[]
  onProgress?: ProgressFn
}

export interface ExportManifest {
  dsvExport: 1
  commit: Oid
  rev: string
  command: string[]
  format: ExportFormat
  profile?: {name: 'cv22'; aggregate: 'sentence' | null; cvFormat: 'standard' | 'extended'; qualityFilter: string | null; clips?: string[]; contributions?: string[]}
  sources: Array<{path: string; examples: number}>
  selection: {files: string[] | null; where: string | null; balanceBy: string | null; maxSamples: number | null}
  split: {spec: SplitSpec[]; seed: string; groupBy: string | null; stratifyBy: string | null} | null
  /** read: every example of the sources; matched: those --where kept; notApplicable: where --where could not be evaluated */
  counts: {read: number; matched: number; notApplicable: number; written: number; perSplit: Record<string, number>}
  files: WrittenFile[]
}

export interface ExportResult extends ExportManifest {
  output: string
  manifestPath: string
}

export interface Source extends TableSource {
  path: string
  /** the header line without its terminator, and its columns (CSV/TSV; empty for JSONL) */
  headerText: string
  columns: string[]
  key: string[] | null
  examples: number
  bytes: number
}

const DEFAULT_SEED = '0'
const TYPED: ExportFormat[] = ['parquet', 'tfrecord', 'hf']

export async function exportVersion(repo: Repository, rev: string, opts: ExportOptions): Promise<ExportResult> {
  if (opts.profile === 'cv22') {
    const {exportCommonVoice} = await import('./export-cv.js')
    return exportCommonVoice(repo, rev, opts)
  }
  if (opts.aggregate || opts.clips || opts.contributions || opts.cvFormat) throw new DsvError('E_USAGE', '--aggregate, --clips, --contributions and --cv22-format need --profile cv22', {})
  if (opts.qualityFilter && !QUALITY_FILTERS.includes(opts.qualityFilter)) throw new DsvError('E_USAGE', `--quality-filter ${opts.qualityFilter}: one of ${QUALITY_FILTERS.join(', ')}`, {})
  const hf = opts.format === 'hf'
  // the Hugging Face folder names its splits as the Hub does (val → validation); its default split is train
  const splits = opts.split ? (hf ? (await import('../export/hf-writer.js')).hfSplits(parseSplits(opts.split)) : parseSplits(opts.split)) : null
  if (!splits && (opts.groupBy || opts.stratifyBy)) throw new DsvError('E_USAGE', `--${opts.groupBy ? 'group-by' : 'stratify-by'} needs --split`, {}, 'e.g. --split train=0.8,val=0.1,test=0.1 --group-by client_id')
  if (opts.groupBy && opts.stratifyBy) throw new DsvError('E_USAGE', '--group-by and --stratify-by cannot be combined yet', {}, 'use --group-by to keep groups (speakers) apart; classes then keep their share only on average')
  if (opts.maxSamples !== undefined && !(opts.maxSamples >= 0)) throw new DsvError('E_USAGE', '--max-samples must be 0 or more', {})
  if (opts.maxRowsPerFile !== undefined && !SHARDED.includes(opts.format)) throw new DsvError('E_USAGE', `--max-rows-per-file shards ${SHARDED.join(', ')} output, not ${opts.format}`, {})
  const where = opts.where ? compileWhere(opts.where) : null
  const seed = opts.seed ?? DEFAULT_SEED

  const {commit, sources, tree} = await loadSources(repo, rev, opts.files)
  const scorer = opts.qualityFilter ? await qualityScorer(repo, tree, opts.qualityFilter) : null
  const layout = planOutput(opts, splits || hf ? [] : null)

  const total = sources.reduce((s, x) => s + x.bytes, 0)
  const needsColumns = (opts.format === 'csv' || opts.format === 'tsv')
  const jsonlSources = sources.some((s) => s.format === 'jsonl')
  const typed = TYPED.includes(opts.format)
  const firstPass = Boolean(opts.balanceBy || opts.maxSamples !== undefined || opts.stratifyBy || (needsColumns && jsonlSources) || typed || scorer)
  const passes = firstPass ? 2 : 1
  let done = 0
  const tick = (n: number) => opts.onProgress?.({phase: 'exporting examples', loaded: (done += n) / passes, total, unit: 'bytes'})

  /** identity of an example for splitting and sampling: its group, key, or content */
  const identity = (s: Source, e: TableExample): string => {
    if (opts.groupBy) {
      const g = getPath(e.example, opts.groupBy)
      if (g !== undefined && g !== null && g !== '') return `g:${typeof g === 'string' ? g : JSON.stringify(g)}`
    }
    const k = s.key ? keyOf(e.example, s.key) : null
    return k !== null ? `k:${k}` : `c:${createHash('sha256').update(e.bytes).digest('hex')}`
  }
  // a plain copy (JSONL into JSONL, a TSV into a TSV with the same columns, no selection or
  // split) writes the records' bytes and never needs to parse them
  const sameTsv = opts.format === 'tsv' && sources.every((s) => s.format === 'tsv' && s.header === sources[0].header)
  const copiesOnly = !where && !splits && !firstPass && ((opts.format === 'jsonl' && sources.every((s) => s.format === 'jsonl')) || sameTsv)
  let read = 0
  let notApplicable = 0
  /** the selected examples of every source, in order, as `select` sees them */
  function* selected(): Generator<{source: Source; e: TableExample}> {
    read = 0
    notApplicable = 0
    for (const source of sources) {
      for (const e of tableExamples(source, repo.store.reader, tick, !copiesOnly)) {
        read++
        if (where) {
          const verdict = where(e.example, source.format !== 'jsonl')
          if (verdict === null) notApplicable++
          if (verdict !== true) continue
        }
        yield {source, e}
      }
    }
  }

  // first pass: what needs the whole selection
  let keep: Uint8Array | null = null
  let assigned: Int32Array | null = null
  let columns: string[] = needsColumns ? columnsOf(sources) : []
  const schema = new SchemaBuilder()
  if (firstPass) {
    const sampleHash: number[] = []
    const splitHash: number[] = []
    const balanceClass: string[] = []
    const stratumClass: string[] = []
    // each example's field list, as an id into `shapes`: the CSV/TSV columns are those of
    // the examples kept, known only once balancing and sampling have chosen
    const shapes = new Map<string, number>()
    const shapeOf: number[] = []
    const sampling = Boolean(opts.balanceBy || opts.maxSamples !== undefined)
    let count = 0
    // --quality-filter: each source's examples are scored once the whole file is seen
    const qualityKeep: number[] = []
    const scoring: {source: Source | null; check: FileCheckLike | null; start: number} = {source: null, check: null, start: 0}
    const closeSource = (end: number) => {
      if (scoring.check) {
        const {score, validated} = scoring.check.exampleScores()
        score.forEach((x, i) => qualityKeep.push(scorer!.passes(x, validated[i]) ? 1 : 0))
      } else for (let i = scoring.start; i < end; i++) qualityKeep.push(0)
    }
    for (const {source, e} of selected()) {
      if (scorer && scoring.source !== source) {
        if (scoring.source) closeSource(count)
        Object.assign(scoring, {source, check: scorer.checkFor(source), start: count})
      }
      scoring.check?.add(e.example, e.line, e.bytes)
      count++
      if (sampling || splits) {
        const id = identity(source, e)
        if (sampling) sampleHash.push(unitHash(`${seed}/sample`, id))
        if (splits) splitHash.push(unitHash(seed, id))
      }
      if (opts.balanceBy) balanceClass.push(classKey(getPath(e.example, opts.balanceBy)))
      if (opts.stratifyBy) stratumClass.push(classKey(getPath(e.example, opts.stratifyBy)))
      if (needsColumns) {
        const shape = Object.keys(e.example).join('\0')
        let id = shapes.get(shape)
        if (id === undefined) shapes.set(shape, (id = shapes.size))
        shapeOf.push(id)
      }
      // typed formats: the schema of every example that matched (a superset of those kept)
      if (typed) schema.add(e.example, source.format !== 'jsonl')
    }
    if (scorer && scoring.source) closeSource(count)
    const n = count
    keep = new Uint8Array(n).fill(1)
    // the quality filter selects first; balancing and sampling choose among what it kept
    if (scorer) for (let i = 0; i < n; i++) keep[i] = qualityKeep[i]
    if (opts.balanceBy) balance(keep, balanceClass, sampleHash)
    if (opts.maxSamples !== undefined) sample(keep, sampleHash, opts.maxSamples)
    if (needsColumns) columns = keptColumns([...shapes.keys()], shapeOf, keep)
    if (splits) {
      assigned = new Int32Array(n)
      if (opts.stratifyBy) {
        const byClass = new Map<string, number[]>()
        for (let i = 0; i < n; i++) if (keep[i]) (byClass.get(stratumClass[i]) ?? byClass.set(stratumClass[i], []).get(stratumClass[i])!).push(i)
        for (const members of byClass.values()) {
          const placed = stratify(splits, members.map((i) => splitHash[i]))
          members.forEach((i, j) => (assigned![i] = placed[j]))
        }
      } else for (let i = 0; i < n; i++) assigned[i] = splitAt(splits, splitHash[i])
    }
  }

  // second pass: write
  makeOutputDirs(layout)
  if (hf) mkdirSync(join(layout.folder!, 'data'), {recursive: true})
  const names = splits ? splits.map((s) => s.name) : hf ? ['train'] : [null]
  const {createWriter: create, card} = await formatModule(opts.format)
  const writers = openWriters(layout, names, (name) => {
    const fileName = name === null ? basename(layout.file!) : `${hf ? 'data/' : ''}${name}.${EXTENSIONS[opts.format]}`
    return create({dest: name === null ? layout.file! : join(layout.folder!, fileName), name: fileName, columns: typed ? [...schema.fields.keys()] : columns, schema: schema.fields, maxRowsPerFile: opts.maxRowsPerFile})
  })
  const perSplit: Record<string, number> = Object.fromEntries(names.map((n) => [n ?? 'all', 0]))
  let written = 0
  let ordinal = 0
  // the Hugging Face dataset card, written beside the data once every file is complete
  const extra = card ? () => [{name: 'README.md', content: Buffer.from(card({schema: schema.fields, splits: names.map((n) => ({name: n!, rows: perSplit[n!]})), commit, rev}))}] : undefined
  return publish(layout, writers, () => {
    for (const {source, e} of selected()) {
      const i = ordinal++
      if (keep && !keep[i]) continue
      const w = assigned ? assigned[i] : splits ? splitAt(splits, unitHash(seed, identity(source, e))) : 0
      writers[w].write({example: e.example, bytes: e.bytes, format: source.format, header: source.headerText, path: source.path, line: e.line})
      perSplit[names[w] ?? 'all']++
      written++
    }
  }, (files) => ({
    ...manifestHead(commit, rev, opts.command, opts.format),
    sources: sources.map((s) => ({path: s.path, examples: s.examples})),
    selection: {files: opts.files?.length ? opts.files : null, where: opts.where ?? null, balanceBy: opts.balanceBy ?? null, maxSamples: opts.maxSamples ?? null},
    split: splits ? {spec: splits, seed, groupBy: opts.groupBy ?? null, stratifyBy: opts.stratifyBy ?? null} : null,
    counts: {read, matched: ordinal, notApplicable, written, perSplit},
    files,
  }), extra)
}

/** The data files of `rev` matching `files` (all when none), ready to be read on this thread. */
export async function loadSources(repo: Repository, rev: string, files?: string[]): Promise<{commit: Oid; sources: Source[]; tree: FileMap}> {
  const {commit} = await repo.resolve(rev)
  const tree = await flattenTree(repo.store, (await readCommit(repo, commit)).tree)
  const matchers = (files ?? []).map(pathMatcher)
  const sources: Source[] = []
  for (const entry of tree.values()) {
    if (entry.type !== 'table' || (matchers.length > 0 && !matchers.some((m) => m(entry.name)))) continue
    const table = await readTable(repo.store, entry.oid)
    const leaves = await locateTableLeaves(repo.store, table)
    const format = table.format as TableFormat
    const headerText = stripTerminator(Buffer.from(table.header)).toString('utf8')
    const columns = format === 'jsonl' ? [] : distinctNames(splitHeader(headerText, format))
    sources.push({path: entry.name, format, header: table.header, headerText, columns, leaves, key: chooseKey(entry.name, table.fields, repo.config.keys ?? {}), examples: table.examples, bytes: table.bytes})
  }
  if (sources.length === 0) {
    throw new DsvError('E_PATH_NOT_FOUND', files?.length ? `no data file of ${rev} matches ${files.join(', ')}` : `${rev} holds no data files (JSONL, CSV, TSV)`, {rev, files: files ?? null}, 'see `dsv show REV` for the files of a version')
  }
  return {commit, sources, tree}
}

/**
 * Runs `fill` (which writes rows into `writers`), completes the files, writes the manifest
 * next to them and moves everything into place. On any failure every temp file goes, and
 * a folder this export made is removed: nothing half-written is left.
 */
export async function publish(layout: OutputLayout, writers: ExportWriter[], fill: () => void, manifestOf: (files: WrittenFile[]) => ExportManifest, extra?: () => Array<{name: string; content: Buffer}>): Promise<ExportResult> {
  let manifest: AtomicFileWriter | null = null
  const extras: AtomicFileWriter[] = []
  try {
    fill()
    const files: WrittenFile[] = []
    for (const w of writers) files.push(...(await w.finish()))
    // files made from the whole export (a dataset card), listed with the data files (0 rows)
    for (const x of extra?.() ?? []) {
      const f = new AtomicFileWriter(join(layout.folder!, x.name), {aside: false})
      f.write(x.content)
      extras.push(f)
      files.push({name: x.name, rows: 0, bytes: x.content.length, sha256: createHash('sha256').update(x.content).digest('hex')})
    }
    const result = manifestOf(files)
    const manifestPath = layout.folder ? join(layout.folder, 'manifest.json') : `${layout.file}.manifest.json`
    manifest = new AtomicFileWriter(manifestPath, {aside: false})
    manifest.write(Buffer.from(`${JSON.stringify(result, null, 2)}\n`))
    for (const w of writers) w.commit()
    for (const f of extras) f.commit()
    manifest.commit()
    return {...result, output: layout.folder ?? layout.file!, manifestPath}
  } catch (error) {
    for (const w of writers) w.discard()
    for (const f of extras) f.abort()
    manifest?.abort()
    if (layout.created) rmSync(layout.folder!, {recursive: true, force: true}) // the folder this export made
    throw error
  }
}

/**
 * `--quality-filter` outside the Common Voice profile: each example's score and tier from
 * the version's rules file (see dsv quality). gold and high: score >= 90; silver and
 * medium: >= 75 (silver or better); validated: a human-validated label. Examples of files
 * the rules do not cover have no score and are left out.
 */
const QUALITY_FILTERS = ['gold', 'silver', 'high', 'medium', 'validated']

interface FileCheckLike {
  add(example: Record<string, unknown>, line: number, bytes: Buffer): void
  exampleScores(): {score: Float64Array; validated: Uint8Array}
}

async function qualityScorer(repo: Repository, tree: FileMap, filter: string): Promise<{checkFor: (s: Source) => FileCheckLike | null; passes: (score: number, validated: number) => boolean}> {
  const {loadRules, rulesFor} = await import('./quality.js')
  const {FileCheck} = await import('../quality/file-check.js')
  const rules = await loadRules(repo, tree, false)
  if (rules.files.length === 0) throw new DsvError('E_USAGE', `--quality-filter ${filter} needs a rules file (dsv.yaml) in the exported version`, {}, 'see `dsv quality check --help`')
  const allPaths = new Set(tree.keys())
  const min = filter === 'gold' || filter === 'high' ? 90 : 75
  return {
    checkFor: (s) => {
      const r = rulesFor(rules, s.path)
      return r ? new FileCheck(s.path, r, s.format !== 'jsonl', allPaths) : null
    },
    passes: (score, validated) => (filter === 'validated' ? validated === 1 : score >= min),
  }
}

interface FormatModule {
  createWriter: (o: WriterOptions) => ExportWriter
  /** a dataset card written beside the files once all are complete (the Hugging Face folder) */
  card?: (info: CardInfo) => string
}

/** The writer of a format: text formats here, the others from their own module. */
async function formatModule(format: ExportFormat): Promise<FormatModule> {
  if ((TEXT_FORMATS as readonly string[]).includes(format)) return {createWriter: (o) => new RowWriter(o.dest, o.name, format as TextFormat, o.columns)}
  const mod = (await import(`../export/${format}-writer.js`)) as {createWriter: FormatModule['createWriter']; datasetCard?: FormatModule['card']}
  return {createWriter: mod.createWriter, card: mod.datasetCard}
}

/**
 * Where the files go: one file, or a folder with a file per split; an existing output
 * needs --force. Checked before reading anything; folders are made only when writing starts.
 */
export interface OutputLayout {
  file?: string
  folder?: string
  /** the folder did not exist before this export */
  created: boolean
}

/** What every manifest starts with: the commit, how it was named, the command, the format. */
export function manifestHead(commit: Oid, rev: string, command: string[] | undefined, format: ExportFormat): Pick<ExportManifest, 'dsvExport' | 'commit' | 'rev' | 'command' | 'format'> {
  return {dsvExport: 1, commit, rev, command: command ?? [], format}
}

/** Opens a writer per name; if one cannot be opened, those already open are removed again. */
export function openWriters<N, W extends ExportWriter>(layout: OutputLayout, names: N[], open: (name: N) => W): W[] {
  const out: W[] = []
  try {
    for (const n of names) out.push(open(n))
    return out
  } catch (error) {
    for (const w of out) w.discard()
    if (layout.created) rmSync(layout.folder!, {recursive: true, force: true})
    throw error
  }
}

/** Makes the output folder (or the file's parent), once writing starts. */
export function makeOutputDirs(layout: OutputLayout): void {
  mkdirSync(layout.folder ?? dirname(layout.file!), {recursive: true})
}

export function planOutput(opts: {output: string; force?: boolean; format?: ExportFormat; maxRowsPerFile?: number}, splits: unknown[] | null): OutputLayout {
  const out = opts.output
  if (splits) {
    if (existsSync(out)) {
      if (!statSync(out).isDirectory()) throw new DsvError('E_USAGE', `--output ${out} is a file; ${opts.format === 'hf' ? 'the Hugging Face format writes a folder' : 'with --split it must be a folder'}`, {output: out})
      if (readdirSync(out).length > 0 && !opts.force) throw new DsvError('E_OUTPUT_EXISTS', `--output ${out} is not empty`, {output: out}, 'pass --force to write into it (files of the same names are replaced)')
      return {folder: out, created: false}
    }
    return {folder: out, created: true}
  }
  if (existsSync(out)) {
    if (statSync(out).isDirectory()) throw new DsvError('E_USAGE', `--output ${out} is a folder; without --split it names a file`, {output: out})
    if (!opts.force) throw new DsvError('E_OUTPUT_EXISTS', `--output ${out} exists`, {output: out}, 'pass --force to replace it')
  }
  // shards go beside the file (out-00000-of-00003.parquet): those of an earlier export count as the output too
  if (opts.maxRowsPerFile && opts.format && SHARDED.includes(opts.format) && !opts.force && existsSync(dirname(out))) {
    const stem = basename(out).replace(/\.[^.]*$/, '')
    const shard = readdirSync(dirname(out)).find((f) => f.startsWith(`${stem}-`) && /-\d{5,}-of-\d{5,}\.[^.]+$/.test(f.slice(stem.length)))
    if (shard) throw new DsvError('E_OUTPUT_EXISTS', `${join(dirname(out), shard)} exists`, {output: out}, 'pass --force to replace the shards')
  }
  return {file: out, created: false}
}

/** The fields of the kept examples, in the order first seen. */
function keptColumns(shapes: string[], shapeOf: number[], keep: Uint8Array): string[] {
  const out: string[] = []
  const seen = new Set<string>()
  const done = new Set<number>()
  for (let i = 0; i < shapeOf.length; i++) {
    if (!keep[i] || done.has(shapeOf[i])) continue
    done.add(shapeOf[i])
    for (const c of shapes[shapeOf[i]].split('\0')) if (c !== '' && !seen.has(c)) (seen.add(c), out.push(c))
  }
  return out
}

/** The CSV/TSV columns when there is no first pass: the sources' headers. */
function columnsOf(sources: Source[]): string[] {
  return [...new Set(sources.flatMap((s) => s.columns))]
}

/** A class value for balancing or stratifying: lists compare as their sorted items. */
function classKey(v: unknown): string {
  if (v === undefined || v === null || v === '') return '(none)'
  // the quality system's class names; an empty list or object is still its own class here
  return labelClassOf(v) ?? JSON.stringify(v)
}

/** Caps every class at the size of the smallest, keeping the examples with the lowest hash. */
function balance(keep: Uint8Array, classes: string[], hash: number[]): void {
  const byClass = new Map<string, number[]>()
  for (let i = 0; i < classes.length; i++) (byClass.get(classes[i]) ?? byClass.set(classes[i], []).get(classes[i])!).push(i)
  const cap = Math.min(...[...byClass.values()].map((m) => m.length))
  for (const members of byClass.values()) {
    members.sort((a, b) => hash[a] - hash[b] || a - b)
    for (const i of members.slice(cap)) keep[i] = 0
  }
}

/** Keeps at most `max` examples: a deterministic random sample (the lowest hashes). */
function sample(keep: Uint8Array, hash: number[], max: number): void {
  const kept: number[] = []
  for (let i = 0; i < keep.length; i++) if (keep[i]) kept.push(i)
  if (kept.length <= max) return
  kept.sort((a, b) => hash[a] - hash[b] || a - b)
  for (const i of kept.slice(max)) keep[i] = 0
}

/**
 * `--where`: a filtrex expression over the example's fields (dotted paths reach nested
 * fields: `expected_output.tier == "A"`). Returns true, false, or null when it cannot be
 * evaluated for this example (a field it names is missing or null, a text where a number
 * is needed).
 */
function compileWhere(expr: string): (example: Record<string, unknown>, textual: boolean) => boolean | null {
  let current: {example: Record<string, unknown>; textual: boolean} = {example: {}, textual: false}
  let missing = false
  let fn: (data: unknown) => unknown
  try {
    fn = compileExpression(expr, {
      customProp: (name: string) => {
        const v = getPath(current.example, name)
        if (v === undefined || v === null) missing = true
        // CSV/TSV cells are text: numbers in them compare as numbers
        if (current.textual && typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) return Number(v)
        return v === undefined ? null : v
      },
    })
  } catch (error) {
    throw new DsvError('E_USAGE', `--where: ${(error as Error).message.split('\n').join(' ')}`, {where: expr}, 'e.g. --where \'quality_score >= 0.8 and validation_status == "validated"\'')
  }
  return (example, textual) => {
    current = {example, textual}
    missing = false
    const r = fn({})
    // an example that lacks a field the expression names is not judged by it (`!=` would
    // otherwise select every example without the field)
    if (r instanceof Error || missing) return null
    return r === true || r === 1
  }
}
