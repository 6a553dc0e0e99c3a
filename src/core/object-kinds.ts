/**
 * Object kinds and naming. An object's id is SHA-256 over `<kind> <length>\0<content>`
 * (git's scheme), so two objects of different kinds never share an id.
 */
import {sha256, type Oid} from './bytes.js'

export const KINDS = ['blob', 'chunks', 'leaf', 'node', 'table', 'tree', 'commit', 'tag'] as const
export type ObjectKind = (typeof KINDS)[number]

const KIND_CODE = new Map<ObjectKind, number>(KINDS.map((k, i) => [k, i + 1]))

export function kindCode(kind: ObjectKind): number {
  return KIND_CODE.get(kind)!
}

export function kindFromCode(code: number): ObjectKind {
  const kind = KINDS[code - 1]
  if (!kind) throw new RangeError(`unknown object kind code ${code}`)
  return kind
}

export function objectIdBytes(kind: ObjectKind, content: Uint8Array): Buffer {
  return sha256(Buffer.from(`${kind} ${content.length}\0`), content)
}

export function objectId(kind: ObjectKind, content: Uint8Array): Oid {
  return objectIdBytes(kind, content).toString('hex')
}

export const OID_HEX = /^[0-9a-f]{64}$/

/** What every read says of an object whose bytes do not match its id (bit rot, a bad disk); fsck's hint looks for it. */
export const HASH_MISMATCH = 'content does not match its SHA-256 id'

export interface StoredObject {
  kind: ObjectKind
  content: Buffer
}
