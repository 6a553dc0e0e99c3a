/**
 * `--format hf`: a folder that Hugging Face `datasets.load_dataset(folder)` loads with its
 * splits. Each split is Parquet (the Parquet writer's types) in
 * `data/<split>-00000-of-0000N.parquet`, split names as the Hub expects them (`val`, `dev`
 * → `validation`, ...), and a `README.md` dataset card whose YAML declares the config,
 * its data files per split, the features and the number of examples of every split.
 */
import {stringify} from 'yaml'
import {DsvError} from '../../errors/index.js'
import {ParquetExportWriter} from './parquet-writer.js'
import type {Field, FieldType} from './schema.js'
import type {SplitSpec} from './splits.js'
import type {ExportWriter, WriterOptions} from './writers.js'

export function createWriter(opts: WriterOptions): ExportWriter {
  const parquet = new ParquetExportWriter(opts, true)
  let empty = false
  // `datasets` refuses to load a split without rows ("corresponds to no data"): an empty
  // split gets no file, and the card leaves it out
  return {
    write: (row) => parquet.write(row),
    async finish() {
      const files = await parquet.finish()
      empty = files.every((f) => f.rows === 0)
      if (empty) parquet.discard()
      return empty ? [] : files
    },
    // an empty split also removes the shards an earlier export (--force) left under its name
    commit: () => (empty ? parquet.removeStaleShards(0) : parquet.commit()),
    discard: () => parquet.discard(),
  }
}

const ALIASES: Record<string, string> = {
  training: 'train',
  val: 'validation',
  valid: 'validation',
  validate: 'validation',
  dev: 'validation',
  eval: 'test',
  testing: 'test',
}

/** The splits under the names the Hub gives them; two that become one name, or a name the Hub refuses, are an error. */
export function hfSplits(splits: SplitSpec[]): SplitSpec[] {
  const out = splits.map((s) => ({...s, name: ALIASES[s.name.toLowerCase()] ?? s.name}))
  for (const [i, s] of out.entries()) {
    if (!/^\w+$/.test(s.name)) throw new DsvError('E_USAGE', `--split: ${splits[i].name} is not a Hugging Face split name (letters, digits, _)`, {split: splits[i].name}, 'e.g. --split train=0.8,validation=0.1,test=0.1')
    const first = out.findIndex((t) => t.name === s.name)
    if (first !== i) throw new DsvError('E_USAGE', `--split: ${splits[first].name} and ${splits[i].name} are both the Hugging Face split ${s.name}`, {split: s.name})
  }
  return out
}

export interface CardInfo {
  schema: Map<string, Field>
  /** every split with its example count, in --split order */
  splits: Array<{name: string; rows: number}>
  commit: string
  rev: string
}

/** The dataset card: YAML front matter for `datasets`, then a few lines for people. */
export function datasetCard(info: CardInfo): string {
  const splits = info.splits.filter((s) => s.rows > 0)
  const meta = {
    configs: [{config_name: 'default', data_files: splits.map((s) => ({split: s.name, path: `data/${s.name}-*`}))}],
    dataset_info: {
      features: [...info.schema].map(([name, f]) => feature(name, f.type)),
      splits: splits.map((s) => ({name: s.name, num_examples: s.rows})),
    },
  }
  return `---
${stringify(meta, {lineWidth: 0, indentSeq: false})}---

# Dataset exported by dsv

Version \`${info.rev}\` (commit \`${info.commit}\`), exported by \`dsv export --format hf\`;
\`manifest.json\` beside this card names the command, the selection, the seed and the SHA-256
of every file. Splits: ${splits.map((s) => `${s.name} (${s.rows})`).join(', ')}.

Nested objects are structs and lists are lists; a field whose values have different types
in different examples is a string holding each value as JSON.
`
}

/** One feature as the card's YAML writes it (`datasets` reads the key after `name` as the type). */
function feature(name: string, t: FieldType): Record<string, unknown> {
  return {name, ...featureType(t)}
}

function featureType(t: FieldType): Record<string, unknown> {
  switch (t.kind) {
    case 'bool':
      return {dtype: 'bool'}
    case 'int':
      return {dtype: 'int64'}
    case 'float':
      return {dtype: 'float64'}
    case 'struct':
      // an empty object is JSON text in the Parquet file
      return t.fields.size === 0 ? {dtype: 'string'} : {struct: [...t.fields].map(([k, f]) => feature(k, f.type))}
    case 'list': {
      if (t.item.kind === 'null') return {list: 'string'}
      const inner = featureType(t.item)
      // `list: string`, `list: [fields]` (a list of structs), `list: {list: ...}`
      return {list: 'dtype' in inner ? inner.dtype : 'struct' in inner ? inner.struct : inner}
    }
    default:
      return {dtype: 'string'}
  }
}
