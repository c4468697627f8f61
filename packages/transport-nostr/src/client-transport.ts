import type { Logger, PaymentNotice } from '@agora/core'
import { silentLogger } from '@agora/core'
import { AgoraError } from '@agora/core/errors'
import type {
  JSONRPCMessage,
  JSONRPCNotification,
  JSONRPCRequest,
  MessageExtraInfo,
  Transport,
} from '@modelcontextprotocol/client'
import type { Event } from 'nostr-tools/pure'
import { EPHEMERAL_GIFT_WRAP_KIND, isContextVm } from './contextvm/profile.ts'
import type { EncryptionMode, OpenedEvent } from './encryption.ts'
import { sealMessage } from './encryption.ts'
import type { Inbox } from './inbox.ts'
import { createInbox } from './inbox.ts'
import { decodeContent, isResponse } from './message.ts'
import type { RelayPool, RelaySubscription } from './pool.ts'
import type { NostrProfile } from './profile.ts'
import type { Tags } from './wire.ts'
import { isOpeningRequest, notificationTags, nowSeconds, readPaymentRequired, requestTags, tagValue } from './wire.ts'

/** A payment request for one of this client's requests (DVMCP `payment-required`). */
export type NostrPaymentNotice = PaymentNotice & {
  /** The request event it is about. */
  readonly requestEventId: string
  /** The JSON-RPC request waiting for the payment. */
  readonly request: JSONRPCRequest
}

export interface NostrClientTransportOptions {
  pool: RelayPool
  /** Close the pool with the transport. */
  ownsPool: boolean
  secretKey: Uint8Array
  pubkey: string
  serverPubkey: string
  serverId: string | undefined
  profile: NostrProfile
  encryption: EncryptionMode
  timeoutMs: number
  maxContentBytes: number
  onPaymentRequired: ((notice: NostrPaymentNotice) => void | Promise<void>) | undefined
  logger: Logger | undefined
}

interface Pending {
  readonly eventId: string
  readonly request: JSONRPCRequest
  timer: ReturnType<typeof setTimeout> | undefined
}

/** How far back the subscription reaches: the server's clock may be behind ours (as in its replay window). */
const CLOCK_SLACK_SECONDS = 300

/**
 * The client end of MCP over Nostr (an SDK `Transport`): requests go out as signed (optionally
 * gift-wrapped) events addressed to the server, responses are matched to requests by their `e`
 * tag, the JSON-RPC ids stay the client's own. Only events signed by `serverPubkey` are accepted.
 * Progress notifications keep a request alive; a request without news for `timeoutMs` fails with
 * `TIMEOUT` (and is cancelled on the server). Create it with `connectNostr`.
 *
 * @example
 * ```ts
 * const transport = await connectNostr({ relays: ['ws://127.0.0.1:7777'], serverPubkey })
 * await new Client({ name: 'me', version: '1.0.0' }).connect(transport)
 * ```
 */
export class NostrClientTransport implements Transport {
  onclose?: (() => void) | undefined
  onerror?: ((error: Error) => void) | undefined
  onmessage?: (<T extends JSONRPCMessage>(message: T, extra?: MessageExtraInfo) => void) | undefined
  /** This client's public key (hex). */
  readonly pubkey: string
  /** The server's public key (hex). */
  readonly serverPubkey: string
  readonly profile: NostrProfile
  readonly encryption: EncryptionMode
  readonly #options: NostrClientTransportOptions
  readonly #log: Logger
  readonly #pending = new Map<string, Pending>()
  readonly #byId = new Map<string | number, Pending>()
  readonly #inbox: Inbox
  /** Recent responses to requests not pending here, by request event id. */
  readonly #orphans = new Map<string, [OpenedEvent, JSONRPCMessage]>()
  #serverId: string | undefined
  /** Envelope of encrypted messages: the profile's, or ContextVM's ephemeral 21059 once the server offers it. */
  #wrapKind: number
  #subscription: RelaySubscription | undefined
  #started = false
  #closed = false
  #closing: Promise<void> | undefined
  /** Cancellations being published, which `close()` lets finish. */
  readonly #cancelling = new Set<Promise<void>>()

  constructor(options: NostrClientTransportOptions) {
    this.#options = options
    this.pubkey = options.pubkey
    this.serverPubkey = options.serverPubkey
    this.profile = options.profile
    this.encryption = options.encryption
    this.#serverId = options.serverId
    this.#log = options.logger ?? silentLogger
    this.#wrapKind = options.profile.kinds.giftWrap
    const { secretKey, pubkey, profile, encryption } = options
    this.#inbox = createInbox({ profile, pubkey, secretKey, encryption, seenTtlMs: 30 * 60_000 })
  }

  /** The server id requests target (`s` tag): as given, or learnt from the initialize response's `d` tag. */
  get serverId(): string | undefined {
    return this.#serverId
  }

  /** The relays in use. */
  get relays(): readonly string[] {
    return this.#options.pool.relays
  }

  /** Requests waiting for their response. */
  get pendingRequests(): number {
    return this.#pending.size
  }

  /**
   * Subscribes to responses and notifications for this client, and resolves once a relay has
   * confirmed the subscription (so no answer can be missed). `connectNostr` calls it.
   */
  async listen(signal?: AbortSignal): Promise<void> {
    if (this.#subscription) return
    const { response, notification } = this.profile.kinds
    const base = nowSeconds()
    const filters = (gap: { since: number | undefined }) =>
      this.#inbox.filters([response, notification], (gap.since ?? base) - CLOCK_SLACK_SECONDS)
    this.#subscription = this.#options.pool.subscribe(filters, {
      onevent: (event) => this.#onEvent(event),
      onrelay: (relay, state, reason) => this.#log.debug(`relay ${state}`, { relay, reason }),
    })
    if (!signal) return this.#subscription.ready
    signal.throwIfAborted()
    const aborted = new Promise<never>((_, reject) =>
      signal.addEventListener('abort', () => reject(signal.reason), { once: true }),
    )
    await Promise.race([this.#subscription.ready, aborted])
  }

  async start(): Promise<void> {
    if (this.#started) throw new AgoraError('CONFIG', 'NostrClientTransport already started')
    if (this.#closed) throw new AgoraError('CONNECTION', 'the Nostr transport is closed')
    this.#started = true
    await this.listen()
  }

  async send(message: JSONRPCMessage): Promise<void> {
    if (this.#closed) throw new AgoraError('CONNECTION', 'cannot send: the Nostr transport is closed')
    if ('method' in message && 'id' in message) {
      await this.#sendRequest(message as JSONRPCRequest)
      return
    }
    if ('method' in message) {
      await this.#sendNotification(message as JSONRPCNotification)
      return
    }
    // Answers to server requests: the server never sends any over this transport.
    this.#log.debug('dropping a response with no request to answer', { id: (message as { id?: unknown }).id })
  }

  /** Cancels what is pending (telling the server), closes the subscription. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#closed = true
      const pending = [...this.#pending.values()]
      for (const p of pending) this.#forget(p)
      // Cancellations already on their way (a declined payment) finish too: a publish left behind
      // when the pool closes keeps the process alive until nostr-tools' publish timeout.
      await Promise.race([
        Promise.allSettled([
          ...this.#cancelling,
          ...pending.map((p) => this.#publishCancel(p, 'the client closed the connection')),
        ]),
        new Promise((r) => setTimeout(r, 1000).unref()),
      ])
      this.#subscription?.close()
      if (this.#options.ownsPool) this.#options.pool.close()
      this.onclose?.()
    })()
    return this.#closing
  }

  // ---- outbound --------------------------------------------------------------------------------

  async #sendRequest(request: JSONRPCRequest): Promise<void> {
    const tags = requestTags(this.profile, { method: request.method, server: this.serverPubkey, serverId: this.#serverId })
    const { event, id } = this.#seal(this.profile.kinds.request, tags, JSON.stringify(request))
    const pending: Pending = { eventId: id, request, timer: undefined }
    this.#pending.set(id, pending)
    this.#byId.set(request.id, pending)
    this.#arm(pending, this.#options.timeoutMs)
    const orphan = this.#orphans.get(id)
    if (orphan) {
      // Answered already (identical event sent by another process with this key).
      this.#orphans.delete(id)
      queueMicrotask(() => this.#answer(pending, orphan[0], orphan[1]))
      return
    }
    try {
      await this.#options.pool.publish(event)
    } catch (err) {
      this.#forget(pending)
      throw err
    }
  }

  async #sendNotification(notification: JSONRPCNotification): Promise<void> {
    let related: Pending | undefined
    if (notification.method === 'notifications/cancelled') {
      const requestId = (notification.params as { requestId?: string | number } | undefined)?.requestId
      related = requestId === undefined ? undefined : this.#byId.get(requestId)
      // The SDK has given up on it already: nothing to wait for.
      if (related) this.#forget(related)
      else return
    }
    await this.#publishNotification(notification, related?.eventId)
  }

  async #publishNotification(notification: JSONRPCNotification, requestEventId: string | undefined): Promise<void> {
    const tags = notificationTags(this.profile, {
      method: notification.method,
      recipient: this.serverPubkey,
      serverId: this.#serverId,
      requestEventId,
    })
    const { event } = this.#seal(this.profile.kinds.notification, tags, JSON.stringify(notification))
    await this.#options.pool.publish(event)
  }

  /** Signs a message to the server, gift-wrapped when encryption is required. */
  #seal(kind: number, tags: Tags, content: string): { event: Event; id: string } {
    const template = { kind, tags, content, created_at: nowSeconds() }
    const { secretKey } = this.#options
    return sealMessage(this.profile, template, secretKey, this.serverPubkey, this.encryption === 'required', this.#wrapKind)
  }

  #publishCancel(pending: Pending, reason: string): Promise<void> {
    const cancel: JSONRPCNotification = {
      jsonrpc: '2.0',
      method: 'notifications/cancelled',
      params: { requestId: pending.request.id, reason },
    }
    const sent = this.#publishNotification(cancel, pending.eventId).catch((err: Error) =>
      this.#log.debug('cannot publish a cancellation', { event: pending.eventId, error: err.message }),
    )
    this.#cancelling.add(sent)
    void sent.finally(() => this.#cancelling.delete(sent))
    return sent
  }

  // ---- inbound ---------------------------------------------------------------------------------

  #onEvent(event: Event): void {
    if (this.#closed) return
    const message = this.#inbox.admit(event, (reason) => this.#drop(event, reason))
    if (!message) return
    if (!message.encrypted && this.encryption === 'required') {
      this.#drop(event, 'plaintext, but encryption is required')
      return
    }
    if (message.pubkey !== this.serverPubkey) {
      this.#drop(event, 'not signed by the server')
      return
    }
    this.#learnWrapKind(message.tags)
    const { response, notification } = this.profile.kinds
    if (message.kind !== response && message.kind !== notification) {
      this.#drop(event, `unexpected kind ${message.kind}`)
      return
    }

    const notice = message.kind === notification ? readPaymentRequired(message.tags) : undefined
    if (notice) {
      this.#onPaymentRequired(message, notice)
      return
    }

    const decoded = decodeContent(message.content, this.#options.maxContentBytes)
    if (!decoded.ok) {
      // A response we cannot read still answers its request: fail it rather than let it time out.
      const pending = this.#pending.get(tagValue(message.tags, 'e') ?? '')
      if (pending && message.kind === response) {
        const err = new AgoraError('CONNECTION', `unreadable response from the server: ${decoded.reason}`)
        this.#fail(pending, err)
      }
      this.#drop(event, decoded.reason)
      return
    }
    const rpc = decoded.message
    if (isResponse(rpc)) {
      const requestEventId = tagValue(message.tags, 'e') ?? ''
      const pending = this.#pending.get(requestEventId)
      if (pending) {
        this.#answer(pending, message, rpc)
        return
      }
      // Another process with our key may have sent the very same event (same id) before us: keep
      // the answer a moment, the relay will not deliver it twice.
      this.#orphans.set(requestEventId, [message, rpc])
      if (this.#orphans.size > 64) this.#orphans.delete(this.#orphans.keys().next().value as string)
      this.#drop(event, 'response to no pending request')
      return
    }
    if (!('method' in rpc) || 'id' in rpc) {
      this.#drop(event, 'server-to-client requests are not supported')
      return
    }
    if (this.profile.serverIdTags && this.#serverId !== undefined) {
      const s = tagValue(message.tags, 's')
      if (s !== undefined && s !== this.#serverId) {
        this.#drop(event, `notification from server ${JSON.stringify(s)}`)
        return
      }
    }
    const related = this.#pending.get(tagValue(message.tags, 'e') ?? '')
    // News about a request (progress) keeps it alive.
    if (related) this.#arm(related, this.#options.timeoutMs)
    this.#deliver(rpc)
  }

  /**
   * ContextVM (CEP-19): once the server flags `support_encryption_ephemeral` (on its initialize
   * response), encrypted messages go out as unstored 21059 wraps, as `@contextvm/sdk` clients do.
   */
  #learnWrapKind(tags: Tags): void {
    if (this.#wrapKind === EPHEMERAL_GIFT_WRAP_KIND || !isContextVm(this.profile)) return
    const flag = this.profile.capabilityTags.ephemeralEncryption
    if (tags.some((t) => t[0] === flag)) this.#wrapKind = EPHEMERAL_GIFT_WRAP_KIND
  }

  #answer(pending: Pending, message: OpenedEvent, rpc: JSONRPCMessage): void {
    if (isOpeningRequest(pending.request.method) && 'result' in rpc && this.profile.serverIdTags) {
      this.#serverId ??= tagValue(message.tags, 'd')
    }
    this.#forget(pending)
    // The server echoes our id; restore it anyway (a parse error comes back with id null).
    this.#deliver({ ...rpc, id: pending.request.id } as JSONRPCMessage)
  }

  #onPaymentRequired(message: OpenedEvent, notice: PaymentNotice): void {
    const requestEventId = tagValue(message.tags, 'e')
    const pending = this.#pending.get(requestEventId ?? '')
    if (!pending || requestEventId === undefined) {
      this.#drop(message, 'payment request for no pending request')
      return
    }
    // Wait for the payment until the invoice expires, then as long as for any request.
    const untilExpiry = notice.expiresAt === undefined ? 0 : notice.expiresAt * 1000 - Date.now()
    this.#arm(pending, Math.max(0, untilExpiry) + this.#options.timeoutMs)
    const hook = this.#options.onPaymentRequired
    if (!hook) {
      const err = new AgoraError(
        'PAYMENT_REQUIRED',
        `payment required: pay ${notice.amount} ${notice.unit} with the Lightning invoice ${notice.invoice}`,
        { data: { ...notice, requestEventId } },
      )
      this.#fail(pending, err)
      void this.#publishCancel(pending, 'payment required, and this client cannot pay')
      return
    }
    Promise.resolve()
      .then(() => hook({ ...notice, requestEventId, request: pending.request }))
      .catch((err: unknown) => {
        if (!this.#pending.has(requestEventId)) return
        const reason = err instanceof Error ? err.message : String(err)
        this.#fail(
          pending,
          new AgoraError('PAYMENT_REQUIRED', `payment required (${notice.amount} ${notice.unit}) but not made: ${reason}`, {
            cause: err,
            data: { ...notice, requestEventId },
          }),
        )
        void this.#publishCancel(pending, `payment failed: ${reason}`)
      })
  }

  #arm(pending: Pending, ms: number): void {
    clearTimeout(pending.timer)
    // setTimeout fires at once beyond 2^31-1 ms (an invoice expiring far ahead).
    ms = Math.min(ms, 2 ** 31 - 1)
    pending.timer = setTimeout(() => {
      if (!this.#pending.has(pending.eventId)) return
      const err = new AgoraError(
        'TIMEOUT',
        `no answer from the Nostr server to ${pending.request.method} within ${this.#options.timeoutMs} ms`,
        { data: { requestEventId: pending.eventId, relays: [...this.relays] } },
      )
      this.#fail(pending, err)
      void this.#publishCancel(pending, 'timed out')
    }, ms)
  }

  /** Answers a pending request locally with an error. */
  #fail(pending: Pending, err: AgoraError): void {
    this.#forget(pending)
    this.#deliver({
      jsonrpc: '2.0',
      id: pending.request.id,
      error: { code: err.wireCode, message: err.message, data: err.toWireData() },
    } as JSONRPCMessage)
  }

  #forget(pending: Pending): void {
    clearTimeout(pending.timer)
    this.#pending.delete(pending.eventId)
    if (this.#byId.get(pending.request.id) === pending) this.#byId.delete(pending.request.id)
  }

  #deliver(message: JSONRPCMessage): void {
    if (this.#closed || !this.#started) return
    try {
      this.onmessage?.(message)
    } catch (err) {
      this.onerror?.(err instanceof Error ? err : new Error(String(err)))
    }
  }

  #drop(event: { id: string; kind: number; pubkey: string }, reason: string): void {
    this.#log.debug('ignored a Nostr event', { event: event.id, kind: event.kind, from: event.pubkey, reason })
  }
}
