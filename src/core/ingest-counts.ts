/**
 * A commit's example counts for one table, tallied while the table is ingested, so that
 * the commit needs no second pass over the changed leaves (`dsv diff`'s scan).
 *
 * The tally holds the records of the leaves that are not common to both versions: a
 * record arriving on one side cancels an equal record waiting on the other. What is left
 * is paired by key: a key on both sides is a modified example, the rest added or removed.
 *
 * This gives exactly the diff's counts when the diff's changed regions hold the same
 * records and its pairing is by key only, which the ingestion checks (see IngestCounter
 * in ingest.ts): the table is keyed, every leftover record has a key, no leaf occurs
 * twice in a version, and the common leaves come in the same order in both. Then the
 * diff's regions are exactly the leaves that are not common, and pairing equal records
 * (inside regions, then across) leaves the same surplus of each record on one side,
 * whatever the order. Otherwise the caller falls back to the diff's scan.
 *
 * The records of a region (the old and new leaves between two common leaves) are first
 * paired in order by a byte comparison (alignRecords, as the diff does); only the rest
 * are hashed and wait for an equal record, from this region or a later one.
 */
import {recordHash} from './table-read.js'
import {alignRecords, type Records} from './table-diff.js'
import type {TableFormat} from './table-format.js'
import {keyOf, recordParser} from './example-key.js'
import type {ChangeCounts} from './model.js'

type Side = 'old' | 'new'

const other = (side: Side): Side => (side === 'old' ? 'new' : 'old')

export class ChangeTally {
  /** per side: records (line ending excluded) waiting for an equal one, by hash */
  private readonly waiting = {old: new Map<string, Buffer[]>(), new: new Map<string, Buffer[]>()}
  /** bytes of the records waiting (an upper bound: cancelled ones are not subtracted) */
  bytes = 0

  /** A region: records not paired in order wait for an equal record, by hash. */
  addRegion(olds: Records, news: Records): void {
    const {po, pn, hashOld, hashNew} = alignRecords(olds, news)
    for (const i of po) this.add('old', olds, i, hashOld?.[i])
    for (const j of pn) this.add('new', news, j, hashNew?.[j])
  }

  /** `hash`: the record's hash when the alignment already computed it. */
  private add(side: Side, recs: Records, i: number, hash?: string): void {
    const bytes = recs.leaf[i].subarray(recs.start[i], recs.end[i]) // line ending excluded
    // a copy: the region's memory is reused (few records are left over)
    put(this.waiting, side, hash ?? recordHash(bytes), Buffer.from(bytes))
    this.bytes += bytes.length
  }

  /**
   * The counts, pairing what is left by `key`; null when a leftover record has no key
   * (the diff pairs those by position) or does not parse.
   */
  counts(key: string[], old: {format: TableFormat; header: string}, now: {format: TableFormat; header: string}): ChangeCounts | null {
    const perKey = new Map<string, {old: number; new: number}>()
    for (const side of ['old', 'new'] as const) {
      const parse = recordParser(side === 'old' ? old.format : now.format, side === 'old' ? old.header : now.header, true)
      for (const list of this.waiting[side].values())
        for (const rec of list) {
          let k: string | null
          try {
            const example = parse(rec)
            k = example && keyOf(example, key)
          } catch {
            return null
          }
          if (k === null) return null
          const tally = perKey.get(k) ?? {old: 0, new: 0}
          tally[side]++
          perKey.set(k, tally)
        }
    }
    const counts: ChangeCounts = {added: 0, removed: 0, modified: 0}
    for (const t of perKey.values()) {
      const both = Math.min(t.old, t.new)
      counts.modified += both
      counts.added += t.new - both
      counts.removed += t.old - both
    }
    return counts
  }
}

/** Adds a record on `side`, or cancels an equal one waiting on the other side. */
function put(waiting: Record<Side, Map<string, Buffer[]>>, side: Side, hash: string, rec: Buffer): void {
  const theirs = waiting[other(side)]
  const equal = theirs.get(hash)
  if (equal) {
    equal.pop()
    if (equal.length === 0) theirs.delete(hash)
    return
  }
  const mine = waiting[side]
  const list = mine.get(hash)
  if (list) list.push(rec)
  else mine.set(hash, [rec])
}
