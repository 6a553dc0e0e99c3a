/**
 * Deterministic train/validation/test splits. An example's place is a function of the
 * seed and its identity (its key, its group with --group-by, or its content when the
 * file is keyless), never of its position or of the other examples: re-exporting gives
 * the same files, and an example keeps its split when the dataset grows.
 */
import {createHash} from 'node:crypto'
import {DsvError} from '../../errors/index.js'

export interface SplitSpec {
  name: string
  ratio: number
}

/** `train=0.8,val=0.1,test=0.1` → the splits in order; ratios must be positive and sum to 1. */
export function parseSplits(text: string): SplitSpec[] {
  const out: SplitSpec[] = []
  for (const part of text.split(',').map((s) => s.trim()).filter(Boolean)) {
    const m = /^([A-Za-z][\w-]*)=(\d*\.?\d+)$/.exec(part)
    if (!m) throw new DsvError('E_USAGE', `--split: '${part}' is not NAME=RATIO`, {split: text}, 'e.g. --split train=0.8,val=0.1,test=0.1')
    const ratio = Number(m[2])
    if (!(ratio > 0)) throw new DsvError('E_USAGE', `--split: the ratio of ${m[1]} must be above 0`, {split: text})
    if (out.some((s) => s.name === m[1])) throw new DsvError('E_USAGE', `--split: ${m[1]} is named twice`, {split: text})
    out.push({name: m[1], ratio})
  }
  if (out.length === 0) throw new DsvError('E_USAGE', '--split: no split given', {split: text}, 'e.g. --split train=0.8,val=0.1,test=0.1')
  const sum = out.reduce((s, x) => s + x.ratio, 0)
  if (Math.abs(sum - 1) > 1e-6) throw new DsvError('E_USAGE', `--split: the ratios add up to ${Number(sum.toFixed(6))}, not 1`, {split: text})
  return out
}

/**
 * A number in [0, 1) drawn from SHA-256(seed, identity): uniform, and the same on every
 * machine and every run.
 */
export function unitHash(seed: string, identity: string): number {
  const d = createHash('sha256').update(`${seed}\0${identity}`).digest()
  return (d.readUInt32BE(0) * 2 ** 21 + (d.readUInt32BE(4) >>> 11)) / 2 ** 53
}

/** The split a position in [0, 1) falls into, by the cumulative ratios. */
export function splitAt(splits: SplitSpec[], u: number): number {
  let edge = 0
  for (let i = 0; i < splits.length; i++) {
    edge += splits[i].ratio
    if (u < edge) return i
  }
  return splits.length - 1
}

/**
 * Stratified assignment inside one class: its examples, ordered by their hash, fill the
 * splits in proportion, so every class keeps the ratios (to one example). Deterministic,
 * but an example can move when its class grows; without --stratify-by it never does.
 */
export function stratify(splits: SplitSpec[], hashes: number[]): number[] {
  const order = hashes.map((u, i) => [u, i] as const).sort((a, b) => a[0] - b[0] || a[1] - b[1])
  const out = new Array<number>(hashes.length)
  order.forEach(([, i], rank) => (out[i] = splitAt(splits, (rank + 0.5) / hashes.length)))
  return out
}
