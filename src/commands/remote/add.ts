import {Args} from '@oclif/core'
import {DsvCommand} from '../../base-command.js'
import type {RemoteInfo} from '../../core/ops/remotes.js'

export default class RemoteAdd extends DsvCommand {
  static override summary = 'Add a remote: a gs://BUCKET/PREFIX or a directory.'
  static override description = 'Nothing is contacted until the first push or fetch. A directory path is stored as given; use an absolute path for a shared disk.'
  static override examples = ['<%= config.bin %> remote add origin gs://team-datasets/contact-tier', '<%= config.bin %> remote add backup /mnt/shared/datasets/contact-tier']
  static override args = {
    name: Args.string({description: 'remote name (e.g. origin)', required: true}),
    url: Args.string({description: 'gs://BUCKET/PREFIX or a directory path', required: true}),
  }

  async run(): Promise<RemoteInfo> {
    const {args} = await this.parse(RemoteAdd)
    const r = await (await this.openRepo()).addRemote(args.name, args.url)
    this.say(`Added remote ${r.name} -> ${r.url}`)
    return r
  }
}
