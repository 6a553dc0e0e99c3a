/**
 * Progress for long work: a live ink line on an interactive terminal (stderr), nothing
 * at all when output is piped or in CI, so scripts never see cursor codes.
 */
import React from 'react'
import {render, Text} from 'ink'
import type {Progress} from '../core/repository.js'

function formatCount(p: Progress): string {
  if (p.total === undefined) return `${p.loaded}`
  const pct = p.total > 0 ? Math.floor((100 * p.loaded) / p.total) : 100
  return `${p.loaded}/${p.total} ${p.unit ?? ''} (${pct}%)`
}

export function ProgressLine({progress, elapsed}: {progress: Progress; elapsed: number}): React.JSX.Element {
  const rate = elapsed > 0.5 ? progress.loaded / elapsed : 0
  const left = rate > 0 && progress.total !== undefined ? Math.max(0, (progress.total - progress.loaded) / rate) : undefined
  return (
    <Text>
      <Text color="cyan">{progress.phase}</Text> {formatCount(progress)}
      {left !== undefined ? <Text dimColor> ~{Math.ceil(left)}s left</Text> : null}
    </Text>
  )
}

export interface ProgressReporter {
  onProgress: (p: Progress) => void
  done: () => void
}

export function progressReporter(enabled: boolean): ProgressReporter {
  const live = enabled && process.stderr.isTTY === true && !process.env.CI
  if (!live) return {onProgress: () => {}, done: () => {}}
  const started = Date.now()
  let last = 0
  let instance: ReturnType<typeof render> | null = null
  return {
    onProgress(p) {
      const now = Date.now()
      if (now - last < 100 && p.loaded !== p.total) return
      last = now
      const node = <ProgressLine progress={p} elapsed={(now - started) / 1000} />
      if (instance) instance.rerender(node)
      else instance = render(node, {stdout: process.stderr as unknown as NodeJS.WriteStream, patchConsole: false})
    },
    done() {
      instance?.clear()
      instance?.unmount()
      instance = null
    },
  }
}
