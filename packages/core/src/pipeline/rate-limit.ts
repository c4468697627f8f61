import { AgoraError } from '../errors.ts'
import type { Gate } from './invocation.ts'

/** Decides whether a caller may make another request now. */
export interface RateLimiter {
  take(key: string, cost?: number): { allowed: boolean; retryAfterMs: number; remaining: number }
}

export interface TokenBucketOptions {
  /** Requests allowed in a burst. */
  capacity: number
  /** Requests regained per second. */
  refillPerSecond: number
  /** Most distinct callers tracked; the least recently seen are forgotten first. Default 10 000. */
  maxKeys?: number | undefined
  /** Clock, injectable for tests. */
  now?: (() => number) | undefined
}

/**
 * An in-memory token bucket per caller.
 *
 * @example
 * ```ts
 * const limiter = tokenBucket({ capacity: 20, refillPerSecond: 5 })
 * limiter.take('key:alice') // { allowed: true, remaining: 19, retryAfterMs: 0 }
 * ```
 */
export function tokenBucket(options: TokenBucketOptions): RateLimiter {
  const { capacity, refillPerSecond } = options
  if (!(capacity > 0) || !(refillPerSecond > 0)) throw new AgoraError('CONFIG', 'rate limit capacity and refill must be > 0')
  const maxKeys = options.maxKeys ?? 10_000
  const now = options.now ?? Date.now
  const buckets = new Map<string, { tokens: number; at: number; seen: number }>()
  return {
    take(key, cost = 1) {
      const t = now()
      let b = buckets.get(key)
      if (b) {
        b.tokens = Math.min(capacity, b.tokens + ((t - b.at) / 1000) * refillPerSecond)
        // Re-insert (Map order = recency) only once a second: exact LRU order is not worth a
        // delete+set on every request.
        if (t - b.seen >= 1000) {
          b.seen = t
          buckets.delete(key)
          buckets.set(key, b)
        }
        b.at = t
      } else {
        b = { tokens: capacity, at: t, seen: t }
        if (buckets.size >= maxKeys) {
          const oldest = buckets.keys().next().value
          if (oldest !== undefined) buckets.delete(oldest)
        }
        buckets.set(key, b)
      }
      if (b.tokens >= cost) {
        b.tokens -= cost
        return { allowed: true, retryAfterMs: 0, remaining: Math.floor(b.tokens) }
      }
      const retryAfterMs = Math.ceil(((cost - b.tokens) / refillPerSecond) * 1000)
      return { allowed: false, retryAfterMs, remaining: 0 }
    },
  }
}

/** The rate-limit gate: one token per request, keyed by caller id. */
export function rateLimitGate(limiter: RateLimiter): Gate {
  return {
    name: 'rate-limit',
    handle(inv, next) {
      const r = limiter.take(inv.caller.id)
      if (!r.allowed) {
        const seconds = Math.max(1, Math.ceil(r.retryAfterMs / 1000))
        throw new AgoraError('RATE_LIMITED', `Rate limit exceeded for ${inv.caller.id}; retry after ${seconds}s`, {
          data: { retryAfterMs: r.retryAfterMs },
        })
      }
      return next()
    },
  }
}
