import {existsSync} from 'node:fs'
import {Args, Flags} from '@oclif/core'
import {DsvCommand} from '../base-command.js'
import {DsvError} from '../errors/index.js'
import type {DatasetDiff, DiffSide} from '../core/ops/dataset-diff.js'
import {exampleLines, isEmptyDiff, labelLines, markdown, nameStatusLines, painter, summaryLines} from '../ui/diff-render.js'

/** Version of the `--json` document (docs/diff-json.md); bumped on any incompatible change. */
export const DIFF_SCHEMA_VERSION = 1

export default class Diff extends DsvCommand {
  static override summary = 'Show which examples and fields changed between two versions.'
  static override description = `Compares two versions example by example: per data file, the examples added, removed and modified (matched by the file's key), the fields that changed with old and new values, and examples whose key moved from one file to another (e.g. train → test). Files added, removed, renamed and binary files changed are listed with sizes.

With no revision, compares HEAD with the working directory; with one, that revision with the working directory; with two (A B or A..B), A with B. Paths after -- limit the diff to those files or folders.

Label summary: name label fields with \`dsv config labels.<file pattern> field[,field]\` (e.g. labels.*.jsonl expected_output.tier,validation_status) to see counts per value before and after among the changed examples.

The --json document is described in docs/diff-json.md (schema: docs/diff.schema.json).`

  static override examples = [
    '<%= config.bin %> diff',
    '<%= config.bin %> diff v1 v2',
    '<%= config.bin %> diff v1..v2 --stat',
    '<%= config.bin %> diff v1 v2 -- golden/train.jsonl',
    '<%= config.bin %> diff HEAD~1 --name-status',
    '<%= config.bin %> diff v1 v2 --format markdown > review.md',
    '<%= config.bin %> diff v1 v2 --json > changes.json',
    '<%= config.bin %> diff --exit-code --stat   # exit 1 when the working tree differs from HEAD',
  ]

  static override strict = false
  static override args = {
    revisions: Args.string({description: 'zero, one or two revisions (A B, or A..B), then -- and paths'}),
  }

  static override flags = {
    stat: Flags.boolean({summary: 'Only the summary: per-file counts and totals.', exclusive: ['name-status']}),
    'name-status': Flags.boolean({summary: 'Only a line per changed file: A, D, M or R and its path.'}),
    limit: Flags.integer({summary: 'Show at most N example changes per file (0: all). Default 20; all with --json.', min: 0}),
    format: Flags.string({summary: 'Output for people: text (default) or markdown (for a pull-request comment).', options: ['text', 'markdown'], default: 'text'}),
    'exit-code': Flags.boolean({summary: 'Exit with 1 when there are differences, 0 when there are none (as git diff --exit-code).'}),
    color: Flags.string({summary: 'Colour the output: auto (on a terminal), always or never.', options: ['auto', 'always', 'never'], default: 'auto'}),
  }

  async run(): Promise<(DatasetDiff & {schemaVersion: number}) | undefined> {
    const {argv, flags} = await this.parse(Diff)
    const {revisions, paths} = this.revisionsAndPaths(argv as string[])
    const [from, to] = sides(revisions)
    const countsOnly = flags.stat || flags['name-status']
    const limit = flags.limit ?? (this.jsonEnabled() ? 0 : 20)
    const repo = await this.openRepo()
    const progress = this.progress()
    const d = await repo.diff(from, to, {paths, countsOnly, limit: limit === 0 ? undefined : limit, onProgress: progress.onProgress}).catch((error: unknown) => {
      throw pathHint(error, revisions)
    })
    progress.done()
    if (flags['exit-code'] && !isEmptyDiff(d)) process.exitCode = 1
    if (!this.jsonEnabled()) this.render(d, flags, limit)
    return {schemaVersion: DIFF_SCHEMA_VERSION, ...d}
  }

  private render(d: DatasetDiff, flags: {stat: boolean; 'name-status': boolean; format: string; color: string}, limit: number): void {
    if (flags['name-status']) {
      for (const line of nameStatusLines(d)) this.say(line)
      return
    }
    if (flags.format === 'markdown') {
      this.say(markdown(d, limit).trimEnd())
      return
    }
    const paint = painter(flags.color === 'always' || (flags.color === 'auto' && process.stdout.isTTY === true && !process.env.NO_COLOR))
    for (const line of summaryLines(d, paint)) this.say(line)
    const labels = labelLines(d)
    if (labels.length > 0) this.say('')
    for (const line of labels) this.say(line)
    if (flags.stat) return
    for (const line of exampleLines(d, paint, limit)) this.say(line)
  }
}

function sides(revs: string[]): [DiffSide, DiffSide] {
  const symmetric = revs.find((r) => r.includes('...'))
  if (symmetric) throw new DsvError('E_USAGE', `${symmetric}: A...B (changes since the common ancestor) is not supported`, {rev: symmetric}, `compare A with B: dsv diff ${symmetric.replace('...', '..')}`)
  if (revs.length > 2) throw new DsvError('E_USAGE', `too many revisions: ${revs.join(' ')}`, {}, 'give at most two revisions; put paths after --')
  if (revs.length === 2) {
    const range = revs.find((r) => /\.\.(?!\.)/.test(r))
    if (range) throw new DsvError('E_USAGE', `a range (${range}) is both ends of the diff: give either A..B or A B, not both`, {}, 'put paths after --')
    return [{rev: revs[0]}, {rev: revs[1]}]
  }
  if (revs.length === 1) {
    const range = /^(.*?)\.\.(?!\.)(.*)$/.exec(revs[0])
    if (range) return [{rev: range[1] || 'HEAD'}, {rev: range[2] || 'HEAD'}]
    return [{rev: revs[0]}, {worktree: true}]
  }
  return [{rev: 'HEAD', unbornIsEmpty: true}, {worktree: true}]
}

/** An unknown revision that names an existing file or folder: the user meant a path (git says the same). */
function pathHint(error: unknown, revisions: string[]): unknown {
  if (!(error instanceof DsvError) || error.code !== 'E_BAD_REVISION') return error
  const rev = revisions.find((r) => r === error.data.rev)
  if (rev === undefined || !existsSync(rev)) return error
  return new DsvError(error.code, error.message, error.data, `'${rev}' is a path: to diff it, put it after --: dsv diff -- ${rev}`)
}
