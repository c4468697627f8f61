import type { PaymentNotice } from '@agora/core'
import { AgoraError } from '@agora/core/errors'
import type {
  JSONRPCMessage,
  JSONRPCNotification,
  JSONRPCRequest,
  MessageExtraInfo,
  Transport,
  TransportSendOptions,
} from '@modelcontextprotocol/server'
import { nostrAuthInfo } from './identity.ts'

/** A request from the client, in flight on the server. */
export interface InflightRequest {
  /** The id the SDK server sees (unique within the session). */
  readonly internalId: number
  /** The id the client chose, restored on the response. */
  readonly clientId: string | number
  /** The request event's id (the inner event's, when gift-wrapped): responses reference it in `e`. */
  readonly eventId: string
  readonly method: string
  /** Replies are encrypted when the request was. */
  readonly encrypted: boolean
  /** The request's gift wrap kind, which replies reuse (ContextVM: 1059 or 21059). */
  readonly wrapKind?: number | undefined
  timer?: ReturnType<typeof setTimeout> | undefined
}

/** What a session needs from the server that owns it. */
export interface SessionHost {
  /** Publishes a response to `request`. */
  respond(session: NostrServerSession, request: InflightRequest, message: JSONRPCMessage): Promise<void>
  /** Publishes a notification, about `request` when given. */
  notify(session: NostrServerSession, message: JSONRPCNotification, request: InflightRequest | undefined): Promise<void>
  /** Publishes DVMCP's payment-required notification for `request`. */
  paymentRequired(session: NostrServerSession, request: InflightRequest, notice: PaymentNotice): Promise<void>
  /** A request ran past the server's bound: answer it with a timeout error. */
  timedOut(session: NostrServerSession, request: InflightRequest): void
  /** Bound on a request (ms), or undefined. */
  readonly requestTimeoutMs: number | undefined
}

const CANCEL_METHODS = new Set(['notifications/cancelled', 'notifications/cancel'])

/**
 * The SDK `Transport` of one client (pubkey) on a Nostr server: a virtual connection fed with
 * the client's verified events and publishing the SDK server's messages back through the host.
 *
 * JSON-RPC ids are rewritten on the way in (a per-session counter) and restored on the way out,
 * so two requests with the same id from one key (two processes sharing a key) do not collide;
 * cancellations name a request by its `e` tag (or, failing that, by the client's id).
 *
 * @example
 * ```ts
 * const session = new NostrServerSession(clientPubkey, host)
 * await createSdkServer(server, { transport: 'nostr' }).connect(session)
 * session.request(message, { eventId: event.id, encrypted: false })
 * ```
 */
export class NostrServerSession implements Transport {
  onclose?: (() => void) | undefined
  onerror?: ((error: Error) => void) | undefined
  onmessage?: (<T extends JSONRPCMessage>(message: T, extra?: MessageExtraInfo) => void) | undefined
  /** The client's pubkey (hex). */
  readonly client: string
  /** Last time a message went either way (ms). */
  lastActive = Date.now()
  /** Whether the client's latest request was encrypted (unsolicited notifications follow it). */
  encrypted = false
  /** The gift wrap kind of the client's latest encrypted request. */
  wrapKind: number | undefined
  readonly #host: SessionHost
  readonly #inflight = new Map<number, InflightRequest>()
  readonly #byEvent = new Map<string, InflightRequest>()
  readonly #plainExtra: MessageExtraInfo
  #nextId = 1
  #started = false
  #closed = false
  readonly #queue: [JSONRPCMessage, MessageExtraInfo][] = []

  constructor(client: string, host: SessionHost) {
    this.client = client
    this.#host = host
    this.#plainExtra = Object.freeze({ authInfo: nostrAuthInfo(client) })
  }

  /** Requests in flight. */
  get busy(): boolean {
    return this.#inflight.size > 0
  }

  get closed(): boolean {
    return this.#closed
  }

  async start(): Promise<void> {
    if (this.#started) throw new AgoraError('CONFIG', 'NostrServerSession already started')
    this.#started = true
    // Messages that arrived while the SDK server was connecting.
    queueMicrotask(() => {
      for (const [message, extra] of this.#queue.splice(0)) this.#deliver(message, extra)
    })
  }

  /** Hands a client request to the SDK server. */
  request(message: JSONRPCRequest, ref: { eventId: string; encrypted: boolean; wrapKind?: number | undefined }): void {
    const entry: InflightRequest = {
      internalId: this.#nextId++,
      clientId: message.id,
      eventId: ref.eventId,
      method: message.method,
      encrypted: ref.encrypted,
      wrapKind: ref.wrapKind,
    }
    this.encrypted = ref.encrypted
    if (ref.wrapKind !== undefined) this.wrapKind = ref.wrapKind
    this.#inflight.set(entry.internalId, entry)
    this.#byEvent.set(entry.eventId, entry)
    const timeout = this.#host.requestTimeoutMs
    if (timeout !== undefined && timeout > 0) {
      entry.timer = setTimeout(() => {
        if (!this.#finish(entry.internalId)) return
        this.#deliver(cancelled(entry.internalId, 'the server timed out the request'), this.#plainExtra)
        this.#host.timedOut(this, entry)
      }, timeout)
    }
    const notify = (notice: PaymentNotice) => this.#host.paymentRequired(this, entry, notice)
    const extra = Object.freeze({ authInfo: nostrAuthInfo(this.client, notify) })
    this.#deliver({ ...message, id: entry.internalId }, extra)
  }

  /**
   * Hands a client notification to the SDK server. A cancellation (`notifications/cancelled`, or the
   * draft's `notifications/cancel`) is mapped to the request its `e` tag names.
   */
  notification(message: JSONRPCNotification, ref: { relatedEventId: string | undefined }): void {
    if (CANCEL_METHODS.has(message.method)) {
      const params = (message.params ?? {}) as { requestId?: unknown; id?: unknown; reason?: unknown }
      const clientId = params.requestId ?? params.id
      const entry =
        (ref.relatedEventId !== undefined ? this.#byEvent.get(ref.relatedEventId) : undefined) ??
        (ref.relatedEventId === undefined ? this.#findByClientId(clientId) : undefined)
      if (!entry || !this.#finish(entry.internalId)) return
      const reason = typeof params.reason === 'string' ? params.reason : undefined
      this.#deliver(cancelled(entry.internalId, reason), this.#plainExtra)
      return
    }
    this.#deliver(message, this.#plainExtra)
  }

  async send(message: JSONRPCMessage, options?: TransportSendOptions): Promise<void> {
    if (this.#closed) throw new AgoraError('CONNECTION', `the Nostr session of ${this.client} is closed`)
    this.lastActive = Date.now()
    if ('result' in message || 'error' in message) {
      const internalId = (message as { id?: unknown }).id
      const entry = typeof internalId === 'number' ? this.#inflight.get(internalId) : undefined
      // Cancelled or timed out: the client was told already.
      if (!entry || !this.#finish(entry.internalId)) return
      await this.#host.respond(this, entry, { ...message, id: entry.clientId } as JSONRPCMessage)
      return
    }
    if ('id' in message) {
      throw new AgoraError(
        'CONNECTION',
        `server-to-client requests (${message.method}) are not supported over Nostr: the DVMCP draft defines no way for the client to answer`,
      )
    }
    const related = options?.relatedRequestId
    const entry = typeof related === 'number' ? this.#inflight.get(related) : undefined
    await this.#host.notify(this, message, entry)
  }

  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    for (const entry of this.#inflight.values()) clearTimeout(entry.timer)
    this.#inflight.clear()
    this.#byEvent.clear()
    this.onclose?.()
  }

  #deliver(message: JSONRPCMessage, extra: MessageExtraInfo): void {
    if (this.#closed) return
    this.lastActive = Date.now()
    if (!this.#started) {
      this.#queue.push([message, extra])
      return
    }
    try {
      this.onmessage?.(message, extra)
    } catch (err) {
      this.onerror?.(err instanceof Error ? err : new Error(String(err)))
    }
  }

  /** Forgets a request; false when it was already answered, cancelled or timed out. */
  #finish(internalId: number): boolean {
    const entry = this.#inflight.get(internalId)
    if (!entry) return false
    clearTimeout(entry.timer)
    this.#inflight.delete(internalId)
    this.#byEvent.delete(entry.eventId)
    return true
  }

  #findByClientId(clientId: unknown): InflightRequest | undefined {
    if (typeof clientId !== 'string' && typeof clientId !== 'number') return undefined
    let found: InflightRequest | undefined
    // The most recent request with that id.
    for (const entry of this.#inflight.values()) if (entry.clientId === clientId) found = entry
    return found
  }
}

function cancelled(requestId: number, reason: string | undefined): JSONRPCNotification {
  return {
    jsonrpc: '2.0',
    method: 'notifications/cancelled',
    params: { requestId, ...(reason === undefined ? {} : { reason }) },
  }
}
