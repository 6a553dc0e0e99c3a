/**
 * Progress for long work: a live ink line on an interactive terminal (stderr), nothing
 * at all when output is piped or in CI, so scripts never see cursor codes. ink is loaded
 * only when a live line is actually shown: it costs half a second to import.
 */
import type {Progress} from '../core/repository.js'
import type {LiveView} from './progress-view.js'

export interface ProgressReporter {
  onProgress: (p: Progress) => void
  done: () => void
}

export function progressReporter(enabled: boolean): ProgressReporter {
  const live = enabled && process.stderr.isTTY === true && !process.env.CI
  if (!live) return {onProgress: () => {}, done: () => {}}
  // rates and time left are per phase: counting objects says nothing about sending bytes
  let phase = ''
  let started = Date.now()
  let last = 0
  let view: LiveView | null = null
  let closed = false
  let latest: Progress | null = null
  // the first update arrives after 300 ms at the earliest: short commands never load ink
  const loading = new Promise<void>((resolve) => setTimeout(resolve, 300).unref()).then(async () => {
    if (closed) return
    view = (await import('./progress-view.js')).openLiveView()
    if (latest && !closed) view.update(latest, (Date.now() - started) / 1000)
  })
  return {
    onProgress(p) {
      latest = p
      const now = Date.now()
      if (p.phase !== phase) {
        phase = p.phase
        started = now
      }
      if (!view || (now - last < 100 && p.loaded !== p.total)) return
      last = now
      view.update(p, (now - started) / 1000)
    },
    done() {
      closed = true
      view?.close()
      view = null
      void loading
    },
  }
}
