/**
 * The live progress line as ink renders it (the real component, rendered to a string):
 * what a user reads while a long push, fetch or commit runs. The end-to-end test in
 * cli-remote.test.ts checks that the line appears on a real terminal; how fast the
 * machine is decides which phases it catches there, so the rate and the time left are
 * checked here, where the elapsed time is given.
 */
import assert from 'node:assert/strict'
import React from 'react'
import {renderToString} from 'ink'
import {ProgressLine} from '../src/ui/progress-view.js'
import type {Progress} from '../src/core/repository.js'

function shown(progress: Progress, elapsed: number): string {
  return renderToString(React.createElement(ProgressLine, {progress, elapsed}), {columns: 120}).replace(/\x1b\[[0-9;]*m/g, '')
}

const MiB = 1024 * 1024

describe('live progress line', () => {
  it('shows bytes sent of the total, the percentage, the rate and the time left', () => {
    assert.equal(shown({phase: 'sending', loaded: 3 * MiB, total: 12 * MiB, unit: 'bytes'}, 2), 'sending 3.0 MiB/12.0 MiB (25%) 1.5 MiB/s ~6s left')
  })

  it('counts objects without a byte rate, with the time left', () => {
    assert.equal(shown({phase: 'checking objects', loaded: 500, total: 2000}, 1), 'checking objects 500/2000 (25%) ~3s left')
    assert.equal(shown({phase: 'hashing', loaded: 3, total: 4, unit: 'files'}, 3), 'hashing 3/4 files (75%) ~1s left')
  })

  it('says nothing of rate or time in the first half second, and only the count when the total is unknown', () => {
    assert.equal(shown({phase: 'sending', loaded: 1 * MiB, total: 12 * MiB, unit: 'bytes'}, 0.4), 'sending 1.0 MiB/12.0 MiB (8%)')
    assert.equal(shown({phase: 'counting objects', loaded: 1234}, 5), 'counting objects 1234')
    assert.equal(shown({phase: 'sending', loaded: 5 * MiB, unit: 'bytes'}, 2), 'sending 5.0 MiB 2.5 MiB/s')
  })

  it('shows 100% and ~0s left at the end, and an empty total as done', () => {
    assert.equal(shown({phase: 'sending', loaded: 12 * MiB, total: 12 * MiB, unit: 'bytes'}, 4), 'sending 12.0 MiB/12.0 MiB (100%) 3.0 MiB/s ~0s left')
    assert.equal(shown({phase: 'checking objects', loaded: 0, total: 0}, 1), 'checking objects 0/0 (100%)')
  })
})
