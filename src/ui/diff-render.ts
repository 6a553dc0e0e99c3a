/**
 * Renderings of a dataset diff for people: plain text for the terminal (coloured when it
 * is one), a line per file (`--name-status`), and Markdown for a pull-request comment.
 */
import {styleText} from 'node:util'
import {showChange, showValue, type FieldChange} from '../core/field-diff.js'
import type {DatasetDiff, ExampleDiff, FileDiff} from '../core/ops/dataset-diff.js'
import {formatBytes, modeNote, printable} from './format.js'

type Style = 'green' | 'red' | 'yellow' | 'cyan' | 'bold' | 'dim'
export type Paint = (style: Style, text: string) => string

export function painter(color: boolean): Paint {
  return color ? (style, text) => styleText(style, text) : (_style, text) => text
}

const n = (x: number) => x.toLocaleString('en-US')

export function formatSize(bytes: number | null): string {
  return bytes === null ? '-' : formatBytes(bytes)
}

/** Keys, paths and values come from the data: printed with control characters escaped. */
const p = printable

function ends(d: DatasetDiff): string {
  const side = (e: DatasetDiff['from']) => (e.commit ? `${p(e.label)} (${e.commit.slice(0, 12)})` : e.label)
  return `${side(d.from)} → ${side(d.to)}`
}

export function isEmptyDiff(d: DatasetDiff): boolean {
  return d.files.length === 0
}

function fileStatusText(f: FileDiff): string {
  if (f.status === 'renamed') return `renamed from ${p(f.from!)}`
  if (f.typeChanged) return `${f.status} (${f.typeChanged.from} → ${f.typeChanged.to})`
  return f.status
}

function fileCountsText(f: FileDiff): string {
  if (f.modeOnly) return modeNote(f.executable!)
  const counts = contentCountsText(f)
  return f.executable ? `${counts}  (${modeNote(f.executable)})` : counts
}

function contentCountsText(f: FileDiff): string {
  if (!f.examples) {
    if (f.status === 'modified') return `${formatSize(f.oldSize)} → ${formatSize(f.newSize)}`
    return formatSize(f.newSize ?? f.oldSize)
  }
  const e = f.examples
  const parts = [`+${n(e.added)}`, `-${n(e.removed)}`, `~${n(e.modified)}`]
  if (e.moved) parts.push(`${n(e.moved)} moved in`)
  if (e.movedOut) parts.push(`${n(e.movedOut)} moved out`)
  // the bytes changed but no example did: line endings, key order, spacing, blank lines, row order
  if (f.status === 'modified' && e.added + e.removed + e.modified + e.moved + e.movedOut === 0) parts.push('(no example changed: only formatting or order)')
  return parts.join(' ')
}

/** The summary every rendering starts with: a line per file, then totals. */
export function summaryLines(d: DatasetDiff, paint: Paint): string[] {
  const out = [paint('bold', `diff ${ends(d)}`)]
  if (isEmptyDiff(d)) return [...out, 'no differences']
  const width = Math.min(60, Math.max(...d.files.map((f) => p(f.path).length)))
  for (const f of d.files) {
    const status = fileStatusText(f).padEnd(10)
    out.push(`  ${p(f.path).padEnd(width)}  ${status}  ${fileCountsText(f)}`)
  }
  const t = d.totals
  const fileParts = Object.entries(t.files).filter(([, v]) => v > 0).map(([k, v]) => `${n(v)} ${k}`)
  const e = t.examples
  out.push(`${d.files.length} file${d.files.length === 1 ? '' : 's'} changed (${fileParts.join(', ')}); examples: ${paint('green', `+${n(e.added)}`)} ${paint('red', `-${n(e.removed)}`)} ${paint('yellow', `~${n(e.modified)}`)}${e.moved ? ` ${paint('cyan', `${n(e.moved)} moved`)}` : ''}`)
  return out
}

export function labelLines(d: DatasetDiff): string[] {
  const out: string[] = []
  for (const l of d.labels) {
    out.push(`label ${l.field} (among changed examples; ${n(l.changed)} changed label):`)
    for (const v of l.values) {
      const delta = v.after - v.before
      out.push(`  ${p(v.value).padEnd(20)} ${String(v.before).padStart(7)} → ${String(v.after).padEnd(7)} ${delta > 0 ? `+${delta}` : delta < 0 ? String(delta) : '±0'}`)
    }
  }
  return out
}

export function nameStatusLines(d: DatasetDiff): string[] {
  const letter = {added: 'A', removed: 'D', modified: 'M', renamed: 'R'} as const
  return d.files.map((f) => (f.status === 'renamed' ? `R\t${p(f.from!)}\t${p(f.path)}` : `${letter[f.status]}\t${p(f.path)}`))
}

function exampleTitle(c: ExampleDiff): string {
  if (c.key === null) {
    // keyless: the line is the example's only name
    if (c.change === 'removed') return `line ${c.old!.line} (removed)`
    if (c.change === 'modified' && c.old!.line !== c.new!.line) return `line ${c.old!.line} → ${c.new!.line}`
    return `line ${(c.new ?? c.old)!.line}`
  }
  const who = p(c.key)
  if (c.change === 'moved') return `${who}  moved from ${p(c.old!.path)}:${c.old!.line} to line ${c.new!.line}`
  if (c.change === 'removed') return `${who}  (was line ${c.old!.line})`
  if (c.change === 'modified' && c.old!.line !== c.new!.line) return `${who}  (line ${c.old!.line} → ${c.new!.line})`
  return `${who}  (line ${(c.new ?? c.old)!.line})`
}

function fieldLine(f: FieldChange, paint: Paint): string {
  if (f.change === 'added') return `${p(f.path)}: ${paint('green', `+ ${p(showValue(f.new))}`)}`
  if (f.change === 'removed') return `${p(f.path)}: ${paint('red', `- ${p(showValue(f.old))}`)}`
  const [o, n] = showChange(f.old, f.new)
  return `${p(f.path)}: ${paint('red', p(o))} → ${paint('green', p(n))}`
}

/** The examples of each changed table, with their changed fields. */
export function exampleLines(d: DatasetDiff, paint: Paint, limit: number): string[] {
  const out: string[] = []
  const mark = {added: paint('green', '+'), removed: paint('red', '-'), modified: paint('yellow', '~'), moved: paint('cyan', '→')}
  for (const f of d.files) {
    if (!f.changes || (f.changes.length === 0 && !f.omitted)) continue
    out.push('', paint('bold', p(f.path)) + (f.key === null ? paint('dim', '  (keyless: edits paired by position)') : paint('dim', `  (key: ${p(f.key?.join(', ') ?? '')})`)))
    for (const c of f.changes) {
      out.push(`  ${mark[c.change]} ${exampleTitle(c)}`)
      if (c.fields) {
        if (c.fields.length === 0) out.push(paint('dim', c.change === 'moved' ? '      (content unchanged)' : '      (formatting only: same fields and values)'))
        for (const field of c.fields) out.push(`      ${fieldLine(field, paint)}`)
      }
    }
    if (f.omitted) out.push(paint('dim', `  … ${n(f.omitted)} more example change${f.omitted === 1 ? '' : 's'} not shown (--limit ${limit}; use --limit 0 for all, or --json)`))
  }
  return out
}

// ---- Markdown, for a pull-request comment ----

function mdEscape(s: string): string {
  return printable(s).replace(/[|\\`*_[\]<>]/g, (c) => `\\${c}`)
}

/**
 * A code span holding `t` as it is: fenced by more backticks than `t` has in a row (padded
 * when `t` starts or ends with one); in a table cell, `|` escaped, as GitHub's tables need
 * even inside code.
 */
function code(t: string, inTable = false): string {
  const text = inTable ? printable(t).replace(/\|/g, '\\|') : printable(t)
  const fence = '`'.repeat(Math.max(0, ...(text.match(/`+/g) ?? []).map((r) => r.length)) + 1)
  const pad = text.startsWith('`') || text.endsWith('`') ? ' ' : ''
  return `${fence}${pad}${text}${pad}${fence}`
}

function markdownField(f: FieldChange): string {
  if (f.change === 'added') return `added ${code(showValue(f.new))}`
  if (f.change === 'removed') return `removed ${code(showValue(f.old))}`
  const [o, n] = showChange(f.old, f.new)
  return `${code(o)} → ${code(n)}`
}

/** Text inside the HTML of a summary line. */
function html(t: string): string {
  return printable(t).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
}

export function markdown(d: DatasetDiff, limit: number): string {
  const out = [`### Dataset diff: ${mdEscape(ends(d))}`, '']
  if (isEmptyDiff(d)) return [...out, 'No differences.', ''].join('\n')
  const e = d.totals.examples
  out.push(`**${n(d.files.length)} file${d.files.length === 1 ? '' : 's'} changed** · examples **+${n(e.added)} −${n(e.removed)} ~${n(e.modified)}**${e.moved ? ` · **${n(e.moved)} moved between files**` : ''}`, '')
  out.push('| file | status | added | removed | modified | moved in | moved out | size |', '|---|---|---:|---:|---:|---:|---:|---|')
  for (const f of d.files) {
    const x = f.examples
    const size = f.status === 'modified' ? `${formatSize(f.oldSize)} → ${formatSize(f.newSize)}` : formatSize(f.newSize ?? f.oldSize)
    out.push(`| ${code(f.path, true)} | ${mdEscape(fileStatusText(f))} | ${x ? n(x.added) : ''} | ${x ? n(x.removed) : ''} | ${x ? n(x.modified) : ''} | ${x ? n(x.moved) : ''} | ${x ? n(x.movedOut) : ''} | ${size} |`)
  }
  for (const l of d.labels) {
    out.push('', `**Label ${code(l.field)}** (among changed examples; ${n(l.changed)} changed label)`, '', '| value | before | after | Δ |', '|---|---:|---:|---:|')
    for (const v of l.values) out.push(`| ${mdEscape(v.value)} | ${n(v.before)} | ${n(v.after)} | ${v.after - v.before > 0 ? '+' : ''}${v.after - v.before} |`)
  }
  for (const f of d.files) {
    if (!f.changes?.length) continue
    const count = f.changes.length + (f.omitted ?? 0)
    out.push('', `<details><summary><code>${html(f.path)}</code>: ${n(count)} example change${count === 1 ? '' : 's'}</summary>`, '')
    for (const c of f.changes) {
      const unchanged = c.fields?.length === 0 ? (c.change === 'moved' ? ' (content unchanged)' : ' (formatting only: same fields and values)') : ''
      out.push(`- **${c.change}** ${code(c.key ?? `line ${(c.new ?? c.old)!.line}`)}${c.change === 'moved' ? ` from ${code(c.old!.path)}` : ''}${unchanged}`)
      for (const field of c.fields ?? []) {
        out.push(`  - ${code(field.path)}: ${markdownField(field)}`)
      }
    }
    if (f.omitted) out.push(`- … ${n(f.omitted)} more not shown (limit ${limit})`)
    out.push('', '</details>')
  }
  out.push('')
  return out.join('\n')
}
