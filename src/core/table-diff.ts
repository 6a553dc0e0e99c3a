/**
 * Example-level diff of two versions of a table, at a cost that follows the change:
 * leaves present in both versions are skipped without being read; only the records of
 * changed regions are hashed, and only records that differ are parsed for their key.
 *
 * Pairing: records with equal bytes (line ending aside: a last line that gains its
 * newline is not a changed example) are unchanged wherever they moved; the rest are
 * matched by key (keyed tables) or by position inside their changed region (keyless).
 */
import {listLeaves, readLeaf, recordHash, type LeafSpan} from './table-read.js'
import {isBlankRecord, stripTerminator, type TableFormat} from './table-format.js'
import {keyOf, parseRecord} from './example-key.js'
import type {ObjectStore} from './object-store.js'
import type {ChangeCounts, Table} from './model.js'

export interface RecordRef {
  /** 0-based index of the record in its table */
  index: number
  /** 1-based line where it starts (exact for JSONL and TSV; CSV counts records) */
  line: number
  bytes: Buffer
}

export interface ExampleChange {
  change: 'added' | 'removed' | 'modified'
  key: string | null
  old?: RecordRef
  new?: RecordRef
}

export interface TableDiff extends ChangeCounts {
  changes: ExampleChange[]
}

interface Region {
  old: LeafSpan[]
  new: LeafSpan[]
}

const EMPTY: Table = {format: 'jsonl', header: '', root: null, height: 0, records: 0, examples: 0, bytes: 0, fields: []}

export interface DiffOptions {
  /** keep each example change (with its bytes); without it only the counts are exact */
  details?: boolean
  /** the fields that identify an example (see example-key.ts); none: keyless */
  key?: string[] | null
}

export async function diffTables(store: ObjectStore, before: Table | null, after: Table | null, opts: DiffOptions = {}): Promise<TableDiff> {
  if (!opts.details && (!before || !after)) {
    // a whole table added or removed: its example count is in the table object
    return {added: after?.examples ?? 0, removed: before?.examples ?? 0, modified: 0, changes: []}
  }
  const a = before ?? {...EMPTY, format: after?.format ?? 'jsonl'}
  const b = after ?? {...EMPTY, format: a.format}
  const [oldLeaves, newLeaves] = await Promise.all([listLeaves(store, a), listLeaves(store, b)])
  const regions = alignLeaves(oldLeaves, newLeaves)

  // One pass: records are matched by hash inside each changed region as it is read (most
  // unchanged records sit beside their old copy); only the unmatched keep their bytes.
  const headerLines = (t: Table) => (t.header ? 1 : 0)
  type Side = {ref: RecordRef; hash: string; region: number; matched: boolean}
  const located = await store.locateMany(regions.flatMap((r) => [...r.old, ...r.new].map((l) => l.oid)))
  const load = async (spans: LeafSpan[], t: Table, region: number): Promise<Side[]> => {
    const out: Side[] = []
    for (const span of spans) {
      const records = await readLeaf(store, span.oid, located)
      records.forEach((bytes, i) => {
        if (isBlankRecord(bytes)) return
        const index = span.start + i
        out.push({ref: {index, line: index + 1 + headerLines(t), bytes}, hash: recordHash(stripTerminator(bytes)), region, matched: false})
      })
    }
    return out
  }
  const oldLeft: Side[] = []
  const newLeft: Side[] = []
  for (let r = 0; r < regions.length; r++) {
    const olds = await load(regions[r].old, a, r)
    const news = await load(regions[r].new, b, r)
    matchByHash(olds, news)
    for (const s of olds) if (!s.matched) oldLeft.push({...s, ref: {...s.ref, bytes: Buffer.from(s.ref.bytes)}})
    for (const s of news) if (!s.matched) newLeft.push({...s, ref: {...s.ref, bytes: Buffer.from(s.ref.bytes)}})
  }
  // records that moved to another region are unchanged too
  matchByHash(oldLeft, newLeft)
  const oldUnmatched = oldLeft.filter((s) => !s.matched)
  const newUnmatched = newLeft.filter((s) => !s.matched)

  const changes: ExampleChange[] = []
  const key = opts.key ?? null
  const keyedOld = new Map<string, Side[]>()
  const positionalOld: Side[] = []
  const positionalNew: Side[] = []
  const keyFor = (s: Side, t: Table): string | null => {
    if (!key) return null
    const ex = parseRecord(s.ref.bytes, t.format as TableFormat, t.header)
    return ex ? keyOf(ex, key) : null
  }
  const oldKeys = new Map<Side, string | null>()
  for (const o of oldUnmatched) {
    const k = keyFor(o, a)
    oldKeys.set(o, k)
    if (k === null) positionalOld.push(o)
    else {
      const list = keyedOld.get(k)
      if (list) list.push(o)
      else keyedOld.set(k, [o])
    }
  }
  for (const n of newUnmatched) {
    const k = keyFor(n, b)
    if (k === null) {
      positionalNew.push(n)
      continue
    }
    const o = keyedOld.get(k)?.shift()
    if (o) changes.push({change: 'modified', key: k, old: o.ref, new: n.ref})
    else changes.push({change: 'added', key: k, new: n.ref})
  }
  for (const [k, list] of keyedOld) for (const o of list) changes.push({change: 'removed', key: k, old: o.ref})

  // keyless: pair what is left by position inside each changed region
  const byRegion = (list: Side[]) => {
    const m = new Map<number, Side[]>()
    for (const s of list) {
      const l = m.get(s.region)
      if (l) l.push(s)
      else m.set(s.region, [s])
    }
    return m
  }
  const po = byRegion(positionalOld)
  const pn = byRegion(positionalNew)
  for (let r = 0; r < regions.length; r++) {
    const os = po.get(r) ?? []
    const ns = pn.get(r) ?? []
    const n = Math.min(os.length, ns.length)
    for (let i = 0; i < n; i++) changes.push({change: 'modified', key: null, old: os[i].ref, new: ns[i].ref})
    for (const o of os.slice(n)) changes.push({change: 'removed', key: null, old: o.ref})
    for (const s of ns.slice(n)) changes.push({change: 'added', key: null, new: s.ref})
  }
  changes.sort((x, y) => (x.new?.index ?? x.old!.index) - (y.new?.index ?? y.old!.index))
  let added = 0
  let removed = 0
  let modified = 0
  for (const c of changes) {
    if (c.change === 'added') added++
    else if (c.change === 'removed') removed++
    else modified++
  }
  return {added, removed, modified, changes}
}

/** Pairs records with equal hashes (each at most once) and marks them matched. */
function matchByHash<S extends {hash: string; matched: boolean}>(olds: S[], news: S[]): void {
  const byHash = new Map<string, S[]>()
  for (const o of olds) {
    if (o.matched) continue
    const list = byHash.get(o.hash)
    if (list) list.push(o)
    else byHash.set(o.hash, [o])
  }
  for (const n of news) {
    if (n.matched) continue
    const o = byHash.get(n.hash)?.shift()
    if (o) {
      o.matched = true
      n.matched = true
    }
  }
}

/** Groups the leaves that are not common to both versions into aligned changed regions. */
export function alignLeaves(oldLeaves: LeafSpan[], newLeaves: LeafSpan[]): Region[] {
  const oldSet = new Set(oldLeaves.map((l) => l.oid))
  const newSet = new Set(newLeaves.map((l) => l.oid))
  const regions: Region[] = []
  let i = 0
  let j = 0
  while (i < oldLeaves.length || j < newLeaves.length) {
    if (i < oldLeaves.length && j < newLeaves.length && oldLeaves[i].oid === newLeaves[j].oid) {
      i++
      j++
      continue
    }
    const region: Region = {old: [], new: []}
    while (i < oldLeaves.length && !newSet.has(oldLeaves[i].oid)) region.old.push(oldLeaves[i++])
    while (j < newLeaves.length && !oldSet.has(newLeaves[j].oid)) region.new.push(newLeaves[j++])
    if (region.old.length === 0 && region.new.length === 0) {
      // both sides stand on common leaves in a different order: treat them as changed
      if (i < oldLeaves.length) region.old.push(oldLeaves[i++])
      if (j < newLeaves.length) region.new.push(newLeaves[j++])
    }
    regions.push(region)
  }
  return regions
}
