import type { Logger } from '@agora/core'
import { AgoraError } from '@agora/core/errors'
import type { AbstractSimplePool, SubCloser } from 'nostr-tools/abstract-pool'
import type { Event } from 'nostr-tools/pure'
import type { FilterBuilder, RelaySubscription, SubscribeOptions } from './pool.ts'
import { nowSeconds } from './wire.ts'

/** What a subscription needs from the pool that owns it. */
export interface SubscriptionOwner {
  readonly relays: readonly string[]
  readonly closed: boolean
  /** nostr-tools' pool the connections live in. */
  readonly pool: AbstractSimplePool
  readonly log: Logger
  /** Delay before the next attempt after `failures` failures in a row (ms). */
  backoff(failures: number): number
  /** The subscription closed. */
  forget(sub: Subscription): void
  /** A relay answered: publishing may use it again. */
  markUp(url: string): void
}

const reasonOf = (err: unknown) => (err instanceof Error ? err.message : String(err))

/** One relay's part of a subscription. */
interface Line {
  readonly url: string
  closer: SubCloser | undefined
  timer: ReturnType<typeof setTimeout> | undefined
  failures: number
  eosed: boolean
  /** Set while the relay is unreachable: when it was last known to be reachable (Unix seconds). */
  downSince: number | undefined
  everUp: boolean
}

/**
 * A live subscription on every relay of a pool, re-subscribing to each relay on its own after a
 * drop (with the owner's back-off), with filters rebuilt from when that relay was last reachable.
 */
export class Subscription implements RelaySubscription {
  readonly ready: Promise<void>
  readonly #owner: SubscriptionOwner
  readonly #build: FilterBuilder
  readonly #options: SubscribeOptions
  readonly #lines: Line[]
  readonly #ready = Promise.withResolvers<void>()
  readonly #seen = new Set<string>()
  readonly #startedAt = nowSeconds()
  #readySettled = false
  #closed = false

  constructor(owner: SubscriptionOwner, build: FilterBuilder, options: SubscribeOptions) {
    this.#owner = owner
    this.#build = build
    this.#options = options
    this.ready = this.#ready.promise
    // Callers may never await `ready` (a server that keeps retrying): avoid an unhandled rejection.
    this.ready.catch(() => {})
    this.#lines = owner.relays.map((url) => ({
      url,
      closer: undefined,
      timer: undefined,
      failures: 0,
      eosed: false,
      downSince: undefined,
      everUp: false,
    }))
    options.signal?.addEventListener('abort', () => this.close(), { once: true })
  }

  get connected(): readonly string[] {
    return this.#lines.filter((l) => l.eosed && l.downSince === undefined).map((l) => l.url)
  }

  start(): void {
    if (this.#options.signal?.aborted) {
      this.close()
      return
    }
    for (const line of this.#lines) this.#open(line)
  }

  close(): void {
    if (this.#closed) return
    this.#closed = true
    for (const line of this.#lines) {
      clearTimeout(line.timer)
      line.closer?.close('closed by caller')
      line.closer = undefined
    }
    this.#settleReady(new AgoraError('CANCELLED', 'the subscription was closed before any relay answered'))
    this.#owner.forget(this)
  }

  #open(line: Line): void {
    if (this.#closed || this.#owner.closed) return
    line.timer = undefined
    line.eosed = false
    const filters = this.#build({ since: line.downSince })
    let closer: SubCloser | undefined
    closer = this.#owner.pool.subscribeMap(
      filters.map((filter) => ({ url: line.url, filter })),
      {
        onevent: (event: Event) => {
          if (this.#closed) return
          // Re-subscriptions overlap on purpose; relays repeat stored events.
          if (this.#seen.has(event.id)) return
          this.#seen.add(event.id)
          if (this.#seen.size > 50_000) this.#seen.delete(this.#seen.values().next().value as string)
          try {
            this.#options.onevent(event, { relay: line.url, stored: !line.eosed })
          } catch (err) {
            this.#owner.log.warn('a Nostr event handler threw', { error: reasonOf(err) })
          }
        },
        oneose: () => {
          // nostr-tools also reports a failed connection as end of stored events, right before the
          // close: wait a microtask to tell the two apart.
          queueMicrotask(() => this.#up(line, closer))
        },
        onclose: (reasons: { url: string; reason: string }[]) => {
          if (this.#closed || line.closer !== closer) return
          const reason = reasons[0]?.reason ?? 'closed'
          line.closer = undefined
          line.eosed = false
          line.downSince ??= line.everUp ? nowSeconds() : this.#startedAt
          line.failures++
          this.#owner.log.debug('relay subscription dropped', { relay: line.url, reason, failures: line.failures })
          this.#options.onrelay?.(line.url, 'down', reason)
          if (!line.everUp && this.#lines.every((l) => !l.everUp && l.failures > 0)) {
            const detail = this.#lines.map((l) => l.url).join(', ')
            this.#settleReady(new AgoraError('CONNECTION', `cannot reach any Nostr relay (${detail}): ${reason}`))
          }
          line.timer = setTimeout(() => this.#open(line), this.#owner.backoff(line.failures))
          line.timer.unref?.()
        },
      },
    )
    line.closer = closer
  }

  #up(line: Line, closer: SubCloser | undefined): void {
    if (this.#closed || line.closer !== closer || closer === undefined) return
    line.eosed = true
    line.failures = 0
    line.downSince = undefined
    line.everUp = true
    this.#owner.markUp(line.url)
    this.#options.onrelay?.(line.url, 'up')
    this.#settleReady()
  }

  #settleReady(err?: Error): void {
    if (this.#readySettled) return
    this.#readySettled = true
    if (err) this.#ready.reject(err)
    else this.#ready.resolve()
  }
}
