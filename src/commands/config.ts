import {Args, Flags} from '@oclif/core'
import {DsvCommand} from '../base-command.js'

export default class Config extends DsvCommand {
  static override summary = 'Get or set a repository setting.'
  static override description = `Settings live in .dsv/config.json. Keys:
  user.name, user.email   the commit author
  core.compression        zstd level for packs, 0 (none) to 19 (default 3)
  core.fileMode           true or false: whether the executable bits on disk count (unset: found out by trying whether this file system keeps them; false takes each file's bit from HEAD)
  keys.<pattern>          the key field(s) of the examples in files matching a gitignore-style pattern, comma-separated; empty means keyless
  labels.<pattern>        label fields (dotted paths) that dsv diff summarises per value for files matching the pattern, comma-separated

A bad value is refused (exit 2): a compression level that is not a whole number from 0 to 19, a fileMode other than true or false, a pattern that matches no file (an unclosed [, a trailing lone backslash, a leading # or !), an empty name or email or one holding control characters. --unset of a key that is not set exits 2.`
  static override examples = ['<%= config.bin %> config user.name "Ada Lovelace"', '<%= config.bin %> config user.email', '<%= config.bin %> config "keys.common_voice/*.tsv" path', '<%= config.bin %> config --unset keys.*.jsonl', '<%= config.bin %> config "labels.golden/*.jsonl" expected_output.tier,validation_status']
  static override args = {
    key: Args.string({description: 'setting name', required: true}),
    value: Args.string({description: 'new value (omit to read)'}),
  }
  static override flags = {unset: Flags.boolean({summary: 'Remove the setting.'})}

  async run(): Promise<{key: string; value: unknown}> {
    const {args, flags} = await this.parse(Config)
    const repo = await this.openRepo()
    if (flags.unset || args.value !== undefined) {
      await repo.locked(async () => repo.setConfig(args.key, flags.unset ? null : args.value!))
      return {key: args.key, value: flags.unset ? null : repo.getConfig(args.key)}
    }
    const value = repo.getConfig(args.key)
    if (value === undefined) process.exitCode = 1
    else this.say(String(value))
    return {key: args.key, value: value ?? null}
  }
}
