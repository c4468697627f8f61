import type { Logger } from '@agora/core'
import { silentLogger } from '@agora/core'
import { AgoraError } from '@agora/core/errors'
import { AbstractSimplePool } from 'nostr-tools/abstract-pool'
import type { AbstractRelay } from 'nostr-tools/abstract-relay'
import type { Filter } from 'nostr-tools/filter'
import type { Event } from 'nostr-tools/pure'
import { verifyEvent } from 'nostr-tools/pure'
import { normalizeURL } from 'nostr-tools/utils'
import { WebSocket } from 'ws'

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

/**
 * The two relay operations announcements and discovery need. {@link createNostrRelays} builds one
 * on nostr-tools; anything else (the transport's pool, a test double) can stand in.
 */
export interface NostrRelays {
  /** The relay URLs (normalized, e.g. `ws://127.0.0.1:7777/`), for reporting. */
  readonly urls: readonly string[]
  /**
   * Publishes to every relay. Resolves when at least one accepted (the others are logged); rejects
   * `CONNECTION` naming each relay's reason when none did.
   */
  publish(event: Event, options?: { signal?: AbortSignal | undefined }): Promise<void>
  /** Asks every relay for stored events until its EOSE (or the timeout); one answer per relay. */
  query(filter: Filter, options?: { signal?: AbortSignal | undefined; timeoutMs?: number | undefined }): Promise<RelayAnswer[]>
  /** Closes the connections this object opened. */
  close(): void
}

export interface NostrRelaysOptions {
  /** An existing nostr-tools pool to use (not closed by `close()`). Default: a pool of its own. */
  pool?: AbstractSimplePool | undefined
  /** Bound on connecting to one relay. Default 3000 ms. */
  connectTimeoutMs?: number | undefined
  /** Bound on one relay's answer to a query (until EOSE). Default 4000 ms. */
  queryTimeoutMs?: number | undefined
  /** Hears relays that refused a publication, and relay NOTICEs (debug). Default: silent. */
  logger?: Logger | undefined
}

/**
 * Relay access over a nostr-tools pool with the `ws` WebSocket. Queries go to each relay on its
 * own, so a dead relay shows up as an error answer instead of silently shrinking the results.
 * URLs are normalized (nostr-tools' `normalizeURL`) and deduplicated.
 *
 * @example
 * ```ts
 * const relays = createNostrRelays(['ws://127.0.0.1:7777'])
 * const answers = await relays.query({ kinds: [31316] })
 * relays.close()
 * ```
 */
export function createNostrRelays(urls: readonly string[], options: NostrRelaysOptions = {}): NostrRelays {
  if (urls.length === 0) throw new AgoraError('CONFIG', 'at least one relay URL is required')
  const connectTimeoutMs = options.connectTimeoutMs ?? 3000
  const logger = options.logger ?? silentLogger
  const pool = options.pool ?? new QuietPool(logger, connectTimeoutMs)
  const list = [...new Set(urls.map(normalizeURL))]

  // nostr-tools wires `abort` through `signal.onabort = …`, so one signal shared by several relays
  // would only reach the last; aborting is handled here instead.
  const queryOne = async (url: string, filter: Filter, timeoutMs: number, signal: AbortSignal | undefined) => {
    let relay: AbstractRelay
    try {
      relay = await whileNotAborted(pool.ensureRelay(url, { connectionTimeout: connectTimeoutMs }), signal)
    } catch (err) {
      return { relay: url, error: `connection failure: ${reasonOf(err)}` } satisfies RelayAnswer
    }
    // The relay's own subscription, not the pool's: the pool reports a failed relay as EOSE first.
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
          eoseTimeout: timeoutMs,
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

  return {
    urls: list,
    async publish(event, { signal } = {}) {
      if (signal?.aborted) throw cancelled(signal)
      const results = await whileNotAborted(Promise.allSettled(pool.publish(list, event)), signal)
      const failed = results.flatMap((result, i) =>
        result.status === 'rejected' ? [{ relay: list[i] as string, reason: reasonOf(result.reason) }] : [],
      )
      if (failed.length === list.length) {
        const detail = failed.map((f) => `${f.relay}: ${f.reason}`).join('; ')
        throw new AgoraError('CONNECTION', `no relay accepted event kind ${event.kind} (${detail})`, { data: { failed } })
      }
      if (failed.length > 0) logger.warn('some relays refused an event', { kind: event.kind, id: event.id, failed })
    },
    async query(filter, { signal, timeoutMs } = {}) {
      if (signal?.aborted) throw cancelled(signal)
      const answers = await Promise.all(
        list.map((relay) => queryOne(relay, filter, timeoutMs ?? options.queryTimeoutMs ?? 4000, signal)),
      )
      if (signal?.aborted) throw cancelled(signal)
      return answers
    },
    close() {
      if (!options.pool) pool.destroy()
    },
  }
}

/** nostr-tools' pool with the `ws` WebSocket, and relay NOTICEs sent to the logger (not `console.debug`, i.e. stdout). */
class QuietPool extends AbstractSimplePool {
  readonly #logger: Logger
  constructor(logger: Logger, connectTimeoutMs: number) {
    super({ verifyEvent, websocketImplementation: WebSocket as never, maxWaitForConnection: connectTimeoutMs })
    this.#logger = logger
  }
  override async ensureRelay(url: string, params?: { connectionTimeout?: number; abort?: AbortSignal }): Promise<AbstractRelay> {
    const relay = await super.ensureRelay(url, params)
    relay.onnotice = (message) => this.#logger.debug('relay notice', { relay: url, message })
    return relay
  }
}

/** Settles like `promise`, or rejects `CANCELLED` as soon as `signal` aborts. */
function whileNotAborted<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise
  if (signal.aborted) return Promise.reject(cancelled(signal))
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(cancelled(signal))
    signal.addEventListener('abort', onAbort, { once: true })
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort)
        resolve(value)
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort)
        reject(err)
      },
    )
  })
}

function cancelled(signal: AbortSignal): AgoraError {
  return new AgoraError('CANCELLED', 'relay operation aborted', { cause: signal.reason })
}

function reasonOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}
