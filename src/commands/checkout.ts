import {Args, Flags} from '@oclif/core'
import {DsvCommand} from '../base-command.js'
import type {CheckoutResult} from '../core/ops/checkout.js'
import {printable, shortId} from '../ui/format.js'

export default class Checkout extends DsvCommand {
  static override summary = 'Make the working directory exactly a version.'
  static override description = 'Writes, restores and removes files so the working directory is byte-for-byte REV, then moves HEAD: attached when REV is a branch name (a branch wins over a tag of the same name, as in git), detached for a tag or commit (`dsv checkout main` goes back). Refuses when uncommitted changes would be lost, or when untracked files are in the way (a folder where REV has a file, a file or symlink where REV needs a folder), unless --force; ignored files are expendable. Leaving a detached HEAD whose commits no branch or tag holds prints a warning naming them (leftBehind in --json). With --to DIR, writes REV into DIR and leaves HEAD and the working directory alone.'
  static override examples = ['<%= config.bin %> checkout v1', '<%= config.bin %> checkout main', '<%= config.bin %> checkout HEAD~2 --force', '<%= config.bin %> checkout v1 --to /tmp/dataset-v1']
  static override args = {rev: Args.string({description: 'branch, tag or commit', required: true})}
  static override flags = {
    force: Flags.boolean({char: 'f', summary: 'Discard uncommitted changes and delete untracked files in the way (or write into a non-empty --to DIR: its files the version lacks stay and are listed; what stands where the version needs a file or folder is replaced).'}),
    to: Flags.string({summary: 'Write the version into this directory instead.'}),
  }

  async run(): Promise<CheckoutResult> {
    const {args, flags} = await this.parse(Checkout)
    const repo = await this.openRepo()
    const progress = this.progress()
    const r = await repo.checkout(args.rev, {force: flags.force, to: flags.to, onProgress: progress.onProgress})
    progress.done()
    if (r.to) this.say(`Wrote ${args.rev} (${shortId(r.head)}) into ${r.to}: ${r.written} file${r.written === 1 ? '' : 's'}`)
    else {
      this.say(r.detached ? `HEAD is now at ${shortId(r.head)} (detached)` : `Switched to branch '${r.branch}'`)
      this.say(`${r.written} file${r.written === 1 ? '' : 's'} written, ${r.removed} removed`)
    }
    if (r.extra?.length && !this.jsonEnabled()) {
      // a training job reading the folder would see them: say so even with --quiet
      const n = r.extra.length
      process.stderr.write(`warning: ${printable(r.to!)} also holds ${n} file${n === 1 ? '' : 's'} that ${printable(args.rev)} does not have (left as ${n === 1 ? 'it was' : 'they were'}):\n`)
      for (const p of r.extra.slice(0, 5)) process.stderr.write(`  ${printable(p)}\n`)
      if (n > 5) process.stderr.write(`  ... and ${n - 5} more\n`)
      process.stderr.write('hint: for an exact copy, write into an empty or new folder\n')
    }
    if (r.leftBehind && !this.jsonEnabled()) {
      // to stderr, as git does, and even with --quiet: these commits are now easy to lose
      const n = r.leftBehind.length
      process.stderr.write(`warning: leaving ${n} commit${n === 1 ? '' : 's'} behind, on no branch or tag:\n`)
      for (const c of r.leftBehind.slice(0, 5)) process.stderr.write(`  ${shortId(c.id)} ${printable(c.message)}\n`)
      if (n > 5) process.stderr.write(`  ... and ${n - 5} more\n`)
      process.stderr.write(`hint: to keep them, tag the newest: dsv tag NAME ${shortId(r.leftBehind[0].id)}\n`)
    }
    return r
  }
}
