/** Plain-text formatting shared by commands. */
import type {ChangeCounts} from '../core/model.js'

export function formatCounts(c: ChangeCounts): string {
  return `+${c.added} -${c.removed} ~${c.modified}`
}

export function shortId(oid: string): string {
  return oid.slice(0, 12)
}
