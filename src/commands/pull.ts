import {Args, Flags} from '@oclif/core'
import {DsvCommand} from '../base-command.js'
import type {PullResult} from '../core/ops/fetch.js'
import {formatBytes, shortId} from '../ui/format.js'

export default class Pull extends DsvCommand {
  static override summary = 'Fetch, then bring the current branch and the working directory up to the remote branch.'
  static override description = `Fast-forwards when the remote branch only has new commits. When both sides have new commits, it merges them file by file into a merge commit: each file is taken from the side that changed it. A file changed on both sides is a conflict (exit 6, E_MERGE_CONFLICT, naming the files) and nothing changes; example-level merging of one file is not built yet. --reset then takes the remote's commits instead of yours (yours stay in the reflog; tag them first to keep a name).

Uncommitted changes that the update would overwrite stop the pull (exit 6, E_DIRTY_WORKTREE) unless --force.`
  static override examples = ['<%= config.bin %> pull', '<%= config.bin %> pull origin main', '<%= config.bin %> pull --json', '<%= config.bin %> pull --reset']
  static override args = {
    remote: Args.string({description: 'remote name (default: the branch\'s upstream)'}),
    branch: Args.string({description: 'remote branch (default: the current branch\'s name)'}),
  }
  static override flags = {
    force: Flags.boolean({char: 'f', summary: 'Overwrite uncommitted changes in the way.'}),
    reset: Flags.boolean({summary: 'On a diverged history, move the branch to the remote\'s (local commits are left behind).'}),
  }

  async run(): Promise<PullResult> {
    const {args, flags} = await this.parse(Pull)
    const repo = await this.openRepo()
    const progress = this.progress()
    const r = await repo.pull({remote: args.remote, branch: args.branch, force: flags.force, reset: flags.reset, onProgress: progress.onProgress}).finally(() => progress.done())
    const what = r.status === 'up-to-date' ? 'already up to date'
      : r.status === 'ahead' ? `up to date; ${r.branch} is ahead by ${r.ahead} commit${r.ahead === 1 ? '' : 's'} (dsv push)`
      : `${r.branch} ${r.from ? shortId(r.from) : ''}..${shortId(r.to!)}${r.status === 'reset' ? ' (reset: local commits left behind)' : r.status === 'merged' ? ' (merge commit)' : ''}, ${r.written} files written, ${r.removed} removed`
    this.say(`${r.remote}: ${what}; ${r.objects} objects, ${formatBytes(r.bytes)} received`)
    return r
  }
}
