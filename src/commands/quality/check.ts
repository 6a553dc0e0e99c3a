import {resolve} from 'node:path'
import {Args, Flags} from '@oclif/core'
import {DsvCommand} from '../../base-command.js'
import type {QualityResult} from '../../core/ops/quality.js'
import {painter} from '../../ui/diff-render.js'
import {qualityLines} from '../../ui/quality-render.js'
import {DsvError, EXIT_CODES} from '../../errors/index.js'

export default class QualityCheck extends DsvCommand {
  static override summary = 'Check data quality against the rules file: scores, tiers, and what to fix.'
  static override description = `Runs the checks of the rules file (dsv.yaml or dsv.json at the dataset root, versioned with the data) over a version: the working tree by default, or REV.

Dataset checks, each the share of examples that pass: completeness (required fields present, non-empty, of the right type), consistency (cross-field rules), validity (types, ranges, allowed values, lengths, JSON Schema), uniqueness (duplicate keys or content; the same key, content or group in two split files: leakage) and referential integrity (referenced files exist; files nobody references). Each example gets a score 0-100 (completeness 30, correctness 40, clarity 15, representativeness 15) and a tier: gold >= 90, silver >= 75, bronze >= 60, rejected below.

Exit codes: 0 passed; 9 (E_QUALITY_FAILED) a threshold failed; 10 (E_RULES) the rules file is broken (the message names its line).

A rules file:
  gate: true                      # dsv commit refuses data that fails (--no-verify skips)
  thresholds: {completeness: 95, consistency: 90, validity: 95, overall: 90}
  files:
    - pattern: "golden/*.jsonl"   # gitignore syntax
      profile: golden             # golden | common-voice | stt-failed | conversations
      ranges: {quality_score: {min: 0, max: 1}}
See the README for every setting and an example per profile.`

  static override examples = [
    '<%= config.bin %> quality check',
    '<%= config.bin %> quality check v2',
    '<%= config.bin %> quality check HEAD -- golden/',
    '<%= config.bin %> quality check --min-score 90 --json > quality.json',
    '<%= config.bin %> quality check v1 --rules ../new-rules.yaml',
  ]

  static override strict = false
  static override args = {rev: Args.string({description: 'version to check (default: the working tree); paths after --'})}
  static override flags = {
    'min-score': Flags.integer({summary: 'Overall score needed to pass (overrides the rules file).', min: 0, max: 100}),
    limit: Flags.integer({summary: 'Problems listed (default 10).', min: 1, default: 10}),
    rules: Flags.string({summary: "A rules file to use instead of the version's own (try new rules on an old version).", helpValue: 'FILE'}),
  }

  async run(): Promise<QualityResult> {
    const {argv, flags} = await this.parse(QualityCheck)
    const {revisions: revs, paths} = this.revisionsAndPaths(argv as string[])
    if (revs.length > 1) throw new DsvError('E_USAGE', `one revision at most: ${revs.join(' ')}`, {}, 'put paths after --')
    const repo = await this.openRepo()
    const progress = this.progress()
    const result = await repo.qualityCheck(revs[0] ? {rev: revs[0]} : {worktree: true}, {paths, onProgress: progress.onProgress, minScore: flags['min-score'], rulesFile: flags.rules && resolve(flags.rules)})
    progress.done()
    const paint = painter(process.stdout.isTTY === true && !process.env.NO_COLOR)
    for (const line of qualityLines(result, paint, flags.limit)) this.say(line)
    if (!result.passed) process.exitCode = EXIT_CODES.E_QUALITY_FAILED
    return result
  }
}
