/**
 * How AtomicFileWriter puts a working-directory file in place: the new file appears whole,
 * an old file at the path is replaced (moved aside, then unlinked: never written through),
 * a symlink is replaced rather than followed, a folder is refused, and no temp file stays.
 */
import {strict as assert} from 'node:assert'
import {closeSync, lstatSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, readSync, rmSync, statSync, symlinkSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {AtomicFileWriter} from '../src/core/atomic-file.js'

describe('AtomicFileWriter', () => {
  let dir: string
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'dsv-af-'))
  })
  afterEach(() => rmSync(dir, {recursive: true, force: true}))

  const write = (path: string, text: string) => {
    const out = new AtomicFileWriter(path)
    try {
      out.write(Buffer.from(text))
      out.commit()
    } catch (error) {
      out.abort()
      throw error
    }
  }

  it('creates a file that was not there, and nothing else', () => {
    const file = join(dir, 'new.jsonl')
    write(file, '{"id":1}\n')
    assert.equal(readFileSync(file, 'utf8'), '{"id":1}\n')
    assert.deepEqual(readdirSync(dir), ['new.jsonl'])
  })

  it('replaces an existing file with a new one, leaving the old bytes untouched for whoever still has it open', () => {
    const file = join(dir, 'data.jsonl')
    writeFileSync(file, 'old content\n')
    const oldIno = statSync(file).ino
    const reader = openSync(file, 'r') // a process reading the dataset during a checkout
    try {
      write(file, 'new content, longer than the old\n')
      assert.equal(readFileSync(file, 'utf8'), 'new content, longer than the old\n')
      assert.notEqual(statSync(file).ino, oldIno)
      const seen = Buffer.alloc(64)
      assert.equal(seen.subarray(0, readSync(reader, seen, 0, 64, 0)).toString(), 'old content\n')
    } finally {
      closeSync(reader)
    }
    assert.deepEqual(readdirSync(dir), ['data.jsonl']) // the old file moved aside is gone too
  })

  it('replaces a symlink at the path itself, never the file it points at', () => {
    const outside = join(dir, 'outside.txt')
    writeFileSync(outside, 'keep me\n')
    const link = join(dir, 'link.txt')
    symlinkSync(outside, link)
    write(link, 'written\n')
    assert.ok(lstatSync(link).isFile())
    assert.equal(readFileSync(link, 'utf8'), 'written\n')
    assert.equal(readFileSync(outside, 'utf8'), 'keep me\n')
    assert.deepEqual(readdirSync(dir).sort(), ['link.txt', 'outside.txt'])
  })

  it('refuses to replace a folder, leaving the folder, its files and no temp file', () => {
    const folder = join(dir, 'clips')
    mkdirSync(folder)
    writeFileSync(join(folder, 'a.wav'), 'RIFF')
    assert.throws(() => write(folder, 'not a folder\n'), (e: NodeJS.ErrnoException) => e.code === 'EISDIR' || e.code === 'ENOTEMPTY' || e.code === 'EEXIST')
    assert.ok(statSync(folder).isDirectory())
    assert.equal(readFileSync(join(folder, 'a.wav'), 'utf8'), 'RIFF')
    assert.deepEqual(readdirSync(dir), ['clips'])
  })
})
