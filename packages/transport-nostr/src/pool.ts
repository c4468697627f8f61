import type { Logger } from '@agora/core'
import { silentLogger } from '@agora/core'
import { AgoraError } from '@agora/core/errors'
import type { SubCloser } from 'nostr-tools/abstract-pool'
import { AbstractSimplePool } from 'nostr-tools/abstract-pool'
import type { AbstractRelay } from 'nostr-tools/abstract-relay'
import type { Filter } from 'nostr-tools/filter'
import type { Event } from 'nostr-tools/pure'
import { normalizeURL } from 'nostr-tools/utils'
import { WebSocket } from 'ws'
import { checkEvent } from './signing.ts'

export interface RelayPoolOptions {
  /** Relay URLs (`ws://` or `wss://`). At least one. */
  relays: readonly string[]
  /** Delay before re-subscribing to a relay that dropped or refused; doubles per failure. Default 100 ms. */
  reconnectDelayMs?: number | undefined
  /** Longest delay between attempts to reach a relay again. Default 5000 ms. */
  maxReconnectDelayMs?: number | undefined
  /** Bound on opening a connection to a relay. Default 3000 ms. */
  connectTimeoutMs?: number | undefined
  logger?: Logger | undefined
}

/** Where an event came from. */
export interface EventInfo {
  /** The relay that delivered it (normalized URL). */
  readonly relay: string
  /** True when the relay had it stored (delivered before end-of-stored-events), false when live. */
  readonly stored: boolean
}

/**
 * The filters of a subscription, built again at every (re)subscription to a relay. `gap.since` is
 * set when re-subscribing after a drop: the time (Unix seconds) the relay was last known to be
 * reachable, so the filters can ask for what was stored in between.
 */
export type FilterBuilder = (gap: { readonly since: number | undefined }) => Filter[]

export interface SubscribeOptions {
  /** Each event whose signature checked out and that this subscription has not delivered yet. */
  onevent(event: Event, info: EventInfo): void
  /** A relay answered the subscription (`up`) or dropped it (`down`, with the reason). */
  onrelay?: ((relay: string, state: 'up' | 'down', reason?: string) => void) | undefined
  /** Closes the subscription when aborted. */
  signal?: AbortSignal | undefined
}

/** A live subscription on every relay of the pool, re-established after drops. */
export interface RelaySubscription {
  /**
   * Resolves once at least one relay has answered (end of stored events): events published from
   * then on reach the subscriber. Rejects with `CONNECTION` when no relay could be reached.
   */
  readonly ready: Promise<void>
  /** Relays currently answering this subscription. */
  readonly connected: readonly string[]
  close(): void
}

/**
 * Connections to a set of relays: publish to all (success when one accepts), subscribe with
 * automatic re-subscription, one-shot queries. Every event handed out has a valid signature.
 */
export interface RelayPool {
  readonly relays: readonly string[]
  /**
   * Publishes to every relay; resolves when the first accepts it, rejects with `CONNECTION` naming
   * each relay and its reason when none does.
   */
  publish(event: Event, options?: { signal?: AbortSignal | undefined }): Promise<void>
  /** Subscribes on every relay; see {@link RelaySubscription}. */
  subscribe(filters: Filter[] | FilterBuilder, options: SubscribeOptions): RelaySubscription
  /**
   * The events stored on the relays that match `filter` (deduplicated, signatures checked); waits
   * for every relay's end of stored events or `maxWaitMs` (default 3000). Rejects with
   * `CONNECTION` only when no relay could be reached.
   */
  query(filter: Filter, options?: { signal?: AbortSignal | undefined; maxWaitMs?: number | undefined }): Promise<Event[]>
  /** Closes every subscription and connection. Idempotent. */
  close(): void
}

/**
 * Opens a {@link RelayPool} on nostr-tools' pool (with the `ws` WebSocket implementation).
 *
 * Why re-subscription is done here and not by nostr-tools' `enableReconnect`: that waits 10 s
 * before the first retry and re-subscribes with `since` = newest `created_at` seen + 1, which
 * drops events of the same second, events with a clock behind ours, and NIP-59 gift wraps (whose
 * `created_at` is randomised up to two days back). Here the subscriber rebuilds its filters from
 * the time the relay was last reachable (see {@link FilterBuilder}), duplicates are dropped by id,
 * and retries back off from 100 ms to 5 s.
 *
 * @example
 * ```ts
 * const pool = createRelayPool({ relays: ['ws://127.0.0.1:7777'] })
 * const sub = pool.subscribe([{ kinds: [6910], '#p': [pubkey] }], { onevent: (e) => console.log(e.content) })
 * await sub.ready
 * await pool.publish(finalizeEvent({ kind: 5910, tags: [], content: '{}', created_at: now }, sk))
 * pool.close()
 * ```
 */
export function createRelayPool(options: RelayPoolOptions): RelayPool {
  return new Pool(options)
}

const nowSeconds = () => Math.floor(Date.now() / 1000)
const reasonOf = (err: unknown) => (err instanceof Error ? err.message : String(err))

/**
 * `ws` with an `error` listener always attached: nostr-tools detaches its own before closing a
 * socket, and `ws` emits an error when a socket still connecting is closed (pool closed during a
 * retry), which would otherwise be an uncaught exception. Failures still reach nostr-tools through
 * `onerror`/`onclose` while it listens.
 */
class QuietWebSocket extends WebSocket {
  constructor(address: string, protocols?: string | string[]) {
    super(address, protocols)
    this.on('error', () => {})
  }
}

/** nostr-tools' pool, with NOTICEs sent to our logger instead of `console.debug` (stdout). */
class QuietPool extends AbstractSimplePool {
  readonly #log: Logger
  constructor(log: Logger, connectTimeoutMs: number) {
    super({
      verifyEvent: (event: Event) => checkEvent(event),
      websocketImplementation: QuietWebSocket as never,
      enablePing: true,
      maxWaitForConnection: connectTimeoutMs,
    })
    this.#log = log
  }
  override async ensureRelay(url: string, params?: { connectionTimeout?: number; abort?: AbortSignal }): Promise<AbstractRelay> {
    const relay = await super.ensureRelay(url, params)
    relay.onnotice = (message) => this.#log.debug('relay notice', { relay: url, message })
    return relay
  }
}

class Pool implements RelayPool {
  readonly relays: readonly string[]
  readonly #pool: QuietPool
  readonly #log: Logger
  readonly #delay: number
  readonly #maxDelay: number
  readonly #connectTimeout: number
  readonly #subs = new Set<Subscription>()
  /** Relays whose connection failed recently: skipped by publish until `retryAt` (ms). */
  readonly #down = new Map<string, { failures: number; retryAt: number }>()
  #closed = false

  constructor(options: RelayPoolOptions) {
    if (options.relays.length === 0) throw new AgoraError('CONFIG', 'at least one Nostr relay is needed')
    const relays: string[] = []
    for (const raw of options.relays) {
      let url: string
      try {
        url = normalizeURL(raw)
      } catch {
        throw new AgoraError('CONFIG', `invalid relay URL ${JSON.stringify(raw)}`)
      }
      if (!/^wss?:\/\//.test(url)) throw new AgoraError('CONFIG', `relay URL must start with ws:// or wss://: ${raw}`)
      if (!relays.includes(url)) relays.push(url)
    }
    this.relays = Object.freeze(relays)
    this.#log = options.logger ?? silentLogger
    this.#delay = options.reconnectDelayMs ?? 100
    this.#maxDelay = options.maxReconnectDelayMs ?? 5000
    this.#connectTimeout = options.connectTimeoutMs ?? 3000
    this.#pool = new QuietPool(this.#log, this.#connectTimeout)
  }

  publish(event: Event, options: { signal?: AbortSignal | undefined } = {}): Promise<void> {
    if (this.#closed) return Promise.reject(new AgoraError('CONNECTION', 'the relay pool is closed'))
    const targets = this.#reachable()
    const attempts = this.#pool.publish(targets, event, { maxWait: this.#connectTimeout })
    return new Promise<void>((resolve, reject) => {
      const failures: string[] = []
      let settled = false
      const onAbort = () => finish(new AgoraError('CANCELLED', `publishing event ${event.id} was cancelled`))
      const finish = (err?: Error) => {
        if (settled) return
        settled = true
        options.signal?.removeEventListener('abort', onAbort)
        if (err) reject(err)
        else resolve()
      }
      if (options.signal?.aborted) {
        onAbort()
        return
      }
      options.signal?.addEventListener('abort', onAbort, { once: true })
      attempts.forEach((attempt, i) => {
        const url = targets[i] as string
        attempt.then(
          () => {
            this.#down.delete(url)
            finish()
          },
          (err: unknown) => {
            const reason = reasonOf(err)
            if (reason.startsWith('connection failure')) this.#markDown(url)
            failures.push(`${url}: ${reason}`)
            if (failures.length === targets.length) {
              finish(
                new AgoraError('CONNECTION', `no relay accepted event ${event.id} (kind ${event.kind}): ${failures.join('; ')}`, {
                  data: { relays: [...targets], failures },
                }),
              )
            }
          },
        )
      })
    })
  }

  subscribe(filters: Filter[] | FilterBuilder, options: SubscribeOptions): RelaySubscription {
    if (this.#closed) throw new AgoraError('CONNECTION', 'the relay pool is closed')
    const build: FilterBuilder = typeof filters === 'function' ? filters : () => filters.map((f) => ({ ...f }))
    const sub = new Subscription(this, build, options)
    this.#subs.add(sub)
    sub.start()
    return sub
  }

  query(filter: Filter, options: { signal?: AbortSignal | undefined; maxWaitMs?: number | undefined } = {}): Promise<Event[]> {
    if (this.#closed) return Promise.reject(new AgoraError('CONNECTION', 'the relay pool is closed'))
    const events: Event[] = []
    return new Promise<Event[]>((resolve, reject) => {
      let closer: SubCloser | undefined
      const onAbort = () => {
        closer?.close('aborted')
        reject(new AgoraError('CANCELLED', 'the relay query was cancelled'))
      }
      if (options.signal?.aborted) {
        onAbort()
        return
      }
      options.signal?.addEventListener('abort', onAbort, { once: true })
      closer = this.#pool.subscribeEose([...this.relays], filter, {
        maxWait: options.maxWaitMs ?? 3000,
        onevent: (event) => events.push(event),
        onclose: (reasons) => {
          options.signal?.removeEventListener('abort', onAbort)
          const failed = reasons.filter((r) => !isOrderlyClose(r.reason))
          if (failed.length === reasons.length && events.length === 0) {
            const detail = failed.map((r) => `${r.url}: ${r.reason}`).join('; ')
            reject(new AgoraError('CONNECTION', `no relay answered the query: ${detail}`, { data: { failures: failed } }))
            return
          }
          resolve(events)
        },
      })
    })
  }

  close(): void {
    if (this.#closed) return
    this.#closed = true
    for (const sub of this.#subs) sub.close()
    this.#pool.destroy()
  }

  get closed(): boolean {
    return this.#closed
  }

  /** @internal */
  get pool(): QuietPool {
    return this.#pool
  }

  /** @internal */
  get log(): Logger {
    return this.#log
  }

  /** @internal */
  backoff(failures: number): number {
    return Math.min(this.#maxDelay, this.#delay * 2 ** Math.max(0, failures - 1))
  }

  /** @internal */
  forget(sub: Subscription): void {
    this.#subs.delete(sub)
  }

  /** @internal */
  markUp(url: string): void {
    this.#down.delete(url)
  }

  #markDown(url: string): void {
    const failures = (this.#down.get(url)?.failures ?? 0) + 1
    this.#down.set(url, { failures, retryAt: Date.now() + this.backoff(failures) })
  }

  /** Relays worth trying now: all but those that failed recently, or all when every one did. */
  #reachable(): string[] {
    const now = Date.now()
    const ok = this.relays.filter((url) => (this.#down.get(url)?.retryAt ?? 0) <= now)
    return ok.length > 0 ? ok : [...this.relays]
  }
}

const isOrderlyClose = (reason: string) =>
  reason === 'closed automatically on eose' || reason === 'closed by caller' || reason.startsWith('closed by')

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

class Subscription implements RelaySubscription {
  readonly ready: Promise<void>
  readonly #owner: Pool
  readonly #build: FilterBuilder
  readonly #options: SubscribeOptions
  readonly #lines: Line[]
  readonly #ready = Promise.withResolvers<void>()
  readonly #seen = new Set<string>()
  readonly #startedAt = nowSeconds()
  #readySettled = false
  #closed = false

  constructor(owner: Pool, build: FilterBuilder, options: SubscribeOptions) {
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
