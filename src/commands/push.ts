import {Args, Flags} from '@oclif/core'
import {DsvCommand} from '../base-command.js'
import type {PushResult, RefUpdate} from '../core/ops/push.js'
import {formatBytes, shortId} from '../ui/format.js'

export function refUpdateText(u: RefUpdate): string {
  const name = u.ref.replace(/^refs\/(heads|tags)\//, '')
  switch (u.status) {
    case 'created':
      return `${name} (new ${shortId(u.new)})`
    case 'up-to-date':
      return `${name} (up to date)`
    case 'rejected':
      return `${name} (rejected)`
    default:
      return `${name} ${u.old ? shortId(u.old) : ''}${u.status === 'forced' ? '...' : '..'}${shortId(u.new)}${u.status === 'forced' ? ' (forced)' : ''}`
  }
}

export default class Push extends DsvCommand {
  static override summary = 'Send commits, branches and tags to a remote.'
  static override description = `Sends only the objects the remote lacks, in a few packs (never one upload per example or file), then moves each remote branch by compare-and-swap. A branch that is not a fast-forward of the remote's is rejected (exit 6, E_NON_FAST_FORWARD): run dsv pull, then push again. If a teammate pushes at the same moment, exactly one push wins; the other is rejected and changes nothing.

An interrupted push (killed, network down) leaves the remote as it was and, run again, does not re-send the packs that already arrived. Transient errors (429, 5xx, resets) are retried with backoff.

With no arguments, pushes the current branch to its upstream remote (or origin, or the only remote); the first push of a branch makes that remote its upstream. Prints one line; --json gives objects, bytes, packs and every ref's old and new value.`
  static override examples = [
    '<%= config.bin %> push',
    '<%= config.bin %> push origin main',
    '<%= config.bin %> push origin v1 --json',
    '<%= config.bin %> push --tags',
    '<%= config.bin %> push --dry-run',
  ]
  static override strict = false
  static override usage = '<%= command.id %> [REMOTE] [BRANCH|TAG ...] [--tags] [-f] [-n] [--json]'
  static override args = {
    remote: Args.string({description: 'remote name (default: the branch\'s upstream, origin, or the only remote)'}),
    refs: Args.string({description: 'branches or tags to push (default: the current branch)'}),
  }
  static override flags = {
    tags: Flags.boolean({summary: 'Push every tag too.'}),
    force: Flags.boolean({char: 'f', summary: 'Move remote refs even when it is not a fast-forward (loses the remote\'s commits).'}),
    'dry-run': Flags.boolean({char: 'n', summary: 'Say what would be sent, send nothing.'}),
  }

  async run(): Promise<PushResult> {
    const {argv, flags} = await this.parse(Push)
    const [remote, ...refs] = argv as string[]
    const repo = await this.openRepo()
    const progress = this.progress()
    const r = await repo.push({remote, refs, tags: flags.tags, force: flags.force, dryRun: flags['dry-run'], onProgress: progress.onProgress}).finally(() => progress.done())
    const verb = r.dryRun ? 'would push' : 'pushed'
    if (r.refs.every((u) => u.status === 'up-to-date')) {
      this.say(`${r.remote}: everything up to date (${r.refs.map(refUpdateText).join(', ')})`)
      return r
    }
    this.say(`${r.remote}: ${verb} ${r.refs.map(refUpdateText).join(', ')}; ${r.objects} objects${r.dryRun ? '' : `, ${formatBytes(r.bytes)} in ${r.packs} pack${r.packs === 1 ? '' : 's'}${r.packsReused ? ` (${r.packsReused} already there)` : ''}`}`)
    return r
  }
}
