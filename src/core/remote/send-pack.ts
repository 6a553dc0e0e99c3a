/**
 * The sending half of push: which objects the remote lacks, and the packs that carry
 * them, made mostly of the local packs' compressed blocks copied verbatim.
 */
import {renameSync, statSync} from 'node:fs'
import {join} from 'node:path'
import {applyDelta} from '../delta.js'
import {isTerminal, objectLinks} from '../object-links.js'
import {packPath, PackWriter, parseEntry} from '../pack.js'
import type {Oid} from '../bytes.js'
import {CorruptObjectError} from '../../errors/index.js'
import {NOT_INDEXED} from '../object-store.js'
import type {IndexEntry} from '../index-db.js'
import type {ProgressFn, Repository} from '../repository.js'
import type {RemoteObjects} from './remote-objects.js'
import type {RemotePackIndex} from './remote-index.js'

/** Packs are cut at this size: a handful of uploads for a large dataset, each well inside one request. */
export const PACK_LIMIT = Number(process.env.DSV_PACK_LIMIT ?? 64 << 20)

export interface SendObject {
  oid: Oid
  /** where the object lives in the local store */
  at: IndexEntry
}

export interface BuiltPack {
  path: string
  sha: string
  size: number
  index: RemotePackIndex
}

/** Objects reachable from `tips` that the remote does not have, in local pack order. */
export async function objectsToSend(repo: Repository, tips: Oid[], remote: RemoteObjects, onProgress?: ProgressFn): Promise<SendObject[]> {
  const out: SendObject[] = []
  const queued = new Set<Oid>()
  let frontier = tips.filter((t) => !remote.has(t) && !queued.has(t) && queued.add(t))
  while (frontier.length > 0) {
    const located = await repo.store.locateMany(frontier)
    const next: Oid[] = []
    for (const oid of frontier) {
      const at = located.get(oid)
      if (!at) throw new CorruptObjectError(oid, NOT_INDEXED)
      out.push({oid, at})
      if (isTerminal(at.kind)) continue
      for (const link of objectLinks(await repo.store.getLocated(oid, located)))
        if (!remote.has(link.oid) && !queued.has(link.oid)) {
          queued.add(link.oid)
          next.push(link.oid)
        }
    }
    onProgress?.({phase: 'counting objects', loaded: out.length})
    frontier = next
  }
  return out.sort((a, b) => (a.at.packId < b.at.packId ? -1 : a.at.packId > b.at.packId ? 1 : a.at.blockOffset - b.at.blockOffset || a.at.entryOffset - b.at.entryOffset))
}

/**
 * Writes the objects into packs of at most about `limit` bytes under `dir`. A local
 * block whose objects all travel as they are stored is copied verbatim (no decompression:
 * extra objects it may hold are carried but not listed in the index); a block with a
 * delta against a base the receiver will not have whole is rebuilt with that object whole.
 * The objects themselves are re-hashed separately (verify-objects.ts).
 */
export async function buildPacks(repo: Repository, send: SendObject[], remote: RemoteObjects, dir: string, onProgress?: ProgressFn, limit = PACK_LIMIT): Promise<BuiltPack[]> {
  const sending = new Map(send.map((s) => [s.oid, s.at]))
  // a delta may travel only against a base the receiver will have whole
  const goodBase = (base: Oid) => (sending.has(base) && !sending.get(base)!.base) || remote.isFull(base)
  const packs: BuiltPack[] = []
  let writer = new PackWriter(dir, repo.store.compressionLevel)
  let done = 0
  try {
    for (let i = 0; i < send.length; ) {
      const {packId, blockOffset} = send[i].at
      let j = i
      while (j < send.length && send[j].at.packId === packId && send[j].at.blockOffset === blockOffset) j++
      const group = send.slice(i, j)
      if (group.every((s) => !s.at.base || goodBase(s.at.base.toString('hex')))) {
        writer.addStoredBlock(repo.store.reader.readStoredBlock(packId, blockOffset),
          group.map((s) => ({oid: Buffer.from(s.oid, 'hex'), kind: s.at.kind, base: s.at.base, length: 0, entryOffset: s.at.entryOffset})))
      } else {
        const data = repo.store.reader.readBlockAt(packId, blockOffset).data
        for (const s of group) {
          const e = parseEntry(data, s.at)
          if (e.oid.toString('hex') !== s.oid) throw new CorruptObjectError(s.oid, `not found where the index points (pack ${packId}, block ${blockOffset})`)
          if (!e.base || goodBase(e.base.toString('hex'))) writer.add(e.oid, e.kind, e.data, e.base)
          else writer.add(e.oid, e.kind, applyDelta((await repo.store.get(e.base.toString('hex'))).content, e.data))
        }
      }
      done += j - i
      i = j
      onProgress?.({phase: 'packing objects', loaded: done, total: send.length})
      if (writer.size >= limit && i < send.length) {
        packs.push(sealPack(writer, dir))
        writer = new PackWriter(dir, repo.store.compressionLevel)
      }
    }
    if (!writer.isEmpty) packs.push(sealPack(writer, dir))
    else writer.abort()
  } catch (error) {
    writer.abort()
    throw error
  }
  return packs
}

/** Finishes a pack and names it by the SHA-256 of its bytes, as it will be named on the remote. */
function sealPack(writer: PackWriter, dir: string): BuiltPack {
  const entries = writer.finish()
  const sha = writer.digest()
  const path = join(dir, `${sha}.pack`)
  renameSync(packPath(dir, writer.packId), path)
  const size = statSync(path).size
  return {
    path,
    sha,
    size,
    index: {packSha: sha, packSize: size, entries: entries.map((e) => ({oid: e.oid, kind: e.kind, base: e.base, blockOffset: e.blockOffset, entryOffset: e.entryOffset}))},
  }
}
