import {resolve} from 'node:path'
import {Args, Flags} from '@oclif/core'
import {DsvCommand} from '../base-command.js'
import {EXPORT_FORMATS, type ExportFormat} from '../core/ops/export.js'
import type {ExportResult} from '../core/ops/export.js'
import {shortId} from '../ui/format.js'
import {DsvError} from '../errors/index.js'

export default class Export extends DsvCommand {
  static override summary = 'Write a committed version as training files: selected, split deterministically, with a manifest.'
  static override description = `Reads REV's data files (JSONL, CSV, TSV) from the store, never the working tree, and writes their examples in --format to --output: one file, or with --split a folder holding one file per split. A manifest (commit id, command line, selection, seed, counts per split, SHA-256 of every file written) goes next to the output (OUTPUT.manifest.json, or manifest.json in the folder). Files appear only when all of them are complete.

Rows keep their source bytes where the format allows (JSONL into JSONL or JSON; a TSV into a TSV with the same columns). In CSV and TSV, nested values are written as JSON text; TSV is never quoted, so a value holding a tab or a line break is an error (exit 5). In JSON, CSV/TSV cells are strings.

Parquet keeps types: booleans, INT64, DOUBLE, UTF8 strings, objects as structs and lists as lists (a field whose values disagree in type is a string holding JSON); --max-rows-per-file cuts it into NAME-00000-of-0000N.parquet shards. --format hf writes a folder that Hugging Face datasets.load_dataset(folder) loads: data/<split>-00000-of-0000N.parquet with the splits named train, validation, test (val, valid, dev → validation; eval → test), and a README.md dataset card declaring the splits and features. TFRecord holds one tf.train.Example per example (flat features; objects as JSON text).

Splits: an example's split is a function of --seed and its identity (its key; its --group-by value; its content when the file is keyless), so re-exporting gives identical files and an example keeps its split when the dataset grows. --stratify-by orders each class by that hash and fills the splits in proportion (exact class ratios; an example may then move when its class grows). --balance-by caps every class at the size of the smallest; --max-samples keeps a deterministic random sample; both choose by a seeded hash, not by position.

--where takes a filtrex expression over the fields: dotted paths reach nested fields; and, or, not, ==, !=, <, <=, >, >=, in, arithmetic. Examples where it cannot be evaluated (a missing field, text where a number is needed) are left out and counted.`

  static override examples = [
    '<%= config.bin %> export v1 --format jsonl --output /tmp/train.jsonl',
    '<%= config.bin %> export HEAD --format csv --output out/golden.csv --files "golden/*.jsonl" --where \'quality_score >= 0.8 and validation_status == "validated"\'',
    '<%= config.bin %> export v2 --format jsonl --output out/ --split train=0.8,val=0.1,test=0.1 --seed 7',
    '<%= config.bin %> export v2 --format tsv --output cv/ --files "common_voice/*.tsv" --split train=0.8,dev=0.1,test=0.1 --group-by client_id',
    '<%= config.bin %> export HEAD --format jsonl --output stt.jsonl --files golden/stt_failed_cases.jsonl --balance-by error_types --max-samples 1000',
    '<%= config.bin %> export v2 --format parquet --output golden.parquet --files "golden/*.jsonl"',
    '<%= config.bin %> export v2 --format hf --output hf/ --split train=0.8,val=0.1,test=0.1 --max-rows-per-file 100000',
    '<%= config.bin %> export v3 --format jsonl --output gold.jsonl --files "golden/*.jsonl" --quality-filter gold',
    '<%= config.bin %> export v3 --profile cv22 --output cv-corpus/ --files "common_voice/*.tsv"',
    '<%= config.bin %> export v3 --profile cv22 --aggregate sentence --clips common_voice/validated.tsv --contributions contributions.tsv --cv22-format extended --quality-filter medium --output sentences.tsv',
  ]

  static override args = {rev: Args.string({description: 'the version to export (branch, tag or commit)', required: true})}
  static override flags = {
    format: Flags.string({char: 'f', summary: 'Output format (with --profile cv22: tsv by default).', options: [...EXPORT_FORMATS]}),
    output: Flags.string({char: 'o', summary: 'Output file, or folder with --split, --format hf or --profile cv22.', required: true, helpValue: 'PATH'}),
    files: Flags.string({summary: 'Only data files matching this gitignore-style pattern (repeatable).', multiple: true, helpValue: 'PATTERN'}),
    where: Flags.string({summary: 'Only examples for which this expression is true.', helpValue: 'EXPR'}),
    'max-samples': Flags.integer({summary: 'At most N examples (a deterministic random sample).', min: 0, helpValue: 'N'}),
    'balance-by': Flags.string({summary: 'Cap every class of this field at the size of the smallest class.', helpValue: 'FIELD'}),
    split: Flags.string({summary: 'Split into named parts by ratio, e.g. train=0.8,val=0.1,test=0.1.', helpValue: 'NAME=RATIO,...'}),
    seed: Flags.string({summary: 'Seed of the split and sampling hash (default 0).', helpValue: 'S'}),
    'group-by': Flags.string({summary: 'Keep every example of a group (e.g. a speaker, client_id) in one split.', helpValue: 'FIELD'}),
    'stratify-by': Flags.string({summary: 'Keep the class proportions of this field in every split.', helpValue: 'FIELD'}),
    profile: Flags.string({summary: "Common Voice's corpus layout: validated/invalidated/other/train/dev/test.tsv, speaker-disjoint splits.", options: ['cv22']}),
    aggregate: Flags.string({summary: 'With --profile cv22: one row per sentence from the clip and contribution tables.', options: ['sentence']}),
    clips: Flags.string({summary: 'With --aggregate: the original clip tables (default: tables with client_id, path, sentence).', multiple: true, helpValue: 'PATTERN'}),
    contributions: Flags.string({summary: 'With --aggregate: the user contribution tables (default: tables with a session_type column).', multiple: true, helpValue: 'PATTERN'}),
    'cv22-format': Flags.string({summary: 'With --aggregate: the 13 Common Voice columns, or those plus contributor and quality columns.', options: ['standard', 'extended'], default: 'standard'}),
    'quality-filter': Flags.string({summary: 'Only examples of this quality: gold/high (score >= 90), silver/medium (>= 75), validated (a human-validated label), from the rules file (dsv.yaml). With --aggregate: high, medium, validated as Common Voice sentences.', options: ['gold', 'silver', 'high', 'medium', 'validated']}),
    'max-rows-per-file': Flags.integer({summary: 'Shard Parquet, Hugging Face and TFRecord output after N rows per file.', min: 1, helpValue: 'N'}),
    force: Flags.boolean({summary: 'Replace an existing output file, or write into a non-empty folder.'}),
  }

  async run(): Promise<ExportResult> {
    const {args, flags} = await this.parse(Export)
    const repo = await this.openRepo()
    const progress = this.progress()
    if (!flags.format && !flags.profile) throw new DsvError('E_USAGE', 'missing --format', {}, `one of ${EXPORT_FORMATS.join(', ')}; or --profile cv22`)
    const r = await repo.export(args.rev, {
      format: (flags.format ?? 'tsv') as ExportFormat,
      profile: flags.profile as 'cv22' | undefined,
      aggregate: flags.aggregate,
      clips: flags.clips,
      contributions: flags.contributions,
      cvFormat: flags.aggregate ? (flags['cv22-format'] as 'standard' | 'extended') : undefined,
      qualityFilter: flags['quality-filter'],
      output: resolve(flags.output),
      files: flags.files,
      where: flags.where,
      maxSamples: flags['max-samples'],
      balanceBy: flags['balance-by'],
      split: flags.split,
      seed: flags.seed,
      groupBy: flags['group-by'],
      stratifyBy: flags['stratify-by'],
      maxRowsPerFile: flags['max-rows-per-file'],
      force: flags.force,
      command: ['dsv', 'export', ...this.argv],
      onProgress: progress.onProgress,
    })
    progress.done()
    const c = r.counts
    this.say(`Exported ${args.rev} (${shortId(r.commit)}): ${c.written.toLocaleString('en-US')} of ${c.read.toLocaleString('en-US')} examples to ${r.output}`)
    const data = r.files.filter((f) => !(r.format === 'hf' && f.name === 'README.md'))
    const width = Math.max(20, ...data.map((f) => f.name.length))
    if (r.split || r.profile || data.length > 1) for (const f of data) this.say(`  ${f.name.padEnd(width)} ${String(f.rows).padStart(9)} examples`)
    if (c.notApplicable > 0) this.say(`  ${c.notApplicable} examples left out: --where could not be evaluated on them (a missing field or a text where a number is needed)`)
    this.say(`manifest: ${r.manifestPath}`)
    return r
  }
}
