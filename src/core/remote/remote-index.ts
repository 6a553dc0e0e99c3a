/**
 * The index of one push's packs on a remote (`index/<sha256>.idx`): which objects the
 * packs hold and where, so that push knows what the remote has without downloading
 * packs, and fetch knows which packs to download. Uploading the index after all its
 * packs is what publishes them, all at once: packs without an index (an interrupted
 * push) are invisible to everyone, and are reused when the push is run again.
 *
 * Format: "DSVRIDX1" packCount:varint
 *         pack* (packSha256:32 packSize:varint count:varint
 *                entry* (oid:32 kind:u8 flags:u8 [base:32 if flags&1] blockOffset:varint entryOffset:varint))
 *         sha256-of-everything-before:32
 * Only objects whose whole closure is in these packs or already on the remote are
 * listed, so "the remote has X" always means "the remote has everything X refers to".
 */
import {ByteReader, ByteWriter, sha256} from '../bytes.js'
import {kindCode, kindFromCode, type ObjectKind} from '../object-kinds.js'
import {DsvError} from '../../errors/index.js'

const MAGIC = Buffer.from('DSVRIDX1')

export interface RemoteIndexEntry {
  oid: Buffer
  kind: ObjectKind
  /** the object this entry is a delta against */
  base?: Buffer
  blockOffset: number
  entryOffset: number
}

export interface RemotePackIndex {
  packSha: string
  packSize: number
  entries: RemoteIndexEntry[]
}

export interface RemoteIndex {
  packs: RemotePackIndex[]
}

export function encodeRemoteIndex(idx: RemoteIndex): Buffer {
  const w = new ByteWriter(64 + idx.packs.reduce((n, p) => n + 48 + p.entries.length * 48, 0))
  w.bytes(MAGIC).varint(idx.packs.length)
  for (const pack of idx.packs) {
    w.bytes(Buffer.from(pack.packSha, 'hex')).varint(pack.packSize).varint(pack.entries.length)
    for (const e of pack.entries) {
      w.bytes(e.oid).byte(kindCode(e.kind)).byte(e.base ? 1 : 0)
      if (e.base) w.bytes(e.base)
      w.varint(e.blockOffset).varint(e.entryOffset)
    }
  }
  const body = w.view()
  return Buffer.concat([body, sha256(body)])
}

export function decodeRemoteIndex(data: Buffer, name: string): RemoteIndex {
  const bad = (why: string) => new DsvError('E_CORRUPT', `remote pack index ${name} is damaged: ${why}`, {name})
  if (data.length < MAGIC.length + 1 + 32 || !data.subarray(0, MAGIC.length).equals(MAGIC)) throw bad('bad header')
  const body = data.subarray(0, data.length - 32)
  if (!sha256(body).equals(data.subarray(data.length - 32))) throw bad('checksum mismatch')
  try {
    const r = new ByteReader(body, MAGIC.length)
    const packs: RemotePackIndex[] = []
    for (let p = r.varint(); p > 0; p--) {
      const packSha = r.bytes(32).toString('hex')
      const packSize = r.varint()
      const entries: RemoteIndexEntry[] = []
      for (let i = r.varint(); i > 0; i--) {
        const oid = Buffer.from(r.bytes(32))
        const kind = kindFromCode(r.byte())
        const base = r.byte() & 1 ? Buffer.from(r.bytes(32)) : undefined
        entries.push({oid, kind, base, blockOffset: r.varint(), entryOffset: r.varint()})
      }
      packs.push({packSha, packSize, entries})
    }
    if (!r.done) throw new Error('trailing bytes')
    return {packs}
  } catch (error) {
    throw bad((error as Error).message)
  }
}
