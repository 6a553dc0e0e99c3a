/**
 * The GCS test harness (tools/gcs-emulator: firebase-tools' Storage emulator + our
 * precondition layer) driven by the real @google-cloud/storage client: round trips,
 * listing, generation preconditions (create-only, compare-and-swap, delete, reads),
 * an exact CAS counter across 8 processes and a 64-writer create-only race.
 */
import assert from 'node:assert/strict'
import {spawn} from 'node:child_process'
import crypto from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {fileURLToPath} from 'node:url'
import {Storage, type Bucket} from '@google-cloud/storage'
import {GCS_EMULATOR_PROJECT, startGcsEmulator, requireGcsEmulator, type GcsEmulator} from './gcs-emulator.js'

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')

/**
 * The HTTP status of a client error. The client surfaces a 412 in two shapes: an
 * ApiError (or, for the data PUT of a resumable upload, a plain object) with
 * `code === 412`, and, when the resumable session POST itself is refused, a
 * GaxiosError with `code` undefined and `status === 412`.
 */
function httpStatus(err: unknown): unknown {
  const e = err as {code?: unknown; status?: unknown; response?: {status?: unknown}}
  return typeof e?.code === 'number' ? e.code : (e?.status ?? e?.response?.status)
}

/** Expects a 412 surfaced as `error.code === 412` (or, with how: 'status', as `error.status`). */
async function rejects412(p: Promise<unknown>, how: 'code' | 'status' | 'any' = 'code'): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    const e = err as {code?: unknown; status?: unknown}
    const got = how === 'code' ? e.code : how === 'status' ? e.status : httpStatus(err)
    assert.equal(got, 412, `expected ${how} 412: ${String(err)} (code ${String(e.code)}, status ${String(e.status)})`)
    return true
  })
}

describe('GCS emulator harness (real @google-cloud/storage client)', function () {
  this.timeout(180_000) // 8 client processes on a busy 2-core machine
  let gcs: GcsEmulator | undefined
  let storage: Storage
  let bucket: Bucket
  let tmp: string

  before(async function () {
    requireGcsEmulator(this)
    gcs = await startGcsEmulator()
    storage = new Storage({apiEndpoint: gcs.url, projectId: GCS_EMULATOR_PROJECT})
    bucket = storage.bucket('dsv-test')
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'dsv-gcs-test-'))
  })

  after(async function () {
    await gcs?.stop()
    if (tmp) fs.rmSync(tmp, {recursive: true, force: true})
  })

  it('starts a server that answers and is stopped by stop()', async function () {
    assert.match(gcs!.url, /^http:\/\/127\.0\.0\.1:\d+$/)
    assert.equal(gcs!.env.STORAGE_EMULATOR_HOST, gcs!.url)
    assert.equal(gcs!.env.GOOGLE_CLOUD_PROJECT, 'demo-dsv-test')
    const other = await startGcsEmulator()
    assert.notEqual(other.url, gcs!.url)
    await other.stop()
    assert.throws(() => process.kill(other.pid, 0))
    await other.stop() // idempotent
  })

  it('round-trips 1 KB (simple upload) and 20 MB (resumable) byte-exact', async function () {
    const small = crypto.randomBytes(1024)
    await bucket.file('rt/small.bin').save(small, {resumable: false})
    const [gotSmall] = await bucket.file('rt/small.bin').download()
    assert.ok(gotSmall.equals(small))

    const big = crypto.randomBytes(20 * 1024 * 1024)
    await bucket.file('rt/big.bin').save(big) // resumable by default: POST session + one PUT
    const [gotBig] = await bucket.file('rt/big.bin').download()
    assert.equal(gotBig.length, big.length)
    assert.ok(gotBig.equals(big))

    const chunks: Buffer[] = []
    for await (const chunk of bucket.file('rt/big.bin').createReadStream()) chunks.push(chunk as Buffer)
    assert.ok(Buffer.concat(chunks).equals(big))

    const [md] = await bucket.file('rt/big.bin').getMetadata()
    assert.equal(Number(md.size), big.length)
  })

  it('uploads files with bucket.upload, resumable or not, and honours preconditions there', async function () {
    const local = path.join(tmp, 'upload.bin')
    const data = crypto.randomBytes(64 * 1024)
    fs.writeFileSync(local, data)
    for (const resumable of [false, true]) {
      const destination = `up/${resumable ? 'resumable' : 'simple'}.bin`
      await bucket.upload(local, {destination, resumable, preconditionOpts: {ifGenerationMatch: 0}})
      const [got] = await bucket.file(destination).download()
      assert.ok(got.equals(data))
      // resumable: the session POST is refused (GaxiosError, status 412)
      await rejects412(bucket.upload(local, {destination, resumable, preconditionOpts: {ifGenerationMatch: 0}}), resumable ? 'status' : 'code')
    }
  })

  it('lists by prefix', async function () {
    for (const name of ['ls/a/1', 'ls/a/2', 'ls/a/sub/3', 'ls/b/1', 'ls/ab']) {
      await bucket.file(name).save(name, {resumable: false})
    }
    const [files] = await bucket.getFiles({prefix: 'ls/a/'})
    assert.deepEqual(files.map((f) => f.name).sort(), ['ls/a/1', 'ls/a/2', 'ls/a/sub/3'])
    const [none] = await bucket.getFiles({prefix: 'ls/zzz'})
    assert.deepEqual(none, [])
  })

  it('create-only (ifGenerationMatch: 0): the second write fails with 412, simple and resumable', async function () {
    for (const resumable of [false, true]) {
      const file = bucket.file(`co/${resumable}`)
      await file.save('first', {resumable, preconditionOpts: {ifGenerationMatch: 0}})
      await rejects412(file.save('second', {resumable, preconditionOpts: {ifGenerationMatch: 0}}), resumable ? 'status' : 'code')
      const [got] = await file.download()
      assert.equal(got.toString(), 'first')
    }
  })

  it('compare-and-swap: the right generation wins, a stale one gets 412', async function () {
    const file = bucket.file('cas/obj')
    await file.save('v1', {resumable: false, preconditionOpts: {ifGenerationMatch: 0}})
    const [md1] = await file.getMetadata()
    const g1 = Number(md1.generation)
    await file.save('v2', {resumable: false, preconditionOpts: {ifGenerationMatch: g1}})
    const [md2] = await file.getMetadata()
    const g2 = Number(md2.generation)
    assert.ok(g2 > g1, `generation ${g2} must exceed ${g1}`)
    await rejects412(file.save('v3', {resumable: false, preconditionOpts: {ifGenerationMatch: g1}}))
    await rejects412(file.save('v3', {resumable: true, preconditionOpts: {ifGenerationMatch: g1}}), 'status')
    await rejects412(file.save('v3', {resumable: false, preconditionOpts: {ifGenerationNotMatch: g2}}))
    const [got] = await file.download()
    assert.equal(got.toString(), 'v2')
    // a write right after another still gets a larger generation
    await file.save('v3', {resumable: false, preconditionOpts: {ifGenerationMatch: g2}})
    const [md3] = await file.getMetadata()
    assert.ok(Number(md3.generation) > g2)
  })

  it('reads honour preconditions and generation=', async function () {
    const file = bucket.file('rd/obj')
    await file.save('x', {resumable: false})
    const [md] = await file.getMetadata()
    const g = Number(md.generation)
    const [same] = await file.getMetadata({ifGenerationMatch: g})
    assert.equal(Number(same.generation), g)
    await rejects412(file.getMetadata({ifGenerationMatch: g - 1}))
    // a failed *NotMatch on a read is 304 Not Modified, as on GCS
    await assert.rejects(file.getMetadata({ifGenerationNotMatch: g}), (err: unknown) => httpStatus(err) === 304)
    const [pinned] = await bucket.file('rd/obj', {generation: g}).download()
    assert.equal(pinned.toString(), 'x')
    await file.save('y', {resumable: false})
    await assert.rejects(bucket.file('rd/obj', {generation: g}).download(), (err: unknown) => {
      assert.equal((err as {code?: unknown}).code, 404)
      return true
    })
  })

  it('delete honours ifGenerationMatch', async function () {
    const file = bucket.file('del/obj')
    await file.save('x', {resumable: false})
    const [md] = await file.getMetadata()
    const g = Number(md.generation)
    await rejects412(file.delete({ifGenerationMatch: g - 1}))
    assert.equal((await file.exists())[0], true)
    await file.delete({ifGenerationMatch: g})
    assert.equal((await file.exists())[0], false)
    await assert.rejects(file.getMetadata(), (err: unknown) => (err as {code?: unknown}).code === 404)
  })

  it('a 64-writer create-only race on one name has exactly one winner', async function () {
    const name = 'race/one'
    const results = await Promise.allSettled(
      Array.from({length: 64}, (_, i) =>
        bucket.file(name).save(`writer ${i}`, {resumable: i % 2 === 1, preconditionOpts: {ifGenerationMatch: 0}}),
      ),
    )
    const winners = results.flatMap((r, i) => (r.status === 'fulfilled' ? [i] : []))
    assert.equal(winners.length, 1, `winners: ${winners.join(', ')}`)
    for (const r of results) {
      // simple uploads: ApiError code 412; resumable: GaxiosError status 412 when the
      // session POST is refused, or code 412 when the data PUT loses the race
      if (r.status === 'rejected') assert.equal(httpStatus(r.reason), 412, String(r.reason))
    }
    const [got] = await bucket.file(name).download()
    assert.equal(got.toString(), `writer ${winners[0]}`)
  })

  it('an exact compare-and-swap counter: 8 processes x 10 increments = 80', async function () {
    const name = 'counter/value'
    await bucket.file(name).save('0', {resumable: false, preconditionOpts: {ifGenerationMatch: 0}})
    const [md0] = await bucket.file(name).getMetadata()
    const g0 = BigInt(md0.generation!)

    // Each worker: read (metadata, then the bytes of exactly that generation), write
    // value+1 with ifGenerationMatch = the generation read, retry on 412/404.
    const script = `
      import {Storage} from '@google-cloud/storage'
      const storage = new Storage()
      const bucket = storage.bucket(process.argv[1])
      const name = process.argv[2]
      const writes = []
      let conflicts = 0
      for (let i = 0; i < 10; i++) {
        for (;;) {
          const [md] = await bucket.file(name).getMetadata()
          let value
          try {
            const [buf] = await bucket.file(name, {generation: md.generation}).download()
            value = Number(buf.toString())
          } catch (err) {
            if (err.code === 404) { conflicts++; continue }
            throw err
          }
          const file = bucket.file(name)
          try {
            await file.save(String(value + 1), {resumable: false, preconditionOpts: {ifGenerationMatch: md.generation}})
          } catch (err) {
            if (err.code === 412) { conflicts++; continue }
            throw err
          }
          writes.push({readGen: String(md.generation), newGen: String(file.metadata.generation), value: value + 1})
          break
        }
      }
      process.stdout.write(JSON.stringify({writes, conflicts}) + '\\n')
    `
    const runWorker = () =>
      new Promise<{writes: {readGen: string; newGen: string; value: number}[]; conflicts: number}>((resolve, reject) => {
        const child = spawn(process.execPath, ['--input-type=module', '-e', script, 'dsv-test', name], {
          cwd: repoRoot,
          env: {...process.env, ...gcs!.env},
          stdio: ['ignore', 'pipe', 'pipe'],
        })
        let out = ''
        let err = ''
        child.stdout.on('data', (d) => (out += d))
        child.stderr.on('data', (d) => (err += d))
        child.on('error', reject)
        child.on('exit', (code) => {
          if (code !== 0) return reject(new Error(`worker exited ${code}: ${err}`))
          try {
            resolve(JSON.parse(out))
          } catch (e) {
            reject(new Error(`bad worker output ${JSON.stringify(out)}: ${err}`))
          }
        })
      })
    const results = await Promise.all(Array.from({length: 8}, runWorker))

    const [final] = await bucket.file(name).download()
    assert.equal(final.toString(), '80')

    // The successful writes form one chain: each read the generation the previous
    // one produced, wrote its value + 1, and got a strictly larger generation.
    const writes = results.flatMap((r) => r.writes).map((w) => ({...w, readGen: BigInt(w.readGen), newGen: BigInt(w.newGen)}))
    assert.equal(writes.length, 80)
    writes.sort((a, b) => (a.newGen < b.newGen ? -1 : a.newGen > b.newGen ? 1 : 0))
    let prevGen = g0
    for (const [i, w] of writes.entries()) {
      assert.equal(w.value, i + 1)
      assert.equal(w.readGen, prevGen, `write ${i + 1} read generation ${w.readGen}, expected ${prevGen}`)
      assert.ok(w.newGen > w.readGen)
      prevGen = w.newGen
    }
    for (const r of results) {
      const gens = r.writes.map((w) => BigInt(w.newGen))
      for (let i = 1; i < gens.length; i++) assert.ok(gens[i] > gens[i - 1], 'generations seen by a worker increase')
    }
    const [mdEnd] = await bucket.file(name).getMetadata()
    assert.equal(BigInt(mdEnd.generation!), prevGen)
  })
})
