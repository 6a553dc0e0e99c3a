/**
 * Common Voice: the corpus columns, and the speech team's aggregate-on-export strategy
 * (`--aggregate sentence`): the original clip table and a table of user contributions
 * (practice sessions and uploads) become one row per sentence.
 *
 * - `client_id`: every distinct contributor, sorted, comma-joined; votes are summed.
 * - Metadata (`path`, `accents`, `locale`, and the other clip columns) comes from the best
 *   tier of records that has a value: validated records, then uploads, then practice
 *   sessions, then the original clips. Inside that tier the value most records agree on
 *   wins; a tie goes to the most recent record (`created_at`).
 * - `sentence_id` is kept when a record has one, else it is the SHA-256 (hex) of the
 *   sentence's UTF-8 text, as Common Voice derives its own.
 */
import {createHash} from 'node:crypto'

/** The clip columns of Common Voice releases, in their order. */
export const CV_COLUMNS = ['client_id', 'path', 'sentence_id', 'sentence', 'sentence_domain', 'up_votes', 'down_votes', 'age', 'gender', 'accents', 'variant', 'locale', 'segment'] as const

export const EXTENDED_COLUMNS = ['contributor_count', 'upload_contributions', 'practice_sessions', 'practice_ratio', 'data_source_type', 'quality_score', 'first_recorded', 'last_updated'] as const

/** Metadata columns chosen by the tier rule (the rest are aggregated). */
const METADATA = ['path', 'sentence_domain', 'age', 'gender', 'accents', 'variant', 'locale', 'segment'] as const

export type SourceKind = 'clip' | 'upload' | 'practice'

export interface VoiceRecord {
  kind: SourceKind
  fields: Record<string, unknown>
}

export type SentenceRow = Record<string, string>

const text = (v: unknown): string => (v === undefined || v === null ? '' : typeof v === 'string' ? v.trim() : String(v))
const count = (v: unknown): number => {
  const n = Number(text(v))
  return Number.isFinite(n) && n > 0 ? n : 0
}

/** The kind of a contribution record, by its `session_type`. */
export function contributionKind(fields: Record<string, unknown>): SourceKind {
  return text(fields.session_type).toLowerCase() === 'practice' ? 'practice' : 'upload'
}

/** Lower is better: validated records, uploads, practice sessions, original clips. */
function tierOf(r: VoiceRecord): number {
  if (r.kind !== 'clip' && text(r.fields.validation_status).toLowerCase() === 'validated') return 0
  return r.kind === 'upload' ? 1 : r.kind === 'practice' ? 2 : 3
}

/** Common Voice's own rule for a validated clip: two up-votes or more, and more up than down. */
function clipValidated(fields: Record<string, unknown>): boolean {
  const up = count(fields.up_votes)
  return up >= 2 && up > count(fields.down_votes)
}

/** The value of `field` by the tier rule: best tier with a value, then majority, then most recent. */
function pick(records: VoiceRecord[], field: string): string {
  let best: VoiceRecord[] = []
  let bestTier = Infinity
  for (const r of records) {
    if (text(r.fields[field]) === '') continue
    const t = tierOf(r)
    if (t < bestTier) (bestTier = t), (best = [r])
    else if (t === bestTier) best.push(r)
  }
  if (best.length === 0) return ''
  const votes = new Map<string, {n: number; latest: string}>()
  for (const r of best) {
    const v = text(r.fields[field])
    const at = text(r.fields.created_at)
    const e = votes.get(v)
    if (!e) votes.set(v, {n: 1, latest: at})
    else (e.n++, at > e.latest && (e.latest = at))
  }
  return [...votes].sort((a, b) => b[1].n - a[1].n || (a[1].latest < b[1].latest ? 1 : a[1].latest > b[1].latest ? -1 : 0) || (a[0] < b[0] ? -1 : 1))[0][0]
}

export function sentenceId(sentence: string): string {
  return createHash('sha256').update(sentence, 'utf8').digest('hex')
}

/** One sentence's records as its corpus row, with the extended columns. */
export function aggregateSentence(sentence: string, records: VoiceRecord[]): SentenceRow & {validated: string} {
  const contributors = [...new Set(records.map((r) => text(r.fields.client_id)).filter(Boolean))].sort()
  const up = records.reduce((s, r) => s + count(r.fields.up_votes), 0)
  const down = records.reduce((s, r) => s + count(r.fields.down_votes), 0)
  const uploads = records.filter((r) => r.kind === 'upload').length
  const practice = records.filter((r) => r.kind === 'practice').length
  const clips = records.filter((r) => r.kind === 'clip').length
  const dates = records.map((r) => text(r.fields.created_at)).filter(Boolean).sort()
  const quality = contributors.length >= 3 && up >= 5 ? 'high' : contributors.length >= 2 && up >= 2 ? 'medium' : uploads > 0 ? 'reviewed' : 'basic'
  const row: SentenceRow & {validated: string} = {
    client_id: contributors.join(','),
    path: '',
    sentence_id: pick(records, 'sentence_id') || sentenceId(sentence),
    sentence,
    sentence_domain: '',
    up_votes: String(up),
    down_votes: String(down),
    age: '',
    gender: '',
    accents: '',
    variant: '',
    locale: '',
    segment: '',
    contributor_count: String(contributors.length),
    upload_contributions: String(uploads),
    practice_sessions: String(practice),
    practice_ratio: uploads + practice === 0 ? '0' : String(Math.round((100 * practice) / (uploads + practice)) / 100),
    data_source_type: clips > 0 && uploads + practice > 0 ? 'mixed' : clips > 0 ? 'original' : 'contributions',
    quality_score: quality,
    first_recorded: dates[0] ?? '',
    last_updated: dates.at(-1) ?? '',
    validated: records.some((r) => (r.kind === 'clip' ? clipValidated(r.fields) : tierOf(r) === 0)) ? 'yes' : 'no',
  }
  for (const f of METADATA) row[f] = pick(records, f)
  return row
}

/** `--quality-filter` of the aggregated rows. */
export function passesCvFilter(row: SentenceRow, filter: string): boolean {
  if (filter === 'high') return row.quality_score === 'high'
  if (filter === 'medium') return row.quality_score === 'high' || row.quality_score === 'medium'
  if (filter === 'validated') return row.validated === 'yes'
  return true
}
