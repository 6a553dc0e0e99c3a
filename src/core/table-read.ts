/** Reading tables back: their leaves in order, their records, their bytes. */
import {hashToString, type Oid} from './bytes.js'
import {decodeNodeHex} from './table-nodes.js'
import {decodeJson, type Table} from './model.js'
import type {ObjectStore} from './object-store.js'
import type {LeafLocation} from './table-write.js'

export interface LeafSpan {
  oid: Oid
  /** index of the leaf's first record in the table */
  start: number
  records: number
  bytes: number
}

export async function readTable(store: ObjectStore, oid: Oid): Promise<Table> {
  return decodeJson<Table>((await store.get(oid, 'table')).content)
}

/**
 * Every leaf of a table in order; reads only the nodes, never the leaves, a level at a
 * time with one batched index lookup per level.
 */
export async function listLeaves(store: ObjectStore, table: Table): Promise<LeafSpan[]> {
  if (!table.root) return []
  if (table.height === 0) return [{oid: table.root, start: 0, records: table.records, bytes: table.bytes - Buffer.byteLength(table.header)}]
  let level: Array<{oid: string; records: number; bytes: number}> = [{oid: table.root, records: table.records, bytes: table.bytes}]
  for (let height = table.height; height > 0; height--) {
    const oids = level.map((c) => c.oid)
    const located = await store.locateMany(oids)
    const next: typeof level = []
    for (const oid of oids) for (const c of decodeNodeHex((await store.getLocated(oid, located, 'node')).content).children) next.push(c)
    level = next
  }
  let start = 0
  return level.map((c) => {
    const span = {oid: c.oid, start, records: c.records, bytes: c.bytes}
    start += c.records
    return span
  })
}

/** Every leaf of a table in order, with where it (and its delta base) lies: what a worker thread reads. */
export async function locateTableLeaves(store: ObjectStore, table: Table): Promise<LeafLocation[]> {
  const spans = await listLeaves(store, table)
  const where = await store.locateForReading(spans.map((s) => s.oid))
  return spans.map((s) => ({oid: s.oid, ...where(s.oid)}))
}

/** Child id → the node holding it, for every node of a table. */
export async function nodeParents(store: ObjectStore, table: Table): Promise<Map<string, Oid>> {
  const out = new Map<string, Oid>()
  if (!table.root || table.height === 0) return out
  const walk = async (oid: Oid): Promise<void> => {
    const node = decodeNodeHex((await store.get(oid, 'node')).content)
    for (const c of node.children) {
      const child = c.oid
      out.set(child, oid)
      if (node.height > 1) await walk(child)
    }
  }
  await walk(table.root)
  return out
}


export function recordHash(rec: Buffer): string {
  return hashToString('sha256', rec) // 32 chars, not 64 in hex: diffs hold many
}
