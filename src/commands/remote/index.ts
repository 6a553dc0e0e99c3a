import {Flags} from '@oclif/core'
import {DsvCommand} from '../../base-command.js'
import type {RemoteInfo} from '../../core/ops/remotes.js'

export default class Remote extends DsvCommand {
  static override summary = 'List the remotes this dataset pushes to and fetches from.'
  static override description = `A remote is a Google Cloud Storage prefix (gs://BUCKET/PREFIX) or a directory (a shared disk). Credentials for gs:// come from Application Default Credentials (gcloud auth application-default login, or GOOGLE_APPLICATION_CREDENTIALS); dsv stores only the URL.

Subcommands: dsv remote add NAME URL, dsv remote remove NAME.`
  static override examples = ['<%= config.bin %> remote', '<%= config.bin %> remote -v', '<%= config.bin %> remote add origin gs://team-datasets/contact-tier', '<%= config.bin %> remote remove origin']
  static override flags = {
    verbose: Flags.boolean({char: 'v', summary: 'Show each remote\'s URL.'}),
  }

  async run(): Promise<RemoteInfo[]> {
    const {flags} = await this.parse(Remote)
    const remotes = await (await this.openRepo()).remotes()
    for (const r of remotes) this.say(flags.verbose ? `${r.name}\t${r.url}` : r.name)
    return remotes
  }
}
