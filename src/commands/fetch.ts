import {Args} from '@oclif/core'
import {DsvCommand} from '../base-command.js'
import type {FetchedRef, FetchResult} from '../core/ops/fetch.js'
import {formatBytes, shortId} from '../ui/format.js'

export function fetchedText(refs: FetchedRef[]): string {
  const changed = refs.filter((r) => r.status !== 'up-to-date')
  if (changed.length === 0) return 'up to date'
  return changed.map((r) => {
    const name = r.localRef.replace(/^refs\/(remotes|tags)\//, '')
    if (r.status === 'new') return `${name} (new ${shortId(r.new)})`
    if (r.status === 'kept-local') return `${name} (remote tag differs: kept the local one)`
    return `${name} ${r.old ? shortId(r.old) : ''}${r.status === 'forced' ? '...' : '..'}${shortId(r.new)}${r.status === 'forced' ? ' (forced)' : ''}`
  }).join(', ')
}

export default class Fetch extends DsvCommand {
  static override summary = 'Download a remote\'s branches and tags without touching your working directory.'
  static override description = `Fetches only the objects the local store lacks and verifies every object's SHA-256 before anything is stored. The remote's branches become remote-tracking refs (origin/main: use them in dsv log, diff, checkout); new tags are added (a local tag is never moved). dsv status then shows how far ahead or behind your branch is.`
  static override examples = ['<%= config.bin %> fetch', '<%= config.bin %> fetch origin --json', '<%= config.bin %> diff main origin/main --stat']
  static override args = {
    remote: Args.string({description: 'remote name (default: the branch\'s upstream, origin, or the only remote)'}),
  }

  async run(): Promise<FetchResult> {
    const {args} = await this.parse(Fetch)
    const repo = await this.openRepo()
    const progress = this.progress()
    const r = await repo.fetch({remote: args.remote, onProgress: progress.onProgress}).finally(() => progress.done())
    this.say(`${r.remote}: ${fetchedText(r.refs)}; ${r.objects} objects, ${formatBytes(r.bytes)} received`)
    return r
  }
}
