/** The live progress line (an ink view: props in, nothing else). */
import React from 'react'
import {render, Text} from 'ink'
import type {Progress} from '../core/repository.js'
import {formatBytes} from './format.js'

function formatCount(p: Progress): string {
  const show = (n: number) => (p.unit === 'bytes' ? formatBytes(n) : String(n))
  if (p.total === undefined) return show(p.loaded)
  const pct = p.total > 0 ? Math.floor((100 * p.loaded) / p.total) : 100
  return `${show(p.loaded)}/${show(p.total)}${p.unit && p.unit !== 'bytes' ? ` ${p.unit}` : ''} (${pct}%)`
}

export function ProgressLine({progress, elapsed}: {progress: Progress; elapsed: number}): React.JSX.Element {
  const rate = elapsed > 0.5 ? progress.loaded / elapsed : 0
  const left = rate > 0 && progress.total !== undefined ? Math.max(0, (progress.total - progress.loaded) / rate) : undefined
  return (
    <Text>
      <Text color="cyan">{progress.phase}</Text> {formatCount(progress)}
      {rate > 0 && progress.unit === 'bytes' ? <Text dimColor> {formatBytes(rate)}/s</Text> : null}
      {left !== undefined ? <Text dimColor> ~{Math.ceil(left)}s left</Text> : null}
    </Text>
  )
}

export interface LiveView {
  update(p: Progress, elapsed: number): void
  close(): void
}

export function openLiveView(): LiveView {
  let instance: ReturnType<typeof render> | null = null
  // a terminal that reports no size (some ptys) would make ink wrap after every character
  // and clear the whole screen on every frame
  if (!process.stderr.columns) Object.defineProperty(process.stderr, 'columns', {value: 80, configurable: true})
  if (!process.stderr.rows) Object.defineProperty(process.stderr, 'rows', {value: 24, configurable: true})
  return {
    update(p, elapsed) {
      const node = <ProgressLine progress={p} elapsed={elapsed} />
      if (instance) instance.rerender(node)
      else instance = render(node, {stdout: process.stderr as unknown as NodeJS.WriteStream, patchConsole: false})
    },
    close() {
      instance?.clear()
      instance?.unmount()
      instance = null
    },
  }
}
