import type { Logger } from '@agora/core'
import { silentLogger, untilAborted } from '@agora/core'
import { AgoraError } from '@agora/core/errors'
import { AbstractSimplePool } from 'nostr-tools/abstract-pool'
import type { AbstractRelay } from 'nostr-tools/abstract-relay'
import type { Filter } from 'nostr-tools/filter'
import type { Event } from 'nostr-tools/pure'
import { normalizeURL } from 'nostr-tools/utils'
import { WebSocket } from 'ws'
import { Subscription } from './pool-subscription.ts'
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
  /** Bound on one relay's answer to a query (until its end of stored events). Default 3000 ms. */
  queryTimeoutMs?: number | undefined
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

/** What one relay answered to a query. */
export type RelayAnswer =
  | {
      readonly relay: string
      /** Matching events whose signature checked out. */
      readonly events: readonly Event[]
      /** Events the relay sent that failed the signature check or did not match the filter. */
      readonly rejected?: number | undefined
    }
  | { readonly relay: string; readonly error: string }

export interface QueryOptions {
  signal?: AbortSignal | undefined
  /** Bound on each relay's answer. Default: the pool's `queryTimeoutMs` (3000 ms). */
  maxWaitMs?: number | undefined
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
   * for every relay's end of stored events or `maxWaitMs`. Rejects with `CONNECTION` only when no
   * relay answered, `CANCELLED` when aborted.
   */
  query(filter: Filter, options?: QueryOptions): Promise<Event[]>
  /**
   * Asks every relay on its own, as {@link query} does, and returns one answer per relay (in the
   * pool's order): a dead relay shows up as an error answer instead of silently shrinking the
   * results. Rejects only with `CANCELLED`, when aborted.
   */
  queryEach(filter: Filter, options?: QueryOptions): Promise<RelayAnswer[]>
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
    ;(relay as unknown as { pingpong(): Promise<void> }).pingpong = () => pingpong(relay)
    return relay
  }
}

/**
 * The keep-alive check nostr-tools runs every 29 s on each relay, without its leak: there the
 * 20 s pong timeout keeps running after the pong came, and being a live timer it kept a process
 * whose pools were all closed alive for up to 20 s. Same rule: no pong in `pingTimeout`, close the
 * socket (nostr-tools then treats the relay as dropped).
 */
export async function pingpong(relay: AbstractRelay): Promise<void> {
  const ws = (relay as unknown as { ws?: WebSocket }).ws
  if (ws?.readyState !== WebSocket.OPEN) return
  let timer: ReturnType<typeof setTimeout> | undefined
  const pong = new Promise<boolean>((resolve) => {
    ws.once('pong', () => resolve(true))
    ws.ping()
  })
  const timeout = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), relay.pingTimeout)
    timer.unref()
  })
  const answered = await Promise.race([pong, timeout])
  clearTimeout(timer)
  if (!answered && ws.readyState === WebSocket.OPEN) ws.close()
}

class Pool implements RelayPool {
  readonly relays: readonly string[]
  readonly #pool: QuietPool
  readonly #log: Logger
  readonly #delay: number
  readonly #maxDelay: number
  readonly #connectTimeout: number
  readonly #queryTimeout: number
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
    this.#queryTimeout = options.queryTimeoutMs ?? 3000
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

  async query(filter: Filter, options: QueryOptions = {}): Promise<Event[]> {
    const answers = await this.queryEach(filter, options)
    const failed = answers.filter((a) => 'error' in a)
    if (failed.length === answers.length) {
      const detail = failed.map((a) => `${a.relay}: ${a.error}`).join('; ')
      throw new AgoraError('CONNECTION', `no relay answered the query: ${detail}`, { data: { failures: failed } })
    }
    const byId = new Map<string, Event>()
    for (const answer of answers) if ('events' in answer) for (const event of answer.events) byId.set(event.id, event)
    return [...byId.values()]
  }

  async queryEach(filter: Filter, options: QueryOptions = {}): Promise<RelayAnswer[]> {
    const { signal } = options
    if (this.#closed) throw new AgoraError('CONNECTION', 'the relay pool is closed')
    if (signal?.aborted) throw cancelled(signal)
    const maxWait = options.maxWaitMs ?? this.#queryTimeout
    const answers = await Promise.all(this.relays.map((url) => this.#queryRelay(url, filter, maxWait, signal)))
    if (signal?.aborted) throw cancelled(signal)
    return answers
  }

  /**
   * One relay's answer, on the relay's own subscription (the pool's reports a failed relay as end
   * of stored events). nostr-tools wires `abort` through `signal.onabort = …`, so one signal shared
   * by several relays would only reach the last: aborting is handled here instead.
   */
  async #queryRelay(url: string, filter: Filter, maxWait: number, signal: AbortSignal | undefined): Promise<RelayAnswer> {
    let relay: AbstractRelay
    try {
      relay = await untilAborted(
        this.#pool.ensureRelay(url, { connectionTimeout: this.#connectTimeout }),
        signal,
        'the relay query',
      )
    } catch (err) {
      return { relay: url, error: `connection failure: ${reasonOf(err)}` }
    }
    return new Promise<RelayAnswer>((resolve) => {
      const events: Event[] = []
      let rejected = 0
      let done = false
      let sub: ReturnType<AbstractRelay['subscribe']> | undefined
      const onAbort = () => sub?.close(`aborted: ${reasonOf(signal?.reason)}`)
      const finish = (answer: RelayAnswer) => {
        if (done) return
        done = true
        signal?.removeEventListener('abort', onAbort)
        resolve(answer)
      }
      signal?.addEventListener('abort', onAbort, { once: true })
      try {
        sub = relay.subscribe([filter], {
          eoseTimeout: maxWait,
          onevent: (event) => events.push(event),
          oninvalidevent: () => rejected++,
          oneose: () => {
            finish({ relay: url, events, rejected })
            sub?.close()
          },
          onclose: (reason) => finish({ relay: url, error: reason }),
        })
      } catch (err) {
        finish({ relay: url, error: reasonOf(err) })
      }
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
  get pool(): AbstractSimplePool {
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

function cancelled(signal: AbortSignal): AgoraError {
  return new AgoraError('CANCELLED', 'the relay query was cancelled', { cause: signal.reason })
}
