/**
 * GCS failures as the real client sees them: a small HTTP front in this test sits
 * between dsv and the emulator and, for chosen requests, answers 503 or 429, drops the
 * connection, or answers 403 / 404-bucket as GCS does. dsv must retry the transient
 * ones (and still end with the exact data), and turn the others into clear errors.
 */
import assert from 'node:assert/strict'
import fs from 'node:fs'
import http from 'node:http'
import path from 'node:path'
import type {AddressInfo} from 'node:net'
import {Storage} from '@google-cloud/storage'
import {assertExit, assertJsonError, assertSameTree, copyFixtures, defaultEnv, dsvEnvAsync, TempDirs} from './helpers.js'
import {requireGcsEmulator, startGcsEmulator, type GcsEmulator} from './gcs-emulator.js'

type Fault = 'pass' | '503' | '429' | 'reset' | '403' | '404-bucket'

/** A front that forwards to `target` and lets `decide` break any request. */
async function faultyFront(target: string, decide: (req: http.IncomingMessage, n: number) => Fault): Promise<{url: string; faults: Map<Fault, number>; close(): Promise<void>}> {
  const upstream = new URL(target)
  const faults = new Map<Fault, number>()
  let n = 0
  const server = http.createServer((req, res) => {
    const fault = decide(req, n++)
    faults.set(fault, (faults.get(fault) ?? 0) + 1)
    const error = (status: number, message: string, reason: string) => {
      req.resume()
      res.writeHead(status, {'content-type': 'application/json'})
      res.end(JSON.stringify({error: {code: status, message, errors: [{message, reason}]}}))
    }
    if (fault === 'reset') return void req.socket.destroy()
    if (fault === '503') return error(503, 'Service Unavailable', 'backendError')
    if (fault === '429') return error(429, 'The rate of change requests to the object is too high.', 'rateLimitExceeded')
    if (fault === '403') return error(403, 'dsv-bot@example.iam.gserviceaccount.com does not have storage.objects.get access.', 'forbidden')
    if (fault === '404-bucket') return error(404, 'The specified bucket does not exist.', 'notFound')
    const proxied = http.request({host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers}, (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers)
      up.pipe(res)
    })
    proxied.on('error', () => res.destroy())
    req.pipe(proxied)
  })
  server.keepAliveTimeout = 65_000
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const {port} = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    faults,
    close: () => new Promise((resolve) => {
      server.closeAllConnections()
      server.close(() => resolve())
    }),
  }
}

describe('remotes over GCS: retries, auth and missing buckets', function () {
  this.timeout(300_000)
  const tmp = new TempDirs()
  let emu: GcsEmulator
  let n = 0

  before(async function () {
    requireGcsEmulator(this)
    emu = await startGcsEmulator()
    await new Storage({apiEndpoint: emu.url, projectId: emu.env.GOOGLE_CLOUD_PROJECT}).bucket('faults').file('.created').save('x', {resumable: false})
  })
  after(async () => {
    await emu?.stop()
    tmp.cleanup()
  })

  const envFor = (front: string, extra: Record<string, string> = {}) => ({...defaultEnv(), ...emu.env, STORAGE_EMULATOR_HOST: front, DSV_REMOTE_RETRY_DELAY_MS: '20', ...extra})
  const dataset = async (env: NodeJS.ProcessEnv, url: string): Promise<string> => {
    const dir = tmp.make()
    copyFixtures(dir, ['golden', 'common_voice'])
    for (const args of [['init'], ['commit', '-m', 'v1', '--no-verify'], ['remote', 'add', 'origin', url]]) assertExit(await dsvEnvAsync(dir, env, ...args), 0)
    return dir
  }

  it('retries 503, 429 and dropped connections, and the push and the clone still come out exact', async () => {
    // every third request fails, in turn with each transient fault
    const kinds: Fault[] = ['503', 'reset', '429']
    const front = await faultyFront(emu.url, (_req, i) => (i % 3 === 1 ? kinds[Math.floor(i / 3) % 3] : 'pass'))
    try {
      const env = envFor(front.url)
      const url = `gs://faults/flaky-${n++}`
      const a = await dataset(env, url)
      const push = await dsvEnvAsync(a, env, 'push', '--json')
      assertExit(push, 0, 'push through a flaky connection')
      const parent = tmp.make()
      const clone = await dsvEnvAsync(parent, env, 'clone', url, 'b', '--json')
      assertExit(clone, 0, 'clone through a flaky connection')
      assertSameTree(path.join(parent, 'b'), a)
      assert.ok((front.faults.get('503') ?? 0) > 2 && (front.faults.get('reset') ?? 0) > 2 && (front.faults.get('429') ?? 0) > 2, `faults: ${[...front.faults]}`)
      const fsck = await dsvEnvAsync(path.join(parent, 'b'), env, 'fsck', '--json')
      assertExit(fsck, 0)
    } finally {
      await front.close()
    }
  })

  it('gives up after the retries with E_REMOTE_UNAVAILABLE (exit 11), and changes nothing', async () => {
    const front = await faultyFront(emu.url, () => '503')
    try {
      const env = envFor(front.url, {DSV_REMOTE_RETRIES: '3'})
      const a = await dataset(env, `gs://faults/down-${n++}`)
      const err = assertJsonError(await dsvEnvAsync(a, env, 'push', '--json'), 11, 'E_REMOTE_UNAVAILABLE')
      assert.match(err.message, /503|Service Unavailable/)
      assert.equal(front.faults.get('503'), 3, 'three attempts, then stop')
      assert.equal(fs.existsSync(path.join(a, '.dsv/refs/remotes/origin/main')), false)
    } finally {
      await front.close()
    }
  })

  it('403 is an auth error with what to do (exit 11, E_REMOTE_AUTH), not retried; no secret reaches .dsv/', async () => {
    const front = await faultyFront(emu.url, () => '403')
    try {
      const creds = path.join(tmp.make(), 'key.json')
      fs.writeFileSync(creds, JSON.stringify({type: 'authorized_user', client_id: 'id', client_secret: 'SECRET-dsv-test-9f2c', refresh_token: 'REFRESH-dsv-test-77'}))
      const env = envFor(front.url, {GOOGLE_APPLICATION_CREDENTIALS: creds})
      const a = await dataset(env, `gs://faults/denied-${n++}`)
      const r = await dsvEnvAsync(a, env, 'push', '--json')
      const err = assertJsonError(r, 11, 'E_REMOTE_AUTH')
      assert.match(err.hint, /application-default login|GOOGLE_APPLICATION_CREDENTIALS/)
      assert.equal(front.faults.get('403'), 1, 'an auth failure is not retried')
      const human = await dsvEnvAsync(a, env, 'push')
      assert.match(human.stderr, /^error: access denied/)
      for (const text of [r.stdout, human.stderr, ...listAll(path.join(a, '.dsv')).map((f) => fs.readFileSync(f, 'latin1'))])
        assert.ok(!/SECRET-dsv-test|REFRESH-dsv-test/.test(text), 'a credential leaked')
    } finally {
      await front.close()
    }
  })

  it('a missing bucket is E_REMOTE_NOT_FOUND (exit 11) naming the bucket', async () => {
    const front = await faultyFront(emu.url, () => '404-bucket')
    try {
      const env = envFor(front.url)
      const a = await dataset(env, 'gs://no-such-bucket/x')
      const err = assertJsonError(await dsvEnvAsync(a, env, 'push', '--json'), 11, 'E_REMOTE_NOT_FOUND')
      assert.match(err.message, /no-such-bucket/)
      const parent = tmp.make()
      assertJsonError(await dsvEnvAsync(parent, env, 'clone', 'gs://no-such-bucket/x', 'c', '--json'), 11, 'E_REMOTE_NOT_FOUND')
      assert.equal(fs.existsSync(path.join(parent, 'c')), false)
    } finally {
      await front.close()
    }
  })
})

function listAll(dir: string): string[] {
  return fs.readdirSync(dir, {withFileTypes: true, recursive: true}).filter((e) => e.isFile()).map((e) => path.join(e.parentPath, e.name))
}
