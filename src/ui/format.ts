/** Plain-text formatting shared by commands. */
import type {ChangeCounts, Person} from '../core/model.js'
import type {LogEntry} from '../core/ops/history.js'

export function formatCounts(c: ChangeCounts): string {
  return `+${c.added} -${c.removed} ~${c.modified}`
}

export function shortId(oid: string): string {
  return oid.slice(0, 12)
}

/** 1536 -> "1.5 KiB": sizes for humans. */
export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB']
  let v = n
  let u = 0
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024
    u++
  }
  return u === 0 ? `${n} B` : `${v.toFixed(1)} ${units[u]}`
}

/** git's wording: "Your branch is ahead of 'origin/main' by 2 commits." */
export function upstreamLine(u: {upstream: string; ahead: number; behind: number}): string {
  const commits = (n: number) => `${n} commit${n === 1 ? '' : 's'}`
  if (u.ahead === 0 && u.behind === 0) return `Your branch is up to date with '${u.upstream}'.`
  if (u.behind === 0) return `Your branch is ahead of '${u.upstream}' by ${commits(u.ahead)} (dsv push to publish).`
  if (u.ahead === 0) return `Your branch is behind '${u.upstream}' by ${commits(u.behind)} (dsv pull to update).`
  return `Your branch and '${u.upstream}' have diverged: ${commits(u.ahead)} here, ${commits(u.behind)} there (dsv pull to merge).`
}

/** C0 and C1 control characters, DEL, and the two Unicode line separators. */
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g
const SHORT_ESCAPES: Record<string, string> = {'\n': '\\n', '\r': '\\r', '\t': '\\t'}

/**
 * Text from the data (a key, a file name, a value) made safe to print: control characters
 * (a newline, an ESC that would start a terminal escape sequence, C1 controls) are shown
 * escaped, so a line stays one line and nothing in a dataset can drive the terminal.
 */
export function printable(s: string): string {
  return s.replace(CONTROL, (c) => SHORT_ESCAPES[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)
}

/**
 * A commit or tag message for the terminal, line by line: messages come from teammates
 * (pull) as much as data does, so each line is made printable; the line breaks stay.
 */
export function messageLines(message: string): string[] {
  return message.split('\n').map(printable)
}

/** The first line of a message (its summary), printable. */
export function summaryLine(message: string): string {
  return printable(message.split('\n')[0])
}

/** "Name <email>", printable. */
export function personText(p: Person): string {
  return `${printable(p.name)} <${printable(p.email)}>`
}

/** A commit as `log` and `show` print it: header, counts, code, quality, then the message indented. */
export function commitLines(e: Omit<LogEntry, 'tree'>, branch: string | null): string[] {
  const lines = [`commit ${e.id}${decorationText(e, branch)}`, `Author: ${personText(e.author)}`, `Date:   ${e.date}`,
    `Examples: ${formatCounts(e.examples)}   Files: ${formatCounts(e.files)}${e.code ? `   Code: ${printable(e.code.gitCommit.slice(0, 12))}` : ''}`]
  if (e.quality) lines.push(`Quality:  ${e.quality.overall}% ${e.quality.passed ? 'passed' : 'below thresholds'}; gold ${e.quality.tiers.gold}, silver ${e.quality.tiers.silver}, bronze ${e.quality.tiers.bronze}, rejected ${e.quality.tiers.rejected}`)
  return [...lines, '', ...messageLines(e.message).map((l) => `    ${l}`), '']
}

/** git's decoration: ` (HEAD -> main, other, tag: v1)` on a branch, ` (HEAD, tag: v1)` when detached. */
export function decorationText(e: {head: boolean; refs: string[]; tags: string[]}, branch: string | null): string {
  let refs = e.refs
  if (e.head) refs = branch && refs.includes(branch) ? [`HEAD -> ${branch}`, ...refs.filter((r) => r !== branch)] : ['HEAD', ...refs]
  const deco = [...refs, ...e.tags.map((t) => `tag: ${t}`)]
  // ref names are checked when made, but a ref file can be written by hand
  return deco.length > 0 ? ` (${printable(deco.join(', '))})` : ''
}

/** A change of the executable bit, as git shows it (old mode => new mode). */
export function modeNote(executable: {from: boolean; to: boolean}): string {
  const mode = (x: boolean) => (x ? '100755' : '100644')
  return `mode ${mode(executable.from)} => ${mode(executable.to)}`
}
