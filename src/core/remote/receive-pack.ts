/**
 * The receiving half of fetch, pull and clone: walk from the wanted commits through
 * what the local store lacks, download the remote packs that hold it into
 * `.dsv/incoming/`, re-hash every object, and only then move the packs into the store
 * and index the objects, in one atomic LevelDB batch. A fetch killed at any point
 * leaves the store as it was; downloaded packs stay in `incoming/` and are reused
 * (after re-checking their SHA-256) when the fetch runs again.
 */
import {createReadStream, existsSync, mkdirSync, readdirSync, renameSync, rmSync, unlinkSync} from 'node:fs'
import {createHash} from 'node:crypto'
import {join} from 'node:path'
import {applyDelta} from '../delta.js'
import {HASH_MISMATCH, objectIdBytes, type ObjectKind} from '../object-kinds.js'
import {isTerminal, objectLinks} from '../object-links.js'
import {PackReader, PackWriter, packPath, type PackEntryInfo, type PackLocation} from '../pack.js'
import {blockJobs, runVerifyJobs} from './verify-objects.js'
import {fsyncDir} from '../atomic-file.js'
import {CorruptObjectError, DsvError} from '../../errors/index.js'
import type {Oid} from '../bytes.js'
import type {ProgressFn, Repository} from '../repository.js'
import {PACK_DIR, type RemoteLocation, type RemoteObjects} from './remote-objects.js'
import type {Transport} from './transport.js'

export interface ReceiveResult {
  objects: number
  packs: number
  bytes: number
}

interface Walked {
  oid: Oid
  loc: RemoteLocation
}

/** Pack, then block, then entry: reading in this order decompresses each block once. */
function inPackOrder(a: Walked, b: Walked): number {
  return a.loc.pack < b.loc.pack ? -1 : a.loc.pack > b.loc.pack ? 1 : a.loc.entry.blockOffset - b.loc.entry.blockOffset || a.loc.entry.entryOffset - b.loc.entry.entryOffset
}

/** Local pack ids are 8 bytes: a received pack keeps the first 8 bytes of its SHA-256. */
function localPackId(sha: string): string {
  return sha.slice(0, 16)
}

export async function receiveObjects(repo: Repository, transport: Transport, remote: RemoteObjects, wants: Oid[], onProgress?: ProgressFn): Promise<ReceiveResult> {
  const incoming = join(repo.dsvDir, 'incoming')
  mkdirSync(incoming, {recursive: true})
  const reader = new PackReader(incoming, 16 << 20)
  const ready = new Set<string>()
  let bytes = 0
  let totalBytes = 0

  /** Makes a remote pack available in incoming/, downloading it unless a verified copy is there. */
  const fetchPacks = async (shas: string[]) => {
    const todo = [...new Set(shas)].filter((s) => !ready.has(s))
    for (const sha of todo) totalBytes += remote.packSize(sha)
    // bytes counts what was downloaded: a pack kept from an interrupted fetch is not downloaded again
    const queue = [...todo]
    await Promise.all(Array.from({length: Math.min(3, queue.length)}, async () => {
      for (let sha = queue.shift(); sha; sha = queue.shift()) {
        const path = packPath(incoming, sha)
        if (!(existsSync(path) && (await fileSha256(path)) === sha)) {
          const tmp = `${path}.tmp`
          rmSync(tmp, {force: true})
          const found = await transport.download(`${PACK_DIR}${sha}.pack`, tmp, (n) => {
            bytes += n
            onProgress?.({phase: 'receiving', loaded: bytes, total: totalBytes, unit: 'bytes'})
          })
          if (!found) throw new DsvError('E_CORRUPT', `${transport.url}/${PACK_DIR}${sha}.pack is listed in the remote's index but missing`, {url: transport.url})
          if ((await fileSha256(tmp)) !== sha) {
            rmSync(tmp, {force: true})
            throw new DsvError('E_CORRUPT', `${transport.url}/${PACK_DIR}${sha}.pack does not match its SHA-256 name`, {url: transport.url}, 'run the command again; if it persists the remote is damaged')
          }
          renameSync(tmp, path)
        }
        ready.add(sha)
      }
    }))
  }

  /** Reads a remote object from its downloaded pack and re-hashes it. */
  const readRemote = async (oid: Oid, depth = 0): Promise<{kind: ObjectKind; content: Buffer}> => {
    const loc = remote.locate(oid)
    if (!loc) throw new CorruptObjectError(oid, `not in the local store nor on ${transport.url}`)
    if (depth > 4) throw new CorruptObjectError(oid, 'delta chain too long on the remote')
    await fetchPacks([loc.pack])
    const e = reader.entry({packId: loc.pack, blockOffset: loc.entry.blockOffset, entryOffset: loc.entry.entryOffset})
    if (!e.oid.equals(loc.entry.oid) || e.kind !== loc.entry.kind) throw new CorruptObjectError(oid, `the remote index of pack ${loc.pack} points at another object`)
    let content = e.data
    if (e.base) {
      const base = e.base.toString('hex')
      const baseContent = (await repo.store.has(base)) ? (await repo.store.get(base)).content : (await readRemote(base, depth + 1)).content
      content = applyDelta(baseContent, e.data)
    }
    if (!objectIdBytes(e.kind, content).equals(e.oid)) throw new CorruptObjectError(oid, `received ${HASH_MISMATCH} (pack ${loc.pack})`)
    return {kind: e.kind, content}
  }

  // walk: level by level, each level's objects read in pack order (each block decompressed once)
  const walked = new Map<Oid, Walked>()
  const terminals: Walked[] = []
  const localFull = new Set<Oid>()
  let frontier = [...new Set(wants)]
  try {
    while (frontier.length > 0) {
      const local = await repo.store.locateMany(frontier)
      const missing: Walked[] = []
      for (const oid of frontier) {
        const at = local.get(oid)
        if (at) {
          if (!at.base) localFull.add(oid)
          continue
        }
        const loc = remote.locate(oid)
        if (!loc) throw new DsvError('E_CORRUPT', `${transport.url} refers to object ${oid}, which it does not hold`, {url: transport.url, oid}, 'the remote is damaged: ask whoever pushed last to push again')
        missing.push({oid, loc})
      }
      await fetchPacks(missing.map((m) => m.loc.pack))
      missing.sort(inPackOrder)
      const next = new Set<Oid>()
      for (const m of missing) {
        walked.set(m.oid, m)
        // leaves and blobs link to nothing: they are re-hashed below, block by block, on workers
        if (isTerminal(m.loc.entry.kind)) {
          terminals.push(m)
          continue
        }
        const obj = await readRemote(m.oid)
        for (const link of objectLinks(obj)) if (!walked.has(link.oid) && !localFull.has(link.oid)) next.add(link.oid)
      }
      frontier = [...next].filter((o) => !walked.has(o))
    }
    await verifyTerminals(repo, terminals, remote, incoming, fetchPacks, readRemote, onProgress)
    await importWalked(repo, walked, localFull, incoming, readRemote)
  } finally {
    reader.close()
  }
  // everything is in the store: what is left in incoming/ is no longer needed
  for (const name of readdirSync(incoming)) rmSync(join(incoming, name), {force: true})
  return {objects: walked.size, packs: ready.size, bytes}
}

/**
 * Re-hashes the received leaves and blobs (kind checked against the index too). A delta
 * is checked on a worker when its base is stored whole, here or in a received pack;
 * otherwise (rare: a chain on the remote) on this thread through `readRemote`.
 */
async function verifyTerminals(repo: Repository, terminals: Walked[], remote: RemoteObjects, incoming: string, fetchPacks: (shas: string[]) => Promise<void>,
  readRemote: (oid: Oid) => Promise<unknown>, onProgress?: ProgressFn): Promise<void> {
  const bases = [...new Set(terminals.filter((t) => t.loc.entry.base).map((t) => t.loc.entry.base!.toString('hex')))]
  const local = await repo.store.locateMany(bases)
  const baseAt = new Map<Oid, {oid: Oid; packDir: string; at: PackLocation}>()
  const remoteBases: string[] = []
  for (const b of bases) {
    const here = local.get(b)
    const there = remote.locate(b)
    if (here && !here.base) baseAt.set(b, {oid: b, packDir: repo.store.packDir, at: here})
    else if (!here && there && !there.entry.base) {
      baseAt.set(b, {oid: b, packDir: incoming, at: {packId: there.pack, blockOffset: there.entry.blockOffset, entryOffset: there.entry.entryOffset}})
      remoteBases.push(there.pack)
    }
  }
  await fetchPacks(remoteBases)
  const simple = terminals.filter((t) => !t.loc.entry.base || baseAt.has(t.loc.entry.base.toString('hex')))
    .sort(inPackOrder)
  for (const t of terminals) if (t.loc.entry.base && !baseAt.has(t.loc.entry.base.toString('hex'))) await readRemote(t.oid)
  const jobs = blockJobs(simple, (t) => ({packDir: incoming, packId: t.loc.pack, blockOffset: t.loc.entry.blockOffset}), (t) => {
    const base = t.loc.entry.base?.toString('hex')
    return {oid: t.oid, entryOffset: t.loc.entry.entryOffset, kind: t.loc.entry.kind, ...(base ? {base: baseAt.get(base)!} : {})}
  })
  let checked = 0
  const readers = new Map<string, PackReader>()
  try {
    await runVerifyJobs(jobs, (dir) => readers.get(dir) ?? readers.set(dir, new PackReader(dir, 16 << 20)).get(dir)!, (n) => {
      checked += n
      onProgress?.({phase: 'checking objects', loaded: checked, total: simple.length})
    })
  } finally {
    for (const r of readers.values()) r.close()
  }
}

/**
 * Moves the received packs into the store and indexes every walked object in one batch.
 * A delta whose base is not stored whole here is written whole instead, so delta chains
 * stay one level deep whatever the sender's store looked like.
 */
async function importWalked(repo: Repository, walked: Map<Oid, Walked>, localFull: Set<Oid>, incoming: string, readRemote: (oid: Oid) => Promise<{kind: ObjectKind; content: Buffer}>): Promise<void> {
  if (walked.size === 0) return
  const packDir = join(repo.dsvDir, 'packs')
  const isFullHere = (oid: Oid) => localFull.has(oid) || (walked.has(oid) && !walked.get(oid)!.loc.entry.base)
  const entries: PackEntryInfo[] = []
  const whole: Oid[] = []
  const packs = new Set<string>()
  for (const {oid, loc} of walked.values()) {
    const e = loc.entry
    if (e.base && !isFullHere(e.base.toString('hex'))) {
      whole.push(oid)
      continue
    }
    packs.add(loc.pack)
    entries.push({oid: e.oid, kind: e.kind, base: e.base, packId: localPackId(loc.pack), blockOffset: e.blockOffset, entryOffset: e.entryOffset, length: 0})
  }
  let fixups: PackWriter | undefined
  try {
    if (whole.length > 0) {
      fixups = new PackWriter(packDir, repo.store.compressionLevel)
      for (const oid of whole) {
        const obj = await readRemote(oid)
        fixups.add(Buffer.from(oid, 'hex'), obj.kind, obj.content)
      }
      entries.push(...fixups.finish())
      fixups = undefined
    }
  } catch (error) {
    fixups?.abort()
    throw error
  }
  for (const sha of packs) {
    const from = packPath(incoming, sha)
    const to = packPath(packDir, localPackId(sha))
    if (existsSync(to)) unlinkSync(from) // an earlier, interrupted import of the same bytes
    else renameSync(from, to)
  }
  fsyncDir(packDir)
  await repo.store.indexPack(entries, true)
}

async function fileSha256(path: string): Promise<string> {
  const hash = createHash('sha256')
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer)
  return hash.digest('hex')
}
