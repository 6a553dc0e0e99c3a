/**
 * A remote under `gs://bucket/prefix`, through Google's own client (@google-cloud/storage).
 * Credentials are Application Default Credentials, found by the client as every Google
 * tool finds them; dsv never sees or stores a secret. `STORAGE_EMULATOR_HOST` points
 * the client at an emulator.
 *
 * Create-only writes use `ifGenerationMatch: 0`; a ref moves by compare-and-swap with
 * `ifGenerationMatch: <generation it was read at>`. Uploads are single requests
 * (`resumable: false`): packs are capped well below the size where resumable uploads
 * pay off, and a failed request is simply retried whole.
 */
import {createReadStream, createWriteStream} from 'node:fs'
import {pipeline} from 'node:stream/promises'
import {Storage, type Bucket} from '@google-cloud/storage'
import {DsvError} from '../../errors/index.js'
import {httpStatus, withRetries} from './retry.js'
import {countingStream, type RefValue, type TransferProgress, type Transport} from './transport.js'

export class GcsTransport implements Transport {
  private readonly bucket: Bucket

  constructor(readonly bucketName: string, readonly prefix: string, readonly url: string) {
    // our own retries (retry.ts) know which steps are safe to repeat
    const storage = new Storage({retryOptions: {autoRetry: false}})
    this.bucket = storage.bucket(bucketName)
  }

  private key(name: string): string {
    return this.prefix ? `${this.prefix}/${name}` : name
  }

  private relative(key: string): string {
    return this.prefix ? key.slice(this.prefix.length + 1) : key
  }

  /** Turns a client error into a message that says what to do; never includes credentials. */
  private fail(what: string): (error: unknown) => never {
    return (error) => {
      if (error instanceof DsvError) throw error
      const status = httpStatus(error)
      const message = String((error as Error).message ?? error).split('\n')[0].slice(0, 300)
      if (status === 401 || status === 403 || /default credentials|could not load the credentials|invalid_grant|unauthorized/i.test(message))
        throw new DsvError('E_REMOTE_AUTH', `access denied ${what} ${this.url}: ${message}`, {url: this.url, status},
          'check Application Default Credentials (`gcloud auth application-default login`, or GOOGLE_APPLICATION_CREDENTIALS) and your role on the bucket')
      if (status === 404 && isMissingBucket(error))
        throw new DsvError('E_REMOTE_NOT_FOUND', `bucket ${this.bucketName} does not exist (${this.url})`, {url: this.url, status}, 'check the remote URL (`dsv remote -v`)')
      throw new DsvError('E_REMOTE_UNAVAILABLE', `${what} ${this.url} failed: ${message}`, {url: this.url, status: status ?? null},
        'the remote could not be reached after several retries; run the command again (nothing already sent is sent twice)')
    }
  }

  async list(prefix: string): Promise<string[]> {
    return withRetries(async () => {
      const [files] = await this.bucket.getFiles({prefix: this.key(prefix), autoPaginate: true})
      return files.map((f) => this.relative(f.name)).sort()
    }, this.fail('listing'))
  }

  async read(name: string): Promise<Buffer | null> {
    return withRetries(async () => {
      try {
        const [data] = await this.bucket.file(this.key(name)).download({validation: false})
        return data
      } catch (error) {
        if (httpStatus(error) === 404 && !isMissingBucket(error)) return null
        throw error
      }
    }, this.fail(`reading ${name} from`))
  }

  async download(name: string, dest: string, onBytes?: TransferProgress): Promise<boolean> {
    return withRetries(async () => {
      let counted = 0
      const counter = countingStream((n) => {
        counted += n
        onBytes?.(n)
      })
      try {
        // 'w', not 'wx': a retry starts the file over
        await pipeline(this.bucket.file(this.key(name)).createReadStream({validation: false}), counter, createWriteStream(dest, {flags: 'w'}))
        return true
      } catch (error) {
        onBytes?.(-counted)
        if (httpStatus(error) === 404 && !isMissingBucket(error)) return false
        throw error
      }
    }, this.fail(`downloading ${name} from`))
  }

  async exists(name: string): Promise<boolean> {
    return withRetries(async () => (await this.bucket.file(this.key(name)).exists())[0], this.fail(`reading ${name} in`))
  }

  async create(name: string, source: Buffer | {path: string; size: number}, onBytes?: TransferProgress): Promise<'created' | 'exists'> {
    return withRetries(async (attempt) => {
      // an earlier attempt may have landed before its connection broke
      if (attempt > 1 && (await this.bucket.file(this.key(name)).exists())[0]) return 'exists'
      const file = this.bucket.file(this.key(name))
      const options = {resumable: false, validation: false as const, preconditionOpts: {ifGenerationMatch: 0}, contentType: 'application/octet-stream'}
      let counted = 0
      try {
        if (Buffer.isBuffer(source)) {
          await file.save(source, options)
          onBytes?.(source.length)
        } else {
          const counter = countingStream((n) => {
            counted += n
            onBytes?.(n)
          })
          await pipeline(createReadStream(source.path), counter, file.createWriteStream(options))
        }
        return 'created'
      } catch (error) {
        onBytes?.(-counted)
        if (httpStatus(error) === 412) return 'exists'
        throw error
      }
    }, this.fail(`writing ${name} to`))
  }

  async listRefs(): Promise<Map<string, RefValue>> {
    const out = new Map<string, RefValue>()
    for (const name of await this.list('refs/')) {
      const v = await this.readRef(name)
      if (v) out.set(name, v)
    }
    return out
  }

  async readRef(name: string): Promise<RefValue | null> {
    return withRetries(async () => {
      const file = this.bucket.file(this.key(name))
      // the value at one generation: if the ref moves between the two requests, read again
      for (let i = 0; i < 5; i++) {
        let generation: string
        try {
          const [meta] = await file.getMetadata()
          generation = String(meta.generation)
        } catch (error) {
          if (httpStatus(error) === 404) return null
          throw error
        }
        try {
          const [data] = await this.bucket.file(this.key(name), {generation: Number(generation)}).download({validation: false})
          return {value: data.toString('utf8').trim(), version: generation}
        } catch (error) {
          if (httpStatus(error) !== 404) throw error
        }
      }
      throw new DsvError('E_REMOTE_UNAVAILABLE', `${name} in ${this.url} keeps changing while being read`, {url: this.url})
    }, this.fail(`reading ${name} in`))
  }

  async compareAndSwapRef(name: string, expected: RefValue | null, value: string): Promise<boolean> {
    return withRetries(async (attempt) => {
      try {
        await this.bucket.file(this.key(name)).save(Buffer.from(`${value}\n`), {
          resumable: false,
          validation: false,
          contentType: 'text/plain',
          preconditionOpts: {ifGenerationMatch: expected ? Number(expected.version) : 0},
        })
        return true
      } catch (error) {
        if (httpStatus(error) !== 412) throw error
        // a retried request whose first attempt landed: the ref already holds our value
        if (attempt > 1) return (await this.readRef(name))?.value === value
        return false
      }
    }, this.fail(`updating ${name} in`))
  }
}

/** GCS says "The specified bucket does not exist." for a missing bucket, "No such object: ..." for a missing object. */
function isMissingBucket(error: unknown): boolean {
  return /bucket does not exist/i.test(String((error as Error).message ?? ''))
}
