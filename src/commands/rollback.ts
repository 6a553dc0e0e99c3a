import {Args, Flags} from '@oclif/core'
import {DsvCommand} from '../base-command.js'
import {formatCounts, shortId} from '../ui/format.js'

export default class Rollback extends DsvCommand {
  static override summary = 'Commit a past version again, on top of the current branch.'
  static override description = 'Makes the working directory equal to REV and records it as a new commit whose parent is HEAD; history is kept (nothing is rewritten). Refuses when uncommitted changes would be lost unless --force.'
  static override examples = ['<%= config.bin %> rollback v1', '<%= config.bin %> rollback HEAD~1 -m "revert bad relabelling"']
  static override args = {rev: Args.string({description: 'version to return to', required: true})}
  static override flags = {
    message: Flags.string({char: 'm', summary: 'Commit message (default: "Rollback to REV").'}),
    author: Flags.string({summary: 'Author as "Name <email>".'}),
    force: Flags.boolean({char: 'f', summary: 'Discard uncommitted changes.'}),
  }

  async run(): Promise<unknown> {
    const {args, flags} = await this.parse(Rollback)
    const repo = await this.openRepo()
    const progress = this.progress()
    const r = await repo.rollback(args.rev, {message: flags.message, author: flags.author, force: flags.force, onProgress: progress.onProgress})
    progress.done()
    this.say(`[${r.branch ?? 'detached HEAD'} ${shortId(r.id)}] rolled back to ${args.rev} (${shortId(r.target)})`)
    this.say(` files ${formatCounts(r.files)}, examples ${formatCounts(r.examples)}`)
    const {changes: _c, ...json} = r
    return json
  }
}
