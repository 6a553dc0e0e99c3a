/**
 * Retries with exponential backoff and jitter for transient remote failures (429, 5xx,
 * timeouts, connections reset), as Google's client libraries recommend; anything else
 * fails at once. Only idempotent steps are retried: every dsv remote write is
 * create-only or compare-and-swap, so repeating one can never apply it twice.
 */
import {DsvError} from '../../errors/index.js'

export interface RetryPolicy {
  attempts: number
  firstDelayMs: number
  maxDelayMs: number
}

export const DEFAULT_RETRY: RetryPolicy = {
  attempts: Number(process.env.DSV_REMOTE_RETRIES ?? 6),
  firstDelayMs: Number(process.env.DSV_REMOTE_RETRY_DELAY_MS ?? 250),
  maxDelayMs: 8000,
}

const TRANSIENT_CODES = new Set(['ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ECONNREFUSED', 'EAI_AGAIN', 'ENOTFOUND', 'ECONNABORTED', 'UND_ERR_SOCKET', 'ERR_STREAM_PREMATURE_CLOSE'])

/** HTTP status of a client error, when it has one. */
export function httpStatus(error: unknown): number | undefined {
  const e = error as {code?: unknown; status?: unknown; response?: {status?: unknown}}
  for (const v of [e.code, e.status, e.response?.status]) if (typeof v === 'number') return v
  return undefined
}

export function isTransient(error: unknown): boolean {
  if (error instanceof DsvError) return false
  const status = httpStatus(error)
  if (status !== undefined) return status === 408 || status === 429 || status >= 500
  const e = error as {code?: unknown; message?: unknown; cause?: unknown}
  if (typeof e.code === 'string' && TRANSIENT_CODES.has(e.code)) return true
  if (typeof e.message === 'string' && /socket hang up|network|timed? ?out|reset/i.test(e.message)) return true
  return e.cause !== undefined && e.cause !== error && isTransient(e.cause)
}

/** Runs `fn`, retrying transient failures; `attempt` counts from 1. */
export async function withRetries<T>(fn: (attempt: number) => Promise<T>, onGiveUp: (error: unknown) => never, policy = DEFAULT_RETRY): Promise<T> {
  let delay = policy.firstDelayMs
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(attempt)
    } catch (error) {
      if (!isTransient(error) || attempt >= policy.attempts) onGiveUp(error)
      await new Promise((resolve) => setTimeout(resolve, delay / 2 + Math.random() * delay))
      delay = Math.min(delay * 2, policy.maxDelayMs)
    }
  }
}
