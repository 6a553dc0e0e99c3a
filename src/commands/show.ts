import {Args} from '@oclif/core'
import {DsvCommand} from '../base-command.js'
import {commitLines, messageLines, personText, printable} from '../ui/format.js'

export default class Show extends DsvCommand {
  static override summary = 'Show one version: its commit and the files it holds.'
  static override description = 'Prints the commit (author, date, counts, code and quality when recorded, message) and every file of its tree. For an annotated tag, the tag (tagger, date, message) comes first, as in git; --json has it under "tag".'
  static override examples = ['<%= config.bin %> show', '<%= config.bin %> show v1 --json', '<%= config.bin %> show HEAD~1']
  static override args = {rev: Args.string({description: 'revision (default HEAD)', default: 'HEAD'})}

  async run(): Promise<unknown> {
    const {args} = await this.parse(Show)
    const repo = await this.openRepo()
    const shown = await repo.show(args.rev)
    // an annotated tag comes first, as git shows it
    if (shown.tag) for (const line of [`tag ${printable(shown.tag.name)}`, `Tagger: ${personText(shown.tag.tagger)}`, `Date:   ${shown.tag.date}`, '', ...messageLines(shown.tag.message), '']) this.say(line)
    for (const line of commitLines(shown, repo.currentBranch())) this.say(line)
    for (const f of shown.contents) this.say(`  ${f.type.padEnd(5)} ${String(f.size).padStart(10)}  ${printable(f.path)}${f.examples !== undefined ? `  (${f.examples} example${f.examples === 1 ? '' : 's'})` : ''}${f.executable ? '  (executable)' : ''}`)
    const {tree: _t, contents, ...rest} = shown
    return {...rest, tree: shown.tree, contents: contents.map(({name: _n, ...c}) => c)}
  }
}
