import {Flags} from '@oclif/core'
import {DsvCommand} from '../base-command.js'
import {Repository} from '../core/repository.js'
import {NOT_INDEXED} from '../core/object-store.js'
import {HASH_MISMATCH} from '../core/object-kinds.js'
import type {FsckProblem, FsckResult} from '../core/ops/fsck.js'
import {printable} from '../ui/format.js'
import type {ReindexResult} from '../core/ops/reindex.js'

export default class Fsck extends DsvCommand {
  static override summary = 'Verify the store: every reachable object and every reference.'
  static override description = 'Re-reads and re-hashes every object reachable from a branch, tag, HEAD or the reflog, checks that trees, tables and chunks link up, and that every reference names a commit. Exits 8 when anything is wrong. With --reindex, first rebuilds the index (.dsv/index) from the packs: the repair when the index is damaged or lost.'
  static override examples = ['<%= config.bin %> fsck', '<%= config.bin %> fsck --json', '<%= config.bin %> fsck --reindex']
  static override flags = {
    reindex: Flags.boolean({summary: 'Rebuild the index (.dsv/index) from the packs first.'}),
  }

  async run(): Promise<FsckResult & {reindexed?: Omit<ReindexResult, 'problems'>}> {
    const {flags} = await this.parse(Fsck)
    // before the repository opens: a damaged index cannot be opened
    const reindexed = flags.reindex ? await Repository.reindex(process.cwd()) : undefined
    if (reindexed) this.say(`Reindexed ${reindexed.objects} objects from ${reindexed.packs} pack${reindexed.packs === 1 ? '' : 's'}`)
    const repo = await this.openRepo()
    const progress = this.progress()
    const r = await repo.fsck(progress.onProgress)
    progress.done()
    if (reindexed) r.problems.unshift(...reindexed.problems.map((p) => ({kind: 'pack' as const, pack: p.pack, message: p.message})))
    r.ok = r.problems.length === 0
    for (const w of r.warnings) process.stderr.write(`warning: ${w.ref}: ${w.message}\n`)
    for (const p of r.problems) process.stderr.write(`${p.kind === 'ref' ? `ref ${p.ref}` : p.kind === 'pack' ? `pack ${p.pack}` : `object ${p.oid}${objectPlace(p)}`}: ${printable(p.message)}\n`)
    if (!reindexed && r.problems.some((p) => p.message.includes(NOT_INDEXED)))
      process.stderr.write('hint: if the packs hold these objects, `dsv fsck --reindex` rebuilds the index from them\n')
    // bit rot: the data itself, committed again, repairs every version that holds it
    if (!reindexed && r.problems.some((p) => p.message.includes(HASH_MISMATCH)))
      process.stderr.write('hint: `dsv fsck --reindex` leaves damaged objects out of the index; put the files named above back as they were in those commits, then `dsv commit --allow-empty -m "store damaged objects again"`\n')
    if (reindexed?.problems.some((p) => p.message.includes('is damaged')))
      process.stderr.write('hint: put the files the damaged objects came from back in the working directory, then `dsv commit --allow-empty -m "store damaged objects again"`: every version holding them checks out again\n')
    this.say(r.ok ? `ok: ${r.objects} objects verified` : `${r.problems.length} problem${r.problems.length === 1 ? '' : 's'} found (${r.objects} objects checked)`)
    if (!r.ok) process.exitCode = 8
    return reindexed ? {...r, reindexed: {packs: reindexed.packs, objects: reindexed.objects}} : r
  }
}

/** Where fsck found a damaged object: " (in data/train.jsonl, commit 3d74456f9bfc)". */
function objectPlace(p: FsckProblem): string {
  const parts = [...(p.path ? [`in ${printable(p.path)}`] : []), ...(p.commit ? [`commit ${p.commit.slice(0, 12)}`] : [])]
  return parts.length ? ` (${parts.join(', ')})` : ''
}
