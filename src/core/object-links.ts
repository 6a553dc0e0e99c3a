/**
 * What each object refers to: the edges of the object graph that fsck checks and that
 * push and fetch walk. Leaves and blobs refer to nothing.
 */
import {decodeJson, type AnnotatedTag, type Commit, type Table, type Tree} from './model.js'
import {decodeNodeHex} from './table-nodes.js'
import {decodeChunks} from './blob.js'
import type {ObjectKind, StoredObject} from './object-kinds.js'
import type {Oid} from './bytes.js'

export interface Link {
  oid: Oid
  /** the kind the target must have, when the link says (a tag may name any object) */
  expect?: ObjectKind
  /** records the target holds (table structure), for fsck's counts */
  records?: number
}

/** Kinds that never refer to other objects: walks need not read them. */
export function isTerminal(kind: ObjectKind): boolean {
  return kind === 'leaf' || kind === 'blob'
}

export function objectLinks(obj: StoredObject): Link[] {
  switch (obj.kind) {
    case 'commit': {
      const c = decodeJson<Commit>(obj.content)
      return [{oid: c.tree, expect: 'tree'}, ...c.parents.map((p): Link => ({oid: p, expect: 'commit'}))]
    }
    case 'tag':
      return [{oid: decodeJson<AnnotatedTag>(obj.content).object}]
    case 'tree':
      return decodeJson<Tree>(obj.content).entries.map((e): Link => ({oid: e.oid, expect: e.type === 'dir' ? 'tree' : e.type === 'table' ? 'table' : undefined}))
    case 'table': {
      const t = decodeJson<Table>(obj.content)
      return t.root ? [{oid: t.root, expect: t.height === 0 ? 'leaf' : 'node', records: t.records}] : []
    }
    case 'node': {
      const n = decodeNodeHex(obj.content)
      return n.children.map((c): Link => ({oid: c.oid, expect: n.height === 1 ? 'leaf' : 'node', records: c.records}))
    }
    case 'chunks':
      return decodeChunks(obj.content).map((c): Link => ({oid: c.oid, expect: 'blob'}))
    case 'leaf':
    case 'blob':
      return []
  }
}
