import {DsvCommand} from '../base-command.js'
import type {Repository} from '../core/repository.js'
import type {StatusResult} from '../core/ops/status.js'
import {formatCounts, modeNote, printable, upstreamLine} from '../ui/format.js'

export default class Status extends DsvCommand {
  static override summary = 'Show files and examples changed since the last commit.'
  static override description = 'Compares the working directory with HEAD: files added, removed and modified, and for data files the examples added, removed and modified (matched by key). Unchanged files are skipped by their size and modification time, so this is fast on large datasets. With a remote, also says how far the branch is ahead of or behind its remote branch (as of the last fetch, pull or push); --json has it under upstream.'
  static override examples = ['<%= config.bin %> status', '<%= config.bin %> status --json']

  async run(): Promise<StatusResult & {upstream: Awaited<ReturnType<Repository['upstreamStatus']>>}> {
    await this.parse(Status)
    const repo = await this.openRepo()
    const progress = this.progress()
    const result = await repo.status(progress.onProgress)
    progress.done()
    // how far the branch is from its remote branch, as of the last fetch or push
    const upstream = await repo.upstreamStatus()
    this.say(result.branch ? `On branch ${result.branch}` : `HEAD detached at ${result.head?.slice(0, 12)}`)
    if (upstream) this.say(upstreamLine(upstream))
    if (!result.head) this.say('No commits yet')
    if (result.clean) this.say('nothing to commit, working tree clean')
    else {
      this.say('Changes not committed:')
      for (const f of result.files) this.say(`  ${f.status.padEnd(9)} ${printable(f.path)}${f.examples ? `  (${formatCounts(f.examples)})` : ''}${f.executable ? `  (${modeNote(f.executable)})` : ''}${f.ignored ? '  (now in .dsvignore: still on disk, left out of the next commit)' : ''}`)
      this.say(`examples: ${formatCounts(result.examples)}`)
    }
    for (const s of result.skipped) this.say(`  not versioned (not a regular file): ${printable(s)}`)
    return {...result, upstream}
  }
}
