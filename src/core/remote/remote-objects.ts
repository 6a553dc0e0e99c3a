/**
 * What a remote holds: its published pack indexes, merged. Index files are immutable and
 * named by the SHA-256 of their bytes, so each is downloaded once and then read from a
 * local cache (`.dsv/remote-cache/`), whatever remote it came from.
 */
import {mkdirSync, readFileSync} from 'node:fs'
import {join} from 'node:path'
import {sha256, type Oid} from '../bytes.js'
import {writeFileAtomic} from '../atomic-file.js'
import {decodeRemoteIndex, type RemoteIndexEntry} from './remote-index.js'
import {DsvError} from '../../errors/index.js'
import type {Transport} from './transport.js'

export const INDEX_DIR = 'index/'
export const PACK_DIR = 'packs/'
export const MARKER = 'dsv-remote.json'
export const REMOTE_FORMAT = 1

export interface RemoteLocation {
  pack: string
  entry: RemoteIndexEntry
}

export class RemoteObjects {
  private readonly where = new Map<Oid, RemoteLocation>()
  private readonly packSizes = new Map<string, number>()
  indexNames: string[] = []

  has(oid: Oid): boolean {
    return this.where.has(oid)
  }

  locate(oid: Oid): RemoteLocation | undefined {
    return this.where.get(oid)
  }

  /** Stored whole (not as a delta) on the remote: a safe base for a new delta. */
  isFull(oid: Oid): boolean {
    const at = this.where.get(oid)
    return at !== undefined && at.entry.base === undefined
  }

  /** Bytes of a pack the indexes list. */
  packSize(sha: string): number {
    return this.packSizes.get(sha) ?? 0
  }

  get size(): number {
    return this.where.size
  }

  static async load(transport: Transport, cacheDir: string): Promise<RemoteObjects> {
    const out = new RemoteObjects()
    out.indexNames = (await transport.list(INDEX_DIR)).filter((n) => /^index\/[0-9a-f]{64}\.idx$/.test(n))
    mkdirSync(cacheDir, {recursive: true})
    const queue = [...out.indexNames]
    const loaded = new Map<string, Buffer>()
    // a few downloads at a time: each index is small, the round trips dominate
    await Promise.all(Array.from({length: Math.min(8, queue.length)}, async () => {
      for (let name = queue.shift(); name; name = queue.shift()) loaded.set(name, await readIndexFile(transport, cacheDir, name))
    }))
    for (const name of out.indexNames) {
      const idx = decodeRemoteIndex(loaded.get(name)!, `${transport.url}/${name}`)
      for (const pack of idx.packs) {
        out.packSizes.set(pack.packSha, pack.packSize)
        for (const entry of pack.entries) {
          const oid = entry.oid.toString('hex')
          // the first full copy wins: a full entry is the better delta base
          const prev = out.where.get(oid)
          if (!prev || (prev.entry.base && !entry.base)) out.where.set(oid, {pack: pack.packSha, entry})
        }
      }
    }
    return out
  }
}

async function readIndexFile(transport: Transport, cacheDir: string, name: string): Promise<Buffer> {
  const sha = name.slice(INDEX_DIR.length, -'.idx'.length)
  const cached = join(cacheDir, `${sha}.idx`)
  try {
    const data = readFileSync(cached)
    if (sha256(data).toString('hex') === sha) return data
  } catch {}
  const data = await transport.read(name)
  if (!data) throw new DsvError('E_REMOTE_UNAVAILABLE', `${transport.url}/${name} vanished while being read`, {url: transport.url})
  if (sha256(data).toString('hex') !== sha) throw new DsvError('E_CORRUPT', `${transport.url}/${name} does not match its SHA-256 name`, {url: transport.url, name})
  writeFileAtomic(cached, data, false)
  return data
}

/** Reads the remote's format marker: null when there is none (nothing pushed yet). */
export async function readMarker(transport: Transport): Promise<{format: number} | null> {
  const data = await transport.read(MARKER)
  if (!data) return null
  let marker: {format?: unknown}
  try {
    marker = JSON.parse(data.toString('utf8'))
  } catch {
    throw new DsvError('E_REMOTE_FORMAT', `${transport.url}/${MARKER} is not valid JSON: this is not a dsv remote`, {url: transport.url})
  }
  if (marker.format !== REMOTE_FORMAT)
    throw new DsvError('E_REMOTE_FORMAT', `${transport.url} has remote format ${String(marker.format)}; this dsv understands ${REMOTE_FORMAT}`, {url: transport.url}, 'upgrade dsv')
  return {format: REMOTE_FORMAT}
}
