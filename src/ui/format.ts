/** Plain-text formatting shared by commands. */
import type {ChangeCounts} from '../core/model.js'

export function formatCounts(c: ChangeCounts): string {
  return `+${c.added} -${c.removed} ~${c.modified}`
}

export function shortId(oid: string): string {
  return oid.slice(0, 12)
}

/** 1536 -> "1.5 KiB": sizes for humans. */
export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB']
  let v = n
  let u = 0
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024
    u++
  }
  return u === 0 ? `${n} B` : `${v.toFixed(1)} ${units[u]}`
}
