import {Flags} from '@oclif/core'
import {DsvCommand} from '../base-command.js'
import {QualityGateError, type CommitResult} from '../core/ops/commit.js'
import {painter} from '../ui/diff-render.js'
import {formatCounts, shortId, summaryLine} from '../ui/format.js'

export default class Commit extends DsvCommand {
  static override summary = 'Record the working directory as a new version.'
  static override description = `Snapshots every file under the dataset folder except .dsv/ and what .dsvignore names. Data files (.jsonl, .ndjson, .csv, .tsv) are stored example by example, so unchanged examples are stored once; a file with a bad line (not JSON, a ragged row, invalid UTF-8) stops the commit with its file and line, and nothing is committed.

When the dataset has a rules file (dsv.yaml), its quality checks run on what is being committed and the summary is recorded in the commit (see dsv log). With \`gate: true\` a failing check stops the commit (exit 9) and prints the report; --no-verify skips the check.

The author comes from --author, then DSV_AUTHOR_NAME/DSV_AUTHOR_EMAIL, then \`dsv config user.name/user.email\`, then git's config (the enclosing repository's, then ~/.gitconfig, then $XDG_CONFIG_HOME/git/config). Name and email are both needed, are trimmed, and may not hold control characters. Inside a git repository the commit also records that repository's HEAD (code provenance).`
  static override examples = [
    '<%= config.bin %> commit -m "add 500 validated examples"',
    '<%= config.bin %> commit -m "fix labels" --author "Ada Lovelace <ada@example.com>"',
    '<%= config.bin %> commit -m "nightly snapshot" --json',
    '<%= config.bin %> commit -m "WIP, checks fail" --no-verify',
  ]
  static override flags = {
    message: Flags.string({char: 'm', summary: 'What changed and why.', required: true}),
    author: Flags.string({summary: 'Author as "Name <email>".'}),
    'allow-empty': Flags.boolean({summary: 'Commit even if nothing changed.'}),
    'no-verify': Flags.boolean({summary: 'Skip the quality check of the rules file (and its gate), as git commit --no-verify.'}),
  }

  async run(): Promise<Omit<CommitResult, 'changes'>> {
    const {flags} = await this.parse(Commit)
    const repo = await this.openRepo()
    const progress = this.progress()
    let result: CommitResult
    try {
      result = await repo.commit({message: flags.message, author: flags.author, allowEmpty: flags['allow-empty'], noVerify: flags['no-verify'], onProgress: progress.onProgress})
    } catch (error) {
      progress.done()
      // the gate's report says what to fix: show it before the error line
      if (error instanceof QualityGateError && !this.jsonEnabled()) {
        const {qualityLines} = await import('../ui/quality-render.js')
        for (const line of qualityLines(error.report, painter(false))) process.stderr.write(`${line}\n`)
      }
      throw error
    }
    progress.done()
    this.say(`[${result.branch ?? 'detached HEAD'} ${shortId(result.id)}] ${summaryLine(flags.message.trim())}`)
    this.say(` files ${formatCounts(result.files)}, examples ${formatCounts(result.examples)}`)
    if (result.quality) this.say(` quality ${result.quality.overall}% (${result.quality.passed ? 'passed' : 'below thresholds'}), silver or better ${result.quality.silverOrBetter}%`)
    const {changes: _changes, ...json} = result
    return json
  }
}
