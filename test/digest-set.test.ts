/**
 * DigestSet (quality's duplicate-content set) against a JS Set on the same digests:
 * growth from a tiny table, repeats, and digests that differ in one byte only.
 */
import {strict as assert} from 'node:assert'
import {createHash} from 'node:crypto'
import {DigestSet} from '../src/core/quality/digest-set.js'

const sha1 = (s: string) => createHash('sha1').update(s).digest('latin1')

describe('DigestSet', () => {
  it('answers like a Set of the digest strings, through many growths', () => {
    const set = new DigestSet(2)
    const reference = new Set<string>()
    for (let i = 0; i < 200_000; i++) {
      const d = sha1(String(i % 150_000)) // the last 50,000 repeat earlier ones
      assert.equal(set.add(d), !reference.has(d), `digest of ${i % 150_000}`)
      reference.add(d)
    }
    assert.equal(set.size, reference.size)
  })

  it('tells apart digests that share every byte but one, wherever that byte is', () => {
    const set = new DigestSet()
    const base = sha1('base')
    assert.equal(set.add(base), true)
    for (let at = 0; at < 20; at++) {
      const other = base.slice(0, at) + String.fromCharCode(base.charCodeAt(at) ^ 0x80) + base.slice(at + 1)
      assert.equal(set.add(other), true, `byte ${at} differs`)
      assert.equal(set.add(other), false)
    }
    assert.equal(set.add(base), false)
    assert.equal(set.size, 21)
  })

  it('refuses a value that is not a 20-byte digest', () => {
    assert.throws(() => new DigestSet().add('short'), /20 bytes/)
  })
})
