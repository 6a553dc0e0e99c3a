import {Args} from '@oclif/core'
import {DsvCommand} from '../../base-command.js'
import type {QualityComparison} from '../../core/ops/quality.js'

export default class QualityCompare extends DsvCommand {
  static override summary = 'Compare the quality of two versions: scores, tiers, and examples that started or stopped failing.'
  static override description = 'Runs the quality checks on A and on B (each with its own rules file) and shows what got better or worse. With only A, compares A with the working tree.'
  static override examples = ['<%= config.bin %> quality compare v1 v2', '<%= config.bin %> quality compare HEAD~1 --json']
  static override args = {
    a: Args.string({description: 'the earlier version', required: true}),
    b: Args.string({description: 'the later version (default: the working tree)'}),
  }

  async run(): Promise<QualityComparison> {
    const {args} = await this.parse(QualityCompare)
    const repo = await this.openRepo()
    const progress = this.progress()
    const c = await repo.qualityCompare({rev: args.a}, args.b ? {rev: args.b} : {worktree: true}, {onProgress: progress.onProgress})
    progress.done()
    const signed = (d: number) => (d > 0 ? `+${d.toFixed(1)}` : d < 0 ? d.toFixed(1) : '±0')
    this.say(`quality ${c.from.target} → ${c.to.target}`)
    for (const k of c.checks) {
      const d = k.before !== null && k.after !== null ? signed(k.after - k.before) : ''
      this.say(`  ${k.check.padEnd(13)} ${k.before === null ? '-' : `${k.before.toFixed(1)}%`} → ${k.after === null ? '-' : `${k.after.toFixed(1)}%`}  ${d}`)
    }
    this.say(`tiers: ${c.tiers.map((t) => `${t.tier} ${t.before} → ${t.after}`).join(', ')}`)
    this.say(`${c.newlyFailing.count} example${c.newlyFailing.count === 1 ? '' : 's'} newly failing, ${c.fixed.count} fixed`)
    for (const e of c.newlyFailing.examples.slice(0, 20)) this.say(`  ✗ ${e.path}  ${e.key}`)
    for (const e of c.fixed.examples.slice(0, 20)) this.say(`  ✓ ${e.path}  ${e.key}`)
    return c
  }
}
