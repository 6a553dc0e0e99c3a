import {Args} from '@oclif/core'
import {DsvCommand} from '../base-command.js'
import {Repository} from '../core/repository.js'

export default class Init extends DsvCommand {
  static override summary = 'Create an empty dsv repository in a dataset folder.'
  static override description = 'Creates DIR/.dsv (the store, refs and index) with its format version. Refuses to re-initialise an existing repository.'
  static override examples = ['<%= config.bin %> init', '<%= config.bin %> init data/contact-tier --json']
  static override args = {dir: Args.string({description: 'folder to initialise (created if missing)', default: '.'})}

  async run(): Promise<{path: string; formatVersion: number}> {
    const {args} = await this.parse(Init)
    const result = await Repository.init(args.dir)
    this.say(`Initialised an empty dsv repository in ${result.path}/.dsv`)
    return result
  }
}
