import {Args, Flags} from '@oclif/core'
import {DsvCommand} from '../base-command.js'
import {Repository} from '../core/repository.js'
import type {CloneResult} from '../core/ops/clone.js'
import {formatBytes, shortId} from '../ui/format.js'

export default class Clone extends DsvCommand {
  static override summary = 'Make a new working directory from a remote.'
  static override description = `Creates DIR (default: the last part of the URL), adds the remote as origin, fetches every branch and tag (each object's SHA-256 is verified before it is stored) and checks out main (or the remote's only branch, or --branch). If the clone fails, nothing is left behind.`
  static override examples = ['<%= config.bin %> clone gs://team-datasets/contact-tier', '<%= config.bin %> clone /mnt/shared/datasets/contact-tier work', '<%= config.bin %> clone gs://team-datasets/contact-tier --branch relabel --json']
  static override args = {
    url: Args.string({description: 'gs://BUCKET/PREFIX or a directory', required: true}),
    dir: Args.string({description: 'where to clone (default: the last part of the URL)'}),
  }
  static override flags = {
    branch: Flags.string({char: 'b', summary: 'Check out this branch instead of main.'}),
  }

  async run(): Promise<CloneResult> {
    const {args, flags} = await this.parse(Clone)
    const progress = this.progress()
    const r = await Repository.clone(args.url, args.dir, {branch: flags.branch, onProgress: progress.onProgress}).finally(() => progress.done())
    this.say(`Cloned ${args.url} into ${r.path}: ${r.branch} at ${shortId(r.head)}, ${r.written} files; ${r.objects} objects, ${formatBytes(r.bytes)} received`)
    return r
  }
}
