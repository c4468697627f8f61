import type { RateLimiter } from '@agora/core'
import { tokenBucket } from '@agora/core'
import { AgoraError } from '@agora/core/errors'
import type { JSONRPCMessage, JSONRPCRequest } from '@modelcontextprotocol/server'
import { MAX_MESSAGE_BYTES } from './protocol.ts'

/** Resource limits of a libp2p MCP server (spec §6.3), all per remote peer. */
export interface Libp2pLimits {
  /** Streams a peer may hold open at once, over all its connections; more are reset. Default 16. */
  maxStreamsPerPeer?: number | undefined
  /** Largest message accepted; a larger frame is answered `-32600` and its stream reset. Default 16 MiB. */
  maxMessageBytes?: number | undefined
  /** Requests per second a peer regains (token bucket over all its streams). `Infinity` turns it off. Default 100. */
  requestsPerSecond?: number | undefined
  /** Requests a peer may make in a burst. Default twice `requestsPerSecond`. */
  burst?: number | undefined
  /** Close a stream after this long without traffic and with no request in flight (ms). Default 5 minutes. */
  inactivityTimeoutMs?: number | undefined
  /** Only these PeerIds are served (when given). */
  allow?: string[] | undefined
  /** These PeerIds are never served. */
  block?: string[] | undefined
}

export const DEFAULT_LIMITS = Object.freeze({
  maxStreamsPerPeer: 16,
  maxMessageBytes: MAX_MESSAGE_BYTES,
  requestsPerSecond: 100,
  inactivityTimeoutMs: 5 * 60_000,
})

/**
 * Enforces {@link Libp2pLimits} for one server: which peers may open streams, how many, and how
 * fast they may send requests.
 *
 * @example
 * ```ts
 * const limits = new PeerLimits({ maxStreamsPerPeer: 4, block: ['12D3KooW…'] })
 * const refusal = limits.admit(peerId) // 'blocked', 'not-allowed', 'too-many-streams' or undefined
 * ```
 */
export class PeerLimits {
  readonly maxStreamsPerPeer: number
  readonly maxMessageBytes: number
  readonly inactivityTimeoutMs: number
  readonly #allow: ReadonlySet<string> | undefined
  readonly #block: ReadonlySet<string>
  readonly #streams = new Map<string, number>()
  readonly #limiter: RateLimiter | undefined

  constructor(limits: Libp2pLimits = {}) {
    this.maxStreamsPerPeer = positive('maxStreamsPerPeer', limits.maxStreamsPerPeer ?? DEFAULT_LIMITS.maxStreamsPerPeer)
    this.maxMessageBytes = positive('maxMessageBytes', limits.maxMessageBytes ?? DEFAULT_LIMITS.maxMessageBytes)
    this.inactivityTimeoutMs = positive('inactivityTimeoutMs', limits.inactivityTimeoutMs ?? DEFAULT_LIMITS.inactivityTimeoutMs)
    this.#allow = limits.allow ? new Set(limits.allow) : undefined
    this.#block = new Set(limits.block ?? [])
    const rps = positive('requestsPerSecond', limits.requestsPerSecond ?? DEFAULT_LIMITS.requestsPerSecond)
    const burst = positive('burst', limits.burst ?? rps * 2)
    this.#limiter = Number.isFinite(rps) ? tokenBucket({ capacity: burst, refillPerSecond: rps }) : undefined
  }

  /** Takes a stream slot for `peer`, or says why it is refused. Pair every admission with {@link release}. */
  admit(peer: string): 'blocked' | 'not-allowed' | 'too-many-streams' | undefined {
    if (this.#block.has(peer)) return 'blocked'
    if (this.#allow && !this.#allow.has(peer)) return 'not-allowed'
    const open = this.#streams.get(peer) ?? 0
    if (open >= this.maxStreamsPerPeer) return 'too-many-streams'
    this.#streams.set(peer, open + 1)
    return undefined
  }

  /** Gives back a stream slot taken by {@link admit}. */
  release(peer: string): void {
    const open = (this.#streams.get(peer) ?? 1) - 1
    if (open <= 0) this.#streams.delete(peer)
    else this.#streams.set(peer, open)
  }

  /** Streams `peer` holds open now. */
  streamsOf(peer: string): number {
    return this.#streams.get(peer) ?? 0
  }

  /**
   * The rate-limit screen for a peer's requests: over the limit, the request is answered with
   * `-31429` and `data.retryAfterMs` instead of being served (the stream stays open).
   */
  screenFor(peer: string): ((request: JSONRPCRequest) => JSONRPCMessage | undefined) | undefined {
    const limiter = this.#limiter
    if (!limiter) return undefined
    return (request) => {
      const r = limiter.take(peer)
      if (r.allowed) return undefined
      const seconds = Math.max(1, Math.ceil(r.retryAfterMs / 1000))
      const err = new AgoraError('RATE_LIMITED', `Rate limit exceeded for peer:${peer}; retry after ${seconds}s`, {
        data: { retryAfterMs: r.retryAfterMs },
      })
      return { jsonrpc: '2.0', id: request.id, error: { code: err.wireCode, message: err.message, data: err.toWireData() } }
    }
  }
}

function positive(name: string, value: number): number {
  if (!(value > 0)) throw new AgoraError('CONFIG', `libp2p limit ${name} must be > 0, got ${value}`)
  return value
}
