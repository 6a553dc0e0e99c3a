/** Builds the node levels above a table's leaves (content-defined, so deterministic). */
import {encodeNode, isNodeBoundary, nodeEntrySpans, type NodeChild} from './table-nodes.js'
import {objectIdBytes} from './object-kinds.js'
import type {LeafRef} from './ingest.js'
import type {ObjectStore} from './object-store.js'
import type {Oid} from './bytes.js'

export interface PlannedNode {
  oid: Oid
  content: Buffer
  children: NodeChild[]
}

export interface RecordTreePlan {
  /** every node, children before parents (the order they are written in) */
  nodes: PlannedNode[]
  root: Oid | null
  height: number
}

/**
 * The nodes above `leaves`, computed without touching the store: a node closes after a
 * child whose id matches the boundary pattern, level by level, until one node is left.
 */
export function planRecordTree(leaves: LeafRef[]): RecordTreePlan {
  const levels: NodeChild[][] = []
  const emitted: number[] = []
  const nodes: PlannedNode[] = []
  const push = (level: number, child: NodeChild): void => {
    ;(levels[level] ??= []).push(child)
    if (isNodeBoundary(child.oid, levels[level].length)) emit(level)
  }
  const emit = (level: number): void => {
    const children = levels[level]
    levels[level] = []
    emitted[level] = (emitted[level] ?? 0) + 1
    const content = encodeNode(level + 1, children)
    const oid = objectIdBytes('node', content)
    nodes.push({oid: oid.toString('hex'), content, children})
    let records = 0
    let bytes = 0
    for (const c of children) {
      records += c.records
      bytes += c.bytes
    }
    push(level + 1, {oid, records, bytes})
  }
  for (const l of leaves) push(0, {oid: Buffer.from(l.oid, 'hex'), records: l.records, bytes: l.bytes})
  for (let level = 0; ; level++) {
    const pending = levels[level] ?? []
    if ((emitted[level] ?? 0) === 0 && pending.length <= 1) {
      return {nodes, root: pending.length === 0 ? null : pending[0].oid.toString('hex'), height: pending.length === 0 ? 0 : level}
    }
    if (pending.length > 0) emit(level)
  }
}

/**
 * Builds and stores the nodes above `leaves`. `previousParents` maps a child id to the node
 * that held it in the previous version of the table: a new node is stored as a delta
 * against the old node of its first known child. Index lookups are batched (one round trip
 * for all new nodes, one for their delta bases) instead of one per node.
 */
export async function buildRecordTree(store: ObjectStore, leaves: LeafRef[], previousParents = new Map<string, Oid>()): Promise<{root: Oid | null; height: number}> {
  const plan = planRecordTree(leaves)
  const baseOf = (n: PlannedNode): Oid | undefined => {
    for (const c of n.children) {
      const old = previousParents.get(c.oid.toString('hex'))
      if (old) return old
    }
    return undefined
  }
  const fresh = await store.absent(plan.nodes.map((n) => n.oid))
  const toWrite = plan.nodes.filter((n) => fresh.has(n.oid))
  const keyframes = await store.keyframesOf(toWrite.flatMap((n) => baseOf(n) ?? []))
  for (const n of toWrite) {
    const old = baseOf(n)
    const keyframe = old ? keyframes.get(old) : undefined
    const base = keyframe && {...keyframe, units: nodeEntrySpans(keyframe.content), targetUnits: nodeEntrySpans(n.content)}
    store.putAbsent('node', n.content, base)
  }
  return {root: plan.root, height: plan.height}
}
