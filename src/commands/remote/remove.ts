import {Args} from '@oclif/core'
import {DsvCommand} from '../../base-command.js'
import type {RemoteInfo} from '../../core/ops/remotes.js'

export default class RemoteRemove extends DsvCommand {
  static override summary = 'Remove a remote and its remote-tracking refs (nothing on the remote is touched).'
  static override examples = ['<%= config.bin %> remote remove origin']
  static override aliases = ['remote rm']
  static override args = {
    name: Args.string({description: 'remote name', required: true}),
  }

  async run(): Promise<RemoteInfo> {
    const {args} = await this.parse(RemoteRemove)
    const r = await (await this.openRepo()).removeRemote(args.name)
    this.say(`Removed remote ${r.name} (${r.url})`)
    return r
  }
}
