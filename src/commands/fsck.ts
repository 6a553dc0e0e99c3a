import {DsvCommand} from '../base-command.js'
import type {FsckResult} from '../core/ops/fsck.js'

export default class Fsck extends DsvCommand {
  static override summary = 'Verify the store: every reachable object and every reference.'
  static override description = 'Re-reads and re-hashes every object reachable from a branch, tag, HEAD or the reflog, checks that trees, tables and chunks link up, and that every reference names a commit. Exits 8 when anything is wrong.'
  static override examples = ['<%= config.bin %> fsck', '<%= config.bin %> fsck --json']

  async run(): Promise<FsckResult> {
    await this.parse(Fsck)
    const repo = await this.openRepo()
    const progress = this.progress()
    const r = await repo.fsck(progress.onProgress)
    progress.done()
    for (const w of r.warnings) process.stderr.write(`warning: ${w.ref}: ${w.message}\n`)
    for (const p of r.problems) process.stderr.write(`${p.kind === 'ref' ? `ref ${p.ref}` : `object ${p.oid}`}: ${p.message}\n`)
    this.say(r.ok ? `ok: ${r.objects} objects verified` : `${r.problems.length} problem${r.problems.length === 1 ? '' : 's'} found (${r.objects} objects checked)`)
    if (!r.ok) process.exitCode = 8
    return r
  }
}
