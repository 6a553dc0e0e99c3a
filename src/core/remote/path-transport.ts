/**
 * A remote in a directory (a shared disk, or a local folder). Lock-free, so a process
 * killed mid-push never leaves a lock behind:
 * - immutable files are written to a temp name, fsynced, then hard-linked to their name:
 *   link() fails if the name exists, so creation is atomic and create-only;
 * - a ref is a folder `<ref>~/` of numbered versions; compare-and-swap from version N
 *   creates version N+1 with the same link() trick, so of two writers exactly one wins.
 *   Readers take the highest number. Old versions are pruned, except version 1, which
 *   stays so that "create only if absent" keeps failing once the ref exists.
 */
import {closeSync, createReadStream, createWriteStream, fsyncSync, linkSync, mkdirSync, openSync, readdirSync, readFileSync, statSync, unlinkSync, writeSync} from 'node:fs'
import {pipeline} from 'node:stream/promises'
import {dirname, join} from 'node:path'
import {randomBytes} from 'node:crypto'
import {fsyncDir} from '../atomic-file.js'
import {DsvError} from '../../errors/index.js'
import {countingStream, type RefValue, type TransferProgress, type Transport} from './transport.js'

const REF_SUFFIX = '~' // never part of a valid ref name (check-ref-format forbids "~")
const VERSION = /^\d{16}$/

export class PathTransport implements Transport {
  constructor(readonly root: string, readonly url: string) {}

  private abs(name: string): string {
    return join(this.root, ...name.split('/'))
  }

  private fail(error: unknown, what: string): never {
    const code = (error as NodeJS.ErrnoException).code
    if (code === 'EACCES' || code === 'EPERM') throw new DsvError('E_REMOTE_AUTH', `permission denied ${what} in ${this.url}`, {url: this.url}, 'check the permissions of the remote directory')
    if (code === 'ENOSPC' || code === 'EDQUOT') throw new DsvError('E_REMOTE_UNAVAILABLE', `no space left ${what} in ${this.url}`, {url: this.url})
    throw error
  }

  async list(prefix: string): Promise<string[]> {
    const dir = this.abs(prefix.replace(/\/$/, ''))
    let names: string[]
    try {
      names = readdirSync(dir)
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return []
      this.fail(error, `listing ${prefix}`)
    }
    const base = prefix.endsWith('/') || prefix === '' ? prefix : `${prefix}/`
    return names.filter((n) => !n.includes('.tmp-')).sort().map((n) => base + n)
  }

  async read(name: string): Promise<Buffer | null> {
    try {
      return readFileSync(this.abs(name))
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null
      this.fail(error, `reading ${name}`)
    }
  }

  async download(name: string, dest: string, onBytes?: TransferProgress): Promise<boolean> {
    const src = this.abs(name)
    if (!(await this.exists(name))) return false
    try {
      await pipeline(createReadStream(src), countingStream(onBytes), createWriteStream(dest, {flags: 'wx'}))
    } catch (error) {
      this.fail(error, `reading ${name}`)
    }
    return true
  }

  async exists(name: string): Promise<boolean> {
    try {
      statSync(this.abs(name))
      return true
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false
      this.fail(error, `reading ${name}`)
    }
  }

  async create(name: string, source: Buffer | {path: string; size: number}, onBytes?: TransferProgress): Promise<'created' | 'exists'> {
    const target = this.abs(name)
    if (await this.exists(name)) return 'exists'
    try {
      mkdirSync(dirname(target), {recursive: true})
      const tmp = `${target}.tmp-${randomBytes(6).toString('hex')}`
      try {
        if (Buffer.isBuffer(source)) {
          writeDurably(tmp, source)
          onBytes?.(source.length)
        } else {
          await pipeline(createReadStream(source.path), countingStream(onBytes), createWriteStream(tmp, {flags: 'wx'}))
          const fd = openSync(tmp, 'r')
          fsyncSync(fd)
          closeSync(fd)
        }
        return linkOnce(tmp, target) ? 'created' : 'exists'
      } finally {
        try {
          unlinkSync(tmp)
        } catch {}
      }
    } catch (error) {
      this.fail(error, `writing ${name}`)
    }
  }

  async listRefs(): Promise<Map<string, RefValue>> {
    const out = new Map<string, RefValue>()
    const walk = async (dir: string, rel: string) => {
      let names: string[]
      try {
        names = readdirSync(dir)
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return
        this.fail(error, 'listing refs')
      }
      for (const n of names.sort()) {
        if (n.endsWith(REF_SUFFIX)) {
          const ref = `${rel}/${n.slice(0, -REF_SUFFIX.length)}`
          const v = await this.readRef(ref)
          if (v) out.set(ref, v)
        } else if (!n.includes('.tmp-')) await walk(join(dir, n), `${rel}/${n}`)
      }
    }
    await walk(this.abs('refs'), 'refs')
    return out
  }

  async readRef(name: string): Promise<RefValue | null> {
    const dir = `${this.abs(name)}${REF_SUFFIX}`
    // a version pruned between listing and reading: list again
    for (let attempt = 0; attempt < 5; attempt++) {
      let versions: string[]
      try {
        versions = readdirSync(dir).filter((v) => VERSION.test(v)).sort()
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null
        this.fail(error, `reading ${name}`)
      }
      const latest = versions.at(-1)
      if (!latest) return null
      try {
        return {value: readFileSync(join(dir, latest), 'utf8').trim(), version: String(Number(latest))}
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') this.fail(error, `reading ${name}`)
      }
    }
    throw new DsvError('E_REMOTE_UNAVAILABLE', `${name} in ${this.url} keeps changing while being read`, {url: this.url})
  }

  async compareAndSwapRef(name: string, expected: RefValue | null, value: string): Promise<boolean> {
    const dir = `${this.abs(name)}${REF_SUFFIX}`
    const next = expected ? Number(expected.version) + 1 : 1
    try {
      mkdirSync(dir, {recursive: true})
      const tmp = join(dir, `.tmp-${randomBytes(6).toString('hex')}`)
      try {
        writeDurably(tmp, Buffer.from(`${value}\n`))
        if (!linkOnce(tmp, join(dir, versionName(next)))) return false
      } finally {
        try {
          unlinkSync(tmp)
        } catch {}
      }
      // keep version 1 (creation marker) and the two latest; readers retry if one vanishes
      for (const v of readdirSync(dir).filter((n) => VERSION.test(n))) {
        const n = Number(v)
        if (n !== 1 && n < next - 2) unlinkSync(join(dir, v))
      }
      return true
    } catch (error) {
      this.fail(error, `updating ${name}`)
    }
  }
}

function versionName(n: number): string {
  return String(n).padStart(16, '0')
}

function writeDurably(path: string, data: Buffer): void {
  const fd = openSync(path, 'wx')
  try {
    writeSync(fd, data)
    fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
}

/** Hard-links `tmp` to `target` unless `target` exists; the directory entry is made durable. */
function linkOnce(tmp: string, target: string): boolean {
  try {
    linkSync(tmp, target)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false
    throw error
  }
  fsyncDir(dirname(target))
  return true
}
