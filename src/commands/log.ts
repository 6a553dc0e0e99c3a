import {Args, Flags} from '@oclif/core'
import {DsvCommand} from '../base-command.js'
import {DsvError} from '../errors/index.js'
import type {LogEntry} from '../core/ops/history.js'
import {commitLines, decorationText, formatCounts, shortId, summaryLine, upstreamLine} from '../ui/format.js'

export default class Log extends DsvCommand {
  static override summary = 'Show the history of versions.'
  static override description = 'Lists commits reachable from REV (default HEAD), newest first, with author, date, message, tags, and the examples added, removed and modified by each.'
  static override examples = ['<%= config.bin %> log', '<%= config.bin %> log --oneline -n 5', '<%= config.bin %> log v1 --json', '<%= config.bin %> log --min-quality 90.5 --oneline']
  static override args = {rev: Args.string({description: 'revision to start from (default HEAD)'})}
  static override flags = {
    'max-count': Flags.integer({char: 'n', summary: 'Show at most N commits (0: none, as git).', min: 0}),
    oneline: Flags.boolean({summary: 'One line per commit.'}),
    'min-quality': Flags.custom<number>({
      summary: 'Only commits whose recorded overall quality is at least N, 0 to 100 (scores have one decimal: 90.5); commits without a quality check are left out.',
      helpValue: 'N',
      parse: async (v) => {
        const n = /^\d+(\.\d+)?$/.test(v) ? Number(v) : NaN
        if (!(n >= 0 && n <= 100)) throw new DsvError('E_USAGE', `expected a number from 0 to 100 but received: ${v}`)
        return n
      },
    })(),
  }

  async run(): Promise<Array<Omit<LogEntry, 'tree'>>> {
    const {args, flags} = await this.parse(Log)
    const repo = await this.openRepo()
    const min = flags['min-quality']
    const entries = await repo.log({rev: args.rev, max: flags['max-count'], minQuality: min})
    if (entries.length === 0 && flags['max-count'] !== 0)
      this.say(min !== undefined && (args.rev || repo.headCommit()) ? `No commit has a recorded quality of ${min} or more.` : 'No commits yet.')
    const upstream = args.rev ? null : await repo.upstreamStatus()
    if (upstream && entries.length > 0) this.say(flags.oneline ? `# ${upstreamLine(upstream)}` : `${upstreamLine(upstream)}\n`)
    const branch = repo.currentBranch()
    for (const e of entries) {
      if (flags.oneline) this.say(`${shortId(e.id)}${decorationText(e, branch)} ${summaryLine(e.message)}  [${formatCounts(e.examples)}]${e.quality ? ` q${e.quality.overall}` : ''}`)
      else for (const line of commitLines(e, branch)) this.say(line)
    }
    return entries.map(({tree: _t, ...rest}) => rest)
  }
}
