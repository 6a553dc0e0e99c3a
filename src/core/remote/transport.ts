/**
 * What a remote must offer dsv: a flat namespace of immutable files (created once,
 * never replaced) and a few mutable refs that move only by compare-and-swap. A bucket
 * prefix on Google Cloud Storage and a directory on a shared disk both provide this;
 * another object store only needs these methods.
 *
 * Layout under the remote's root:
 *   dsv-remote.json            format marker, created by the first push
 *   packs/<sha256>.pack        pack files (pack.ts format), named by their bytes' SHA-256
 *   packs/<sha256>.idx         the pack's index (remote-index.ts); its presence publishes the pack
 *   refs/heads/<branch>        a commit id
 *   refs/tags/<tag>            a commit or tag-object id
 */
import {resolve} from 'node:path'
import {Transform} from 'node:stream'
import {DsvError} from '../../errors/index.js'

/** A ref's value and the version it was read at (opaque: a GCS generation, a file counter). */
export interface RefValue {
  value: string
  version: string
}

export interface TransferProgress {
  (bytes: number): void
}

/** A pass-through stream that reports the bytes flowing through it. */
export function countingStream(onBytes?: TransferProgress): Transform {
  return new Transform({
    transform(chunk: Buffer, _enc, done) {
      onBytes?.(chunk.length)
      done(null, chunk)
    },
  })
}

export interface Transport {
  /** The URL as the user gave it, for messages. */
  readonly url: string
  /** Names of immutable files under `prefix` (e.g. "packs/"), relative to the root. */
  list(prefix: string): Promise<string[]>
  /** A small immutable file's bytes, or null when absent. */
  read(name: string): Promise<Buffer | null>
  /** Streams an immutable file into `dest` (which must not exist); false when absent. */
  download(name: string, dest: string, onBytes?: TransferProgress): Promise<boolean>
  /** Whether an immutable file exists. */
  exists(name: string): Promise<boolean>
  /**
   * Creates an immutable file from bytes or a local file, only if it does not exist yet.
   * 'exists' means someone created it first (names are content hashes: the same bytes).
   */
  create(name: string, source: Buffer | {path: string; size: number}, onBytes?: TransferProgress): Promise<'created' | 'exists'>
  /** Every ref under `refs/`, with the version each was read at. */
  listRefs(): Promise<Map<string, RefValue>>
  readRef(name: string): Promise<RefValue | null>
  /**
   * Sets `name` to `value` only if it is still at `expected` (null: must not exist).
   * Returns false, changing nothing, when someone else moved it first.
   */
  compareAndSwapRef(name: string, expected: RefValue | null, value: string): Promise<boolean>
  close?(): Promise<void>
}

export type RemoteUrl = {kind: 'gs'; bucket: string; prefix: string; url: string} | {kind: 'path'; path: string; url: string}

const BUCKET_NAME = /^[a-z0-9][a-z0-9._-]{1,220}[a-z0-9]$/

/** Parses `gs://bucket/prefix`, `file:///abs/path`, or a plain path. */
export function parseRemoteUrl(url: string, cwd = process.cwd()): RemoteUrl {
  const bad = (why: string) => new DsvError('E_BAD_URL', `bad remote URL '${url}': ${why}`, {url}, 'use gs://BUCKET/PREFIX for Google Cloud Storage, or a directory path')
  if (url.trim() === '') throw bad('empty')
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(url)
  if (scheme) {
    const name = scheme[1].toLowerCase()
    if (name === 'gs') {
      const rest = url.slice(scheme[0].length)
      const slash = rest.indexOf('/')
      const bucket = slash < 0 ? rest : rest.slice(0, slash)
      const prefix = (slash < 0 ? '' : rest.slice(slash + 1)).replace(/\/+$/, '')
      if (!BUCKET_NAME.test(bucket) || bucket.includes('..')) throw bad(`'${bucket}' is not a valid bucket name`)
      if (prefix.split('/').some((p) => p === '.' || p === '..' || p === '') && prefix !== '') throw bad('the prefix has an empty, "." or ".." part')
      return {kind: 'gs', bucket, prefix, url: `gs://${bucket}${prefix ? `/${prefix}` : ''}`}
    }
    if (name === 'file') {
      const path = decodeURIComponent(url.slice(scheme[0].length))
      if (!path.startsWith('/')) throw bad('a file:// URL needs an absolute path')
      return {kind: 'path', path, url}
    }
    throw bad(`the ${name}:// scheme is not supported`)
  }
  if (/^[a-z0-9.-]+:[^\\]/i.test(url) && !/^[a-z]:[\\/]/i.test(url)) throw bad('scp-style host:path remotes are not supported')
  return {kind: 'path', path: resolve(cwd, url), url}
}

/**
 * Opens the transport for a URL. The GCS client is loaded only when a gs:// remote is used.
 * `DSV_TRACE=remote` logs every remote operation to stderr (what, outcome, milliseconds).
 */
export async function openTransport(url: string, cwd?: string): Promise<Transport> {
  const parsed = parseRemoteUrl(url, cwd)
  let transport: Transport
  if (parsed.kind === 'path') {
    const {PathTransport} = await import('./path-transport.js')
    transport = new PathTransport(parsed.path, parsed.url)
  } else {
    const {GcsTransport} = await import('./gcs-transport.js')
    transport = new GcsTransport(parsed.bucket, parsed.prefix, parsed.url)
  }
  return /\bremote\b/.test(process.env.DSV_TRACE ?? '') ? traced(transport) : transport
}

function traced(inner: Transport): Transport {
  const wrap = <A extends unknown[], R>(op: string, fn: (...args: A) => Promise<R>) => async (...args: A): Promise<R> => {
    const started = Date.now()
    const what = `${op} ${typeof args[0] === 'string' ? args[0] : ''}`.trim()
    try {
      const out = await fn(...args)
      const shown = typeof out === 'string' || typeof out === 'boolean' ? String(out) : out === null ? 'absent' : 'ok'
      process.stderr.write(`dsv trace: remote ${what} -> ${shown} (${Date.now() - started} ms)\n`)
      return out
    } catch (error) {
      process.stderr.write(`dsv trace: remote ${what} -> failed: ${(error as Error).message} (${Date.now() - started} ms)\n`)
      throw error
    }
  }
  return {
    url: inner.url,
    list: wrap('list', inner.list.bind(inner)),
    read: wrap('read', inner.read.bind(inner)),
    download: wrap('download', inner.download.bind(inner)),
    exists: wrap('exists', inner.exists.bind(inner)),
    create: wrap('create', inner.create.bind(inner)),
    listRefs: wrap('list-refs', inner.listRefs.bind(inner)),
    readRef: wrap('read-ref', inner.readRef.bind(inner)),
    compareAndSwapRef: wrap('cas-ref', inner.compareAndSwapRef.bind(inner)),
    close: inner.close?.bind(inner),
  }
}
