/**
 * Writing a table file from ranges of the file it replaces (checkout between neighbouring
 * versions): the ranges land in order behind the header, and a file that changed since
 * the ranges were planned is left as it is (E_DIRTY_WORKTREE), with no temp file behind.
 */
import {strict as assert} from 'node:assert'
import {closeSync, fstatSync, mkdtempSync, readdirSync, readFileSync, readSync, rmSync, statSync, utimesSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {fileIdentity, tableParts, writeTableFile, type TableWriteJob} from '../src/core/table-write.js'
import {PackReader} from '../src/core/pack.js'
import {DsvError} from '../src/errors/index.js'

describe('writeTableFile from ranges of the file it replaces', () => {
  let dir: string
  let file: string
  const original = 'line one\nline two\nline three\n'
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'dsv-tw-'))
    file = join(dir, 'data.csv')
    writeFileSync(file, original)
  })
  afterEach(() => rmSync(dir, {recursive: true, force: true}))
  const reader = () => new PackReader(dir)
  const job = (): TableWriteJob => ({
    abs: file, header: 'h\n', size: 0, current: fileIdentity(statSync(file, {bigint: true})),
    ...tableParts([{from: 18, length: 11}, {from: 0, length: 9}]), // "line three\n", then "line one\n"
  })

  it('copies the ranges in order behind the header and reports the bytes copied', () => {
    assert.equal(writeTableFile(job(), reader()), 20)
    assert.equal(readFileSync(file, 'utf8'), 'h\nline three\nline one\n')
  })

  it('refuses a file that changed since it was planned, and leaves it and its folder as they were', () => {
    const planned = job()
    const later = new Date(Date.now() + 5000)
    utimesSync(file, later, later) // same bytes, but no longer the file that was planned
    assert.throws(() => writeTableFile(planned, reader()), (e: unknown) => e instanceof DsvError && e.code === 'E_DIRTY_WORKTREE')
    assert.equal(readFileSync(file, 'utf8'), original)
    assert.deepEqual(readdirSync(dir), ['data.csv'])
  })

  it('hands the replaced file over still open, so that freeing it can happen off the writing thread', () => {
    const handed: number[] = []
    writeTableFile(job(), reader(), (fd) => handed.push(fd))
    assert.equal(handed.length, 1)
    const old = Buffer.alloc(original.length)
    readSync(handed[0], old, 0, old.length, 0)
    assert.equal(old.toString(), original) // the old file, no longer at its path
    assert.equal(fstatSync(handed[0]).nlink, 0)
    closeSync(handed[0])
    assert.equal(readFileSync(file, 'utf8'), 'h\nline three\nline one\n')
  })

  it('holds the replaced file open also when nothing is copied from it (the rename then frees nothing)', () => {
    const handed: number[] = []
    const whole: TableWriteJob = {abs: file, header: 'h\n', size: 0, ...tableParts([])}
    writeTableFile(whole, reader(), (fd) => handed.push(fd))
    assert.equal(handed.length, 1)
    assert.equal(fstatSync(handed[0]).size, original.length)
    closeSync(handed[0])
    assert.equal(readFileSync(file, 'utf8'), 'h\n')
  })

  it('closes the file itself, handing nothing over, when the write fails', () => {
    const handed: number[] = []
    const planned = job()
    const later = new Date(Date.now() + 5000)
    utimesSync(file, later, later)
    assert.throws(() => writeTableFile(planned, reader(), (fd) => handed.push(fd)), (e: unknown) => e instanceof DsvError)
    assert.deepEqual(handed, [])
    assert.equal(readFileSync(file, 'utf8'), original)
  })
})
