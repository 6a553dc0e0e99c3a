/** Reading tables back: their leaves in order, their records, their bytes. */
import {createHash} from 'node:crypto'
import {decodeLeaf, decodeNode} from './table-nodes.js'
import {decodeJson, type Table} from './model.js'
import type {ObjectStore} from './object-store.js'
import type {Oid} from './bytes.js'

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

/** Every leaf of a table in order; reads only the nodes, never the leaves. */
export async function listLeaves(store: ObjectStore, table: Table): Promise<LeafSpan[]> {
  const out: LeafSpan[] = []
  if (!table.root) return out
  if (table.height === 0) return [{oid: table.root, start: 0, records: table.records, bytes: table.bytes - Buffer.byteLength(table.header)}]
  let start = 0
  const walk = async (oid: Oid): Promise<void> => {
    const node = decodeNode((await store.get(oid, 'node')).content)
    for (const c of node.children) {
      if (node.height === 1) {
        out.push({oid: c.oid.toString('hex'), start, records: c.records, bytes: c.bytes})
        start += c.records
      } else await walk(c.oid.toString('hex'))
    }
  }
  await walk(table.root)
  return out
}

/** Child id → the node holding it, for every node of a table. */
export async function nodeParents(store: ObjectStore, table: Table): Promise<Map<string, Oid>> {
  const out = new Map<string, Oid>()
  if (!table.root || table.height === 0) return out
  const walk = async (oid: Oid): Promise<void> => {
    const node = decodeNode((await store.get(oid, 'node')).content)
    for (const c of node.children) {
      const child = c.oid.toString('hex')
      out.set(child, oid)
      if (node.height > 1) await walk(child)
    }
  }
  await walk(table.root)
  return out
}

export async function readLeaf(store: ObjectStore, oid: Oid): Promise<Buffer[]> {
  return decodeLeaf((await store.get(oid, 'leaf')).content)
}

export function recordHash(rec: Buffer): string {
  return createHash('sha256').update(rec).digest('hex')
}
