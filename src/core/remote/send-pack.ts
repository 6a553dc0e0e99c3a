/**
 * The sending half of push: which objects the remote lacks, and the packs that carry
 * them. Blocks of the local packs are copied verbatim (no recompression) when every
 * object in them is to be sent; otherwise the objects to send are re-packed. Every
 * object is re-hashed on the way out, so a damaged local object is never published.
 */
import {readFileSync, renameSync} from 'node:fs'
import {join} from 'node:path'
import {applyDelta} from '../delta.js'
import {objectIdBytes} from '../object-kinds.js'
import {isTerminal, objectLinks} from '../object-links.js'
import {blockEntries, decodeBlock, packPath, PackWriter} from '../pack.js'
import {sha256, type Oid} from '../bytes.js'
import {CorruptObjectError} from '../../errors/index.js'
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
      if (!at) throw new CorruptObjectError(oid, 'missing from the store')
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

/** Writes the objects into packs of at most about `limit` bytes under `dir`. */
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
      const stored = repo.store.reader.readStoredBlock(packId, blockOffset)
      const entries = [...blockEntries(decodeBlock(stored, `pack ${packId} block ${blockOffset}`), packId, blockOffset)]
      const ours = entries.filter((e) => sending.get(e.oid.toString('hex'))?.entryOffset === e.entryOffset)
      let verbatim = ours.length === entries.length
      const contents: Buffer[] = []
      for (const e of ours) {
        const oid = e.oid.toString('hex')
        const content = e.base ? applyDelta((await repo.store.get(e.base.toString('hex'))).content, e.data) : e.data
        if (!objectIdBytes(e.kind, content).equals(e.oid)) throw new CorruptObjectError(oid, 'content does not match its SHA-256 id')
        if (e.base && !goodBase(e.base.toString('hex'))) verbatim = false
        contents.push(content)
      }
      if (verbatim) writer.addStoredBlock(stored, entries)
      else
        ours.forEach((e, k) => {
          if (e.base && goodBase(e.base.toString('hex'))) writer.add(e.oid, e.kind, e.data, e.base)
          else writer.add(e.oid, e.kind, contents[k])
        })
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
  const bytes = readFileSync(packPath(dir, writer.packId))
  const sha = sha256(bytes).toString('hex')
  const path = join(dir, `${sha}.pack`)
  renameSync(packPath(dir, writer.packId), path)
  return {
    path,
    sha,
    size: bytes.length,
    index: {packSha: sha, packSize: bytes.length, entries: entries.map((e) => ({oid: e.oid, kind: e.kind, base: e.base, blockOffset: e.blockOffset, entryOffset: e.entryOffset}))},
  }
}
