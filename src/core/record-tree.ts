/** Builds the node levels above a table's leaves (content-defined, so deterministic). */
import {encodeNode, isNodeBoundary, type NodeChild} from './table-nodes.js'
import type {LeafRef} from './ingest.js'
import type {ObjectStore} from './object-store.js'
import type {Oid} from './bytes.js'

export async function buildRecordTree(store: ObjectStore, leaves: LeafRef[]): Promise<{root: Oid | null; height: number}> {
  const levels: NodeChild[][] = []
  const emitted: number[] = []
  const push = async (level: number, child: NodeChild): Promise<void> => {
    ;(levels[level] ??= []).push(child)
    if (isNodeBoundary(child.oid, levels[level].length)) await emit(level)
  }
  const emit = async (level: number): Promise<void> => {
    const children = levels[level]
    levels[level] = []
    emitted[level] = (emitted[level] ?? 0) + 1
    const oid = await store.put('node', encodeNode(level + 1, children))
    let records = 0
    let bytes = 0
    for (const c of children) {
      records += c.records
      bytes += c.bytes
    }
    await push(level + 1, {oid: Buffer.from(oid, 'hex'), records, bytes})
  }
  for (const l of leaves) await push(0, {oid: Buffer.from(l.oid, 'hex'), records: l.records, bytes: l.bytes})
  for (let level = 0; ; level++) {
    const pending = levels[level] ?? []
    if ((emitted[level] ?? 0) === 0 && pending.length <= 1) {
      return pending.length === 0 ? {root: null, height: 0} : {root: pending[0].oid.toString('hex'), height: level}
    }
    if (pending.length > 0) await emit(level)
  }
}
