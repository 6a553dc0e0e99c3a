import {Args, Flags} from '@oclif/core'
import {DsvCommand} from '../base-command.js'
import {printable, shortId, summaryLine} from '../ui/format.js'

export default class Tag extends DsvCommand {
  static override summary = 'List, create or delete tags (names for versions).'
  static override description = 'With no NAME, lists tags. With NAME, tags REV (default HEAD); -m makes an annotated tag with a message. An existing tag is never moved without --force.'
  static override examples = ['<%= config.bin %> tag', '<%= config.bin %> tag v1', '<%= config.bin %> tag v2 HEAD~1 -m "release for training run 42"', '<%= config.bin %> tag -d v1']
  static override args = {
    name: Args.string({description: 'tag name'}),
    rev: Args.string({description: 'revision to tag (default HEAD)'}),
  }
  static override flags = {
    message: Flags.string({char: 'm', summary: 'Make an annotated tag with this message.'}),
    delete: Flags.boolean({char: 'd', summary: 'Delete the tag NAME.'}),
    force: Flags.boolean({char: 'f', summary: 'Move an existing tag.'}),
    author: Flags.string({summary: 'Tagger as "Name <email>" (annotated tags).'}),
  }

  async run(): Promise<unknown> {
    const {args, flags} = await this.parse(Tag)
    const repo = await this.openRepo()
    if (flags.delete) {
      if (!args.name) this.error('tag -d needs a NAME', {exit: 2})
      const r = await repo.deleteTag(args.name)
      this.say(`Deleted tag '${r.deleted}' (was ${r.target ? shortId(r.target) : 'damaged'})`)
      return r
    }
    if (!args.name) {
      const tags = await repo.tags()
      for (const t of tags) this.say(`${printable(t.name).padEnd(20)} ${shortId(t.target)}${t.message ? `  ${summaryLine(t.message)}` : ''}`)
      return tags
    }
    const t = await repo.tag(args.name, args.rev, {message: flags.message, force: flags.force, author: flags.author})
    this.say(`Tagged ${shortId(t.target)} as ${t.name}`)
    return t
  }
}
