/** The quality report as a person reads it: scores first, then what to fix. */
import {failedChecks, type CheckResult, type QualityReport} from '../core/quality/report.js'
import type {QualityResult} from '../core/ops/quality.js'
import type {Paint} from './diff-render.js'

const pct = (n: number) => `${n.toFixed(1)}%`

function checkLine(name: string, c: CheckResult, paint: Paint, note = ''): string {
  const threshold = c.threshold === null ? ''.padEnd(8) : `≥ ${c.threshold}%`.padEnd(8)
  const verdict = c.threshold === null ? '' : c.ok ? paint('green', 'ok') : paint('red', 'FAIL')
  return `  ${name.padEnd(13)} ${pct(c.score).padStart(6)}   ${threshold} ${verdict}${note ? `  ${note}` : ''}`
}

export function qualityLines(r: QualityReport & Partial<Pick<QualityResult, 'target' | 'commit'>>, paint: Paint, limit = 10): string[] {
  const out: string[] = []
  const where = r.commit ? `${r.target} (${r.commit.slice(0, 12)})` : r.target ?? 'working tree'
  out.push(paint('bold', `quality check: ${where}; rules: ${r.rules ?? 'none (no dsv.yaml or dsv.json)'}; ${r.files.length} file${r.files.length === 1 ? '' : 's'}, ${r.examples.toLocaleString('en-US')} example${r.examples === 1 ? '' : 's'}`))
  if (r.files.length === 0) {
    out.push(r.rules ? 'no data file matches a pattern of the rules file' : 'add a rules file (dsv.yaml) to say what to check; see `dsv quality check --help`')
    return out
  }
  for (const [name, c] of Object.entries(r.checks)) {
    const note = name === 'referential' && r.orphans.count > 0 ? `(${r.orphans.count} file${r.orphans.count === 1 ? '' : 's'} referenced by no example)` : ''
    if (c) out.push(checkLine(name, c, paint, note))
  }
  out.push(checkLine('overall', r.overall, paint))
  const s = r.scores
  const t = s.tiers
  out.push(`examples: mean score ${s.mean}; gold ${t.gold}, silver ${t.silver}, bronze ${t.bronze}, rejected ${t.rejected}; silver or better ${pct(s.silverOrBetter)}`)
  if (r.problems.length > 0) {
    out.push('', paint('bold', 'problems (what to fix):'))
    for (const p of r.problems.slice(0, limit)) {
      out.push(`  ${p.check.padEnd(12)} ${p.rule}: ${p.count.toLocaleString('en-US')} example${p.count === 1 ? '' : 's'}`)
      for (const i of p.instances) out.push(paint('dim', `      ${i.path}${i.line ? `:${i.line}` : ''}${i.key !== null ? `  ${i.key}` : ''}${i.detail ? `  (${i.detail})` : ''}`))
    }
    if (r.problems.length > limit) out.push(paint('dim', `  … ${r.problems.length - limit} more problems (--json for all)`))
  }
  if (r.worst.length > 0) {
    out.push('', paint('bold', 'lowest-scoring examples:'))
    for (const w of r.worst) out.push(`  ${String(w.score).padStart(3)} ${w.tier.padEnd(8)} ${w.path}:${w.line}${w.key !== null ? `  ${w.key}` : ''}: ${w.issues.join('; ')}`)
  }
  const failed = failedChecks(r)
  out.push('', r.passed ? paint('green', 'result: passed') : paint('red', `result: FAILED (${failed.join(', ')})`))
  return out
}
