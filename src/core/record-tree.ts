/** Builds the node levels above a table's leaves (content-defined, so deterministic). */
import {encodeNode, isNodeBoundary, nodeEntrySpans, type NodeChild} from './table-nodes.js'
import type {LeafRef} from './ingest.js'
import type {ObjectStore} from './object-store.js'
import type {Oid} from './bytes.js'

/**
 * `previousParents` maps a child id to the node that held it in the previous version of
 * the table: a new node is stored as a delta against the old node of its first known child.
 */
export async function buildRecordTree(store: ObjectStore, leaves: LeafRef[], previousParents = new Map<string, Oid>()): Promise<{root: Oid | null; height: number}> {
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
    const content = encodeNode(level + 1, children)
    let base
    for (const c of children) {
      const old = previousParents.get(c.oid.toString('hex'))
      if (!old) continue
      const keyframe = await store.keyframeOf(old)
      if (keyframe) base = {...keyframe, units: nodeEntrySpans(keyframe.content), targetUnits: nodeEntrySpans(content)}
      break
    }
    const oid = await store.put('node', content, base)
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
