// Precondition layer for the test GCS emulator.
//
// THIS IS OUR CODE (dsv's), NOT THE EMULATOR'S. The Cloud Storage emulator in
// firebase-tools ignores generation preconditions and hands out Date.now() as the
// generation, so two writes in one millisecond share one. This small HTTP proxy sits
// in front of it and adds, like real GCS:
//   - ifGenerationMatch (0 = must not exist), ifGenerationNotMatch,
//     ifMetagenerationMatch, ifMetagenerationNotMatch on object writes (simple,
//     multipart and resumable uploads, PATCH/PUT metadata, rewriteTo/copyTo/compose
//     destinations; ifSourceGeneration* on rewriteTo/copyTo), reads (metadata,
//     alt=media, /download/...) and deletes: HTTP 412 with a GCS-style JSON error
//     when a condition does not hold (304 for a failed *NotMatch on a read);
//   - resumable uploads: checked when the session is created and again, under the
//     lock, on the PUT that carries the data;
//   - `generation=N` on reads/deletes: 404 unless N is the live generation (the
//     emulator keeps no old generations);
//   - one lock per object (bucket + name) held across check-and-write, so concurrent
//     compare-and-swap is exact;
//   - strictly increasing generations per object (a write is forwarded only once
//     Date.now() is past the last generation handed out for that object).
// Everything else is forwarded untouched. Paths under /storage/v1/b/... are forwarded
// as /b/... (the emulator serves PATCH and rewriteTo/copyTo only under /b/...).
//
// Reads are checked after the fact (the generation the emulator actually served is
// compared), so they take no lock and media bodies are streamed through.
import http from 'node:http'
import {setTimeout as sleep} from 'node:timers/promises'

const PRECONDITION_MESSAGE = 'At least one of the pre-conditions you specified did not hold.'
const MAX_BUFFERED_BODY = 200 * 1024 * 1024
const MAX_BUFFERED_RESPONSE = 16 * 1024 * 1024
const SESSION_TTL_MS = 6 * 60 * 60 * 1000
const HOP_BY_HOP = new Set([
  'connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'expect',
])
const CONDITION_PARAMS = ['ifGenerationMatch', 'ifGenerationNotMatch', 'ifMetagenerationMatch', 'ifMetagenerationNotMatch']

class HttpError extends Error {
  constructor(status, reason, message) {
    super(message)
    this.status = status
    this.reason = reason
  }
}

function errorBody(status, reason, message, extra = {}) {
  return JSON.stringify({error: {code: status, message, errors: [{message, domain: 'global', reason, ...extra}]}})
}

function sendError(res, status, reason, message, extra) {
  if (res.headersSent) {
    res.destroy()
    return
  }
  const body = errorBody(status, reason, message, extra)
  res.writeHead(status, {'content-type': 'application/json; charset=UTF-8', 'content-length': Buffer.byteLength(body)})
  res.end(body)
}

function sendPreconditionFailed(res) {
  sendError(res, 412, 'conditionNotMet', PRECONDITION_MESSAGE, {locationType: 'header', location: 'If-Match'})
}

function sendNotFound(res, bucket, name) {
  sendError(res, 404, 'notFound', `No such object: ${bucket}/${name}`)
}

function decodeSegment(s) {
  try {
    return decodeURIComponent(s)
  } catch {
    throw new HttpError(400, 'invalid', `Invalid path segment: ${s}`)
  }
}

function stripSlash(name) {
  return name.startsWith('/') ? name.slice(1) : name
}

/** Parses the precondition query parameters; null when there are none. */
function parseConditions(params) {
  let conds = null
  for (const key of [...CONDITION_PARAMS, 'generation']) {
    const raw = params.get(key)
    if (raw === null || raw === '') continue
    if (!/^\d+$/.test(raw)) throw new HttpError(400, 'invalid', `Invalid argument: ${key}=${raw}`)
    conds ??= {}
    conds[key] = BigInt(raw)
  }
  return conds
}

/**
 * Evaluates preconditions against an object's state: {generation, metageneration} or
 * null when it does not exist (a missing object has generation 0, like GCS; the
 * NotMatch conditions fail when no live object exists). Returns 'ok', 'failed'
 * (a Match condition does not hold) or 'notModified' (a NotMatch condition does not
 * hold: GCS answers 304 to reads then, and 412 to writes).
 */
function evaluate(conds, state) {
  const gen = state ? state.generation : 0n
  if (conds.ifGenerationMatch !== undefined && gen !== conds.ifGenerationMatch) return 'failed'
  if (conds.ifMetagenerationMatch !== undefined && (!state || state.metageneration !== conds.ifMetagenerationMatch)) return 'failed'
  if (conds.ifGenerationNotMatch !== undefined && (!state || gen === conds.ifGenerationNotMatch)) return 'notModified'
  if (conds.ifMetagenerationNotMatch !== undefined && (!state || state.metageneration === conds.ifMetagenerationNotMatch)) return 'notModified'
  return 'ok'
}

function conditionsHold(conds, state) {
  return evaluate(conds, state) === 'ok'
}

function hasWriteConditions(conds) {
  return conds !== null && CONDITION_PARAMS.some((k) => conds[k] !== undefined)
}

function toBig(v) {
  try {
    return v === undefined || v === null ? undefined : BigInt(v)
  } catch {
    return undefined
  }
}

async function readBody(stream, limit) {
  const chunks = []
  let size = 0
  for await (const chunk of stream) {
    size += chunk.length
    if (size > limit) throw new HttpError(413, 'uploadTooLarge', `Request body larger than ${limit} bytes`)
    chunks.push(chunk)
  }
  return Buffer.concat(chunks)
}

/** The JSON metadata (first part) of a multipart/related upload body, or null. */
function multipartMetadata(contentType, body) {
  const m = /boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType ?? '')
  if (!m) return null
  const delimiter = Buffer.from(`--${m[1] ?? m[2]}`)
  const first = body.indexOf(delimiter)
  if (first < 0) return null
  const headersEnd = body.indexOf('\r\n\r\n', first)
  if (headersEnd < 0) return null
  const next = body.indexOf(delimiter, headersEnd)
  if (next < 0) return null
  try {
    return JSON.parse(body.subarray(headersEnd + 4, next).toString('utf8').trim())
  } catch {
    return null
  }
}

/** A FIFO mutex per key; the entry is dropped when nobody holds or waits for it. */
class KeyedLock {
  #tails = new Map()

  async acquire(key) {
    const previous = this.#tails.get(key) ?? Promise.resolve()
    let release
    const mine = new Promise((resolve) => {
      release = resolve
    })
    const tail = previous.then(() => mine)
    this.#tails.set(key, tail)
    await previous
    return () => {
      release()
      if (this.#tails.get(key) === tail) this.#tails.delete(key)
    }
  }
}

/**
 * Classifies a request. Returns {kind, bucket, name, ...} or {kind: 'pass'}.
 * kinds: read-meta, read-media, delete, mutate-meta (PATCH/PUT metadata),
 * write (content write: simple/multipart upload, rewriteTo/copyTo/compose),
 * resumable-start, resumable-put.
 */
function classify(method, path, params, headers) {
  let m = /^\/upload\/storage\/v1\/b\/([^/]+)\/o\/?$/.exec(path)
  if (m) {
    const bucket = decodeSegment(m[1])
    const uploadType = params.get('uploadType') ?? headers['x-goog-upload-protocol']
    const queryName = params.get('name')
    const name = queryName ? stripSlash(queryName) : undefined
    if (method === 'POST' && uploadType === 'resumable' && !params.get('upload_id')) {
      return {kind: 'resumable-start', bucket, name}
    }
    if (method === 'PUT' && params.get('upload_id')) {
      return {kind: 'resumable-put', bucket, name, uploadId: params.get('upload_id')}
    }
    if (method === 'POST') return {kind: 'write', bucket, name, uploadType}
    return {kind: 'pass'}
  }
  m = /^\/download\/storage\/v1\/b\/([^/]+)\/o\/([^/]+)$/.exec(path)
  if (m) {
    if (method !== 'GET' && method !== 'HEAD') return {kind: 'pass'}
    return {kind: 'read-media', bucket: decodeSegment(m[1]), name: decodeSegment(m[2])}
  }
  m = /^\/b\/([^/]+)\/o\/([^/]+)\/(rewriteTo|copyTo)\/b\/([^/]+)\/o\/([^/]+)$/.exec(path)
  if (m && method === 'POST') {
    return {
      kind: 'write',
      bucket: decodeSegment(m[4]),
      name: decodeSegment(m[5]),
      source: {bucket: decodeSegment(m[1]), name: decodeSegment(m[2])},
    }
  }
  m = /^\/b\/([^/]+)\/o\/([^/]+)\/compose$/.exec(path)
  if (m && method === 'POST') return {kind: 'write', bucket: decodeSegment(m[1]), name: decodeSegment(m[2])}
  m = /^\/b\/([^/]+)\/o\/([^/]+)$/.exec(path)
  if (m) {
    const target = {bucket: decodeSegment(m[1]), name: decodeSegment(m[2])}
    if (method === 'GET' || method === 'HEAD') {
      return {kind: params.get('alt') === 'media' ? 'read-media' : 'read-meta', ...target}
    }
    if (method === 'DELETE') return {kind: 'delete', ...target}
    if (method === 'PATCH' || method === 'PUT') return {kind: 'mutate-meta', ...target}
  }
  return {kind: 'pass'}
}

/**
 * Creates the layer's HTTP server (not yet listening).
 * @param {{upstreamHost: string, upstreamPort: number, log?: (line: string) => void}} options
 */
export function createPreconditionLayer({upstreamHost, upstreamPort, log}) {
  const agent = new http.Agent({keepAlive: true, maxSockets: 256, timeout: 30_000})
  const locks = new KeyedLock()
  /** bucket/name -> last generation handed out (BigInt) */
  const lastGeneration = new Map()
  /** upload_id -> {bucket, name, conds, at} for resumable sessions we started */
  const sessions = new Map()

  const sweep = setInterval(() => {
    const cutoff = Date.now() - SESSION_TTL_MS
    for (const [id, s] of sessions) if (s.at < cutoff) sessions.delete(id)
  }, 60_000)
  sweep.unref()

  const keyOf = (bucket, name) => `${bucket}\u0000${name}`

  function forwardHeaders(headers, bodyLength) {
    const out = {}
    for (const [k, v] of Object.entries(headers)) {
      if (v === undefined || HOP_BY_HOP.has(k)) continue
      out[k] = v
    }
    if (bodyLength !== undefined) {
      out['content-length'] = String(bodyLength)
    } else if (headers['transfer-encoding']) {
      out['transfer-encoding'] = headers['transfer-encoding']
    }
    return out
  }

  function responseHeaders(headers, bodyLength) {
    const out = {}
    for (const [k, v] of Object.entries(headers)) {
      if (v === undefined || HOP_BY_HOP.has(k)) continue
      out[k] = v
    }
    if (bodyLength !== undefined) out['content-length'] = String(bodyLength)
    return out
  }

  /**
   * Sends a request to the emulator. `body` is a Buffer, a readable stream or
   * undefined. Resolves with the response (its body not yet read).
   */
  function upstream(method, path, headers, body) {
    return new Promise((resolve, reject) => {
      const req = http.request({host: upstreamHost, port: upstreamPort, method, path, headers, agent}, resolve)
      req.on('error', reject)
      if (body === undefined) req.end()
      else if (Buffer.isBuffer(body)) req.end(body)
      else {
        body.on('error', (err) => req.destroy(err))
        body.pipe(req)
      }
    })
  }

  /** The live state {generation, metageneration} of an object, or null. */
  async function objectState(bucket, name) {
    const path = `/b/${encodeURIComponent(bucket)}/o/${encodeURIComponent(name)}`
    const res = await upstream('GET', path, {host: `${upstreamHost}:${upstreamPort}`, accept: 'application/json'})
    const body = await readBody(res, MAX_BUFFERED_RESPONSE)
    if (res.statusCode === 404) return null
    if (res.statusCode !== 200) {
      throw new HttpError(502, 'backendError', `emulator answered ${res.statusCode} to a metadata read of ${bucket}/${name}`)
    }
    const md = JSON.parse(body.toString('utf8'))
    return {generation: BigInt(md.generation), metageneration: BigInt(md.metageneration)}
  }

  async function waitPastLastGeneration(key) {
    const last = lastGeneration.get(key)
    if (last === undefined) return
    while (BigInt(Date.now()) <= last) await sleep(1)
  }

  function noteGeneration(key, generation) {
    const last = lastGeneration.get(key) ?? 0n
    lastGeneration.set(key, generation !== undefined && generation > last ? generation : last)
  }

  /** Pipes an upstream response to the client unchanged (except hop-by-hop headers). */
  function relay(up, res) {
    res.writeHead(up.statusCode, up.statusMessage, responseHeaders(up.headers))
    up.on('error', () => res.destroy())
    res.on('close', () => {
      if (!res.writableFinished) up.destroy()
    })
    up.pipe(res)
  }

  async function relayBuffered(up, res, body) {
    res.writeHead(up.statusCode, up.statusMessage, responseHeaders(up.headers, body.length))
    res.end(body)
  }

  // Read with conditions: forward, then judge the generation actually served.
  async function handleRead(req, res, c, conds, path) {
    const up = await upstream(req.method, path, forwardHeaders(req.headers), req)
    if (up.statusCode !== 200 && up.statusCode !== 206) return relay(up, res)
    let state
    let body
    if (c.kind === 'read-media') {
      state = {
        generation: toBig(up.headers['x-goog-generation']),
        metageneration: toBig(up.headers['x-goog-metadatageneration']),
      }
    } else {
      body = await readBody(up, MAX_BUFFERED_RESPONSE)
      const md = JSON.parse(body.toString('utf8'))
      state = {generation: toBig(md.generation), metageneration: toBig(md.metageneration)}
    }
    if (state.generation === undefined) throw new HttpError(502, 'backendError', 'emulator sent no generation')
    if (conds.generation !== undefined && conds.generation !== state.generation) {
      up.resume()
      return sendNotFound(res, c.bucket, c.name)
    }
    const verdict = evaluate(conds, state)
    if (verdict !== 'ok') {
      up.resume()
      if (verdict === 'failed') return sendPreconditionFailed(res)
      res.writeHead(304, {etag: up.headers.etag ?? ''})
      return res.end()
    }
    if (body) return relayBuffered(up, res, body)
    return relay(up, res)
  }

  // Delete / metadata update / content write: lock, check, forward, record.
  async function handleLocked(req, res, c, conds, path, body, {content}) {
    const key = keyOf(c.bucket, c.name)
    const release = await locks.acquire(key)
    try {
      const needState = hasWriteConditions(conds) || conds?.generation !== undefined || c.sourceConds
      const state = needState ? await objectState(c.bucket, c.name) : undefined
      if (conds?.generation !== undefined && (!state || state.generation !== conds.generation)) {
        req.resume()
        return sendNotFound(res, c.bucket, c.name)
      }
      // A delete or metadata update of a missing object: the emulator's 404 wins.
      if (hasWriteConditions(conds) && (content || state) && !conditionsHold(conds, state)) {
        req.resume()
        return sendPreconditionFailed(res)
      }
      if (c.sourceConds) {
        const src = await objectState(c.source.bucket, c.source.name)
        if (src && !conditionsHold(c.sourceConds, src)) {
          req.resume()
          return sendPreconditionFailed(res)
        }
      }
      if (content) {
        if (state) noteGeneration(key, state.generation)
        await waitPastLastGeneration(key)
      }
      let up
      try {
        up = await upstream(req.method, path, forwardHeaders(req.headers, body?.length), body ?? req)
      } finally {
        if (content) noteGeneration(key, BigInt(Date.now()))
      }
      if (req.method === 'DELETE' || up.statusCode < 200 || up.statusCode >= 300) {
        if (c.uploadId && up.statusCode >= 200 && up.statusCode < 300) sessions.delete(c.uploadId)
        return relay(up, res)
      }
      const out = await readBody(up, MAX_BUFFERED_RESPONSE)
      if (content) {
        try {
          const md = JSON.parse(out.toString('utf8'))
          noteGeneration(key, toBig(md.generation ?? md.resource?.generation))
        } catch {
          // not JSON: Date.now() noted above is an upper bound anyway
        }
      }
      if (c.uploadId) sessions.delete(c.uploadId)
      return relayBuffered(up, res, out)
    } finally {
      release()
    }
  }

  async function handle(req, res) {
    const url = new URL(req.url, 'http://layer.invalid')
    let path = url.pathname
    if (path === '/storage/v1/b' || path.startsWith('/storage/v1/b/')) path = path.slice('/storage/v1'.length)
    const forwardPath = path + url.search
    const c = classify(req.method, path, url.searchParams, req.headers)
    if (c.kind === 'pass') {
      const up = await upstream(req.method, forwardPath, forwardHeaders(req.headers), req)
      return relay(up, res)
    }
    const conds = parseConditions(url.searchParams)

    if (c.kind === 'read-meta' || c.kind === 'read-media') {
      if (conds === null) {
        const up = await upstream(req.method, forwardPath, forwardHeaders(req.headers), req)
        return relay(up, res)
      }
      return handleRead(req, res, c, conds, forwardPath)
    }

    if (c.kind === 'delete') return handleLocked(req, res, c, conds, forwardPath, undefined, {content: false})
    if (c.kind === 'mutate-meta') return handleLocked(req, res, c, conds, forwardPath, undefined, {content: false})

    if (c.kind === 'resumable-start') {
      // Small JSON body (object resource); may carry the name.
      const body = await readBody(req, MAX_BUFFERED_RESPONSE)
      let name = c.name
      if (name === undefined && body.length > 0) {
        try {
          const md = JSON.parse(body.toString('utf8'))
          if (typeof md.name === 'string') name = stripSlash(md.name)
        } catch {
          // let the emulator reject it
        }
      }
      if (name === undefined) {
        const up = await upstream(req.method, forwardPath, forwardHeaders(req.headers, body.length), body)
        return relay(up, res)
      }
      // Early check, as GCS does when a session is created; checked again at the end.
      if (hasWriteConditions(conds)) {
        const release = await locks.acquire(keyOf(c.bucket, name))
        try {
          if (!conditionsHold(conds, await objectState(c.bucket, name))) return sendPreconditionFailed(res)
        } finally {
          release()
        }
      }
      const up = await upstream(req.method, forwardPath, forwardHeaders(req.headers, body.length), body)
      const location = up.headers.location
      if (up.statusCode >= 200 && up.statusCode < 300 && typeof location === 'string') {
        const uploadId = new URL(location, 'http://layer.invalid').searchParams.get('upload_id')
        if (uploadId) sessions.set(uploadId, {bucket: c.bucket, name, conds, at: Date.now()})
      }
      return relay(up, res)
    }

    if (c.kind === 'resumable-put') {
      const session = sessions.get(c.uploadId)
      const target = session ?? (c.name ? {bucket: c.bucket, name: c.name, conds: null} : undefined)
      if (!target) {
        const up = await upstream(req.method, forwardPath, forwardHeaders(req.headers), req)
        return relay(up, res)
      }
      return handleLocked(req, res, {...c, bucket: target.bucket, name: target.name}, target.conds, forwardPath, undefined, {
        content: true,
      })
    }

    // c.kind === 'write'
    let body
    let name = c.name
    if (name === undefined && c.uploadType === 'multipart') {
      body = await readBody(req, MAX_BUFFERED_BODY)
      const md = multipartMetadata(req.headers['content-type'], body)
      if (md && typeof md.name === 'string') name = stripSlash(md.name)
    }
    if (name === undefined) {
      const up = await upstream(req.method, forwardPath, forwardHeaders(req.headers, body?.length), body ?? req)
      return relay(up, res)
    }
    if (c.source) {
      const src = {}
      for (const k of ['ifSourceGenerationMatch', 'ifSourceGenerationNotMatch', 'ifSourceMetagenerationMatch', 'ifSourceMetagenerationNotMatch']) {
        const raw = url.searchParams.get(k)
        if (raw === null || raw === '') continue
        if (!/^\d+$/.test(raw)) throw new HttpError(400, 'invalid', `Invalid argument: ${k}=${raw}`)
        src[k.replace('Source', '')] = BigInt(raw)
      }
      if (Object.keys(src).length > 0) c.sourceConds = src
    }
    return handleLocked(req, res, {...c, name}, conds, forwardPath, body, {content: true})
  }

  const server = http.createServer((req, res) => {
    const started = Date.now()
    if (log) {
      res.on('finish', () => log(`${req.method} ${req.url} -> ${res.statusCode} ${Date.now() - started}ms`))
    }
    handle(req, res).catch((err) => {
      req.resume()
      if (err instanceof HttpError) return sendError(res, err.status, err.reason, err.message)
      if (log) log(`error on ${req.method} ${req.url}: ${err?.stack ?? err}`)
      sendError(res, 502, 'backendError', `precondition layer: ${err?.message ?? err}`)
    })
  })
  // Long keep-alive (the client reuses connections); no overall request timeout
  // (large uploads on a slow machine).
  server.keepAliveTimeout = 65_000
  server.headersTimeout = 66_000
  server.requestTimeout = 0
  server.on('close', () => {
    clearInterval(sweep)
    agent.destroy()
  })
  return server
}
