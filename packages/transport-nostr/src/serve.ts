import type { AgoraServer, Logger, PaymentNotice } from '@agora/core'
import { createLogger, serveConnection } from '@agora/core'
import { AgoraError } from '@agora/core/errors'
import type { JSONRPCMessage, JSONRPCNotification, JSONRPCRequest } from '@modelcontextprotocol/server'
import type { Event } from 'nostr-tools/pure'
import { capabilityTags } from './contextvm/profile.ts'
import type { EncryptionMode, OpenedEvent } from './encryption.ts'
import { sealMessage } from './encryption.ts'
import type { Inbox } from './inbox.ts'
import { createInbox } from './inbox.ts'
import { parsePublicKey, resolveKeys } from './keys.ts'
import { DEFAULT_MAX_CONTENT_BYTES, decodeContent, INVALID_REQUEST, isNotification, isRequest } from './message.ts'
import type { EventInfo, RelayPool, RelaySubscription } from './pool.ts'
import { createRelayPool } from './pool.ts'
import type { NostrProfile } from './profile.ts'
import { resolveProfile } from './profile.ts'
import { defaultServerId } from './server-id.ts'
import type { InflightRequest, SessionHost } from './server-session.ts'
import { NostrServerSession } from './server-session.ts'
import { useFastSigning } from './signing.ts'
import type { Tags } from './wire.ts'
import { isOpeningRequest, notificationTags, nowSeconds, paymentRequiredTags, responseTags, tagValue } from './wire.ts'

export interface NostrServeOptions {
  /** Relays to listen and answer on. Required unless `pool` is given. */
  relays?: string[] | undefined
  /** An open pool to use (not closed by `close()`); its relays are the server's. */
  pool?: RelayPool | undefined
  /** The server's secret key (hex, nsec or 32 bytes). Default: from `keyFile`, else a fresh one per run. */
  secretKey?: string | Uint8Array | undefined
  /** File that keeps the secret key (created with mode 0600 when missing), so the pubkey survives restarts. */
  keyFile?: string | undefined
  /** Server id (`d` tag of the initialize response, `s` tag clients target). Default: the server name as a slug. */
  serverId?: string | undefined
  /** Wire dialect. Default {@link DVMCP_DRAFT}. */
  profile?: NostrProfile | string | undefined
  /** NIP-59 encrypted requests: `optional` (default; answered encrypted), `required`, or `disabled`. */
  encryption?: EncryptionMode | undefined
  /** Only these client pubkeys (hex or npub) may call; others get `FORBIDDEN`. */
  allow?: string[] | undefined
  /** These client pubkeys (hex or npub) get `FORBIDDEN`. */
  block?: string[] | undefined
  /**
   * Largest `content` accepted, in UTF-8 bytes. Default 256 KiB. Relays cap whole messages too
   * (often 64–512 KiB on public relays; the embedded relay: 1 MiB); responses over the limit are
   * replaced by an error.
   */
  maxContentBytes?: number | undefined
  /**
   * Requests dated more than this many seconds before (or after) the server's clock are refused:
   * requests are stored by relays, so an old one may be a replay. Default 300.
   */
  replayWindowSeconds?: number | undefined
  /** Bound on a request, after which it is cancelled and answered with `TIMEOUT`. Default: none (tools have their own). */
  requestTimeoutMs?: number | undefined
  /** A client's session (its SDK server) is dropped after this long without traffic and nothing in flight. Default 10 min. */
  sessionIdleMs?: number | undefined
  /** Most client sessions kept at once; the longest idle is dropped first. Default 1000. */
  maxSessions?: number | undefined
  /** Key (at least 32 bytes) that signs multi round-trip `requestState`. Default: random per process. */
  requestStateKey?: string | Uint8Array | undefined
  logger?: Logger | undefined
  /** Closes the server when aborted. */
  signal?: AbortSignal | undefined
}

/** A server answering MCP requests on Nostr. */
export interface NostrServerHandle {
  /** The server's public key (hex), which clients address with `p`. */
  readonly pubkey: string
  /** The server id, in the `d` tag of the initialize response and the `s` tag of requests. */
  readonly serverId: string
  /** The relays it listens on (normalized URLs). */
  readonly relays: readonly string[]
  readonly profile: NostrProfile
  readonly encryption: EncryptionMode
  /** The pool it publishes through (e.g. for announcements). */
  readonly pool: RelayPool
  /** Client sessions (one per client pubkey) currently open. */
  readonly sessions: number
  /** Stops listening, lets in-flight requests finish (up to 2 s), closes sessions and connections. */
  close(): Promise<void>
}

/**
 * Serves a definition as a DVMCP server on Nostr relays: requests (kind 5910) addressed to this
 * key with `p` (and to this server with `s`) are answered with responses (6910) referencing the
 * request with `e`; notifications (21316) flow both ways. Every event's signature is checked,
 * duplicates are dropped by id, requests outside the replay window are refused, and the caller is
 * identified as `nostr:<pubkey>` for access rules and payments. Each client pubkey gets its own
 * SDK server; clients may call tools without `initialize`.
 *
 * @example
 * ```ts
 * const nostr = await serveNostr(server, { relays: ['ws://127.0.0.1:7777'], keyFile: '.agora/nostr.key' })
 * console.log(nostr.pubkey, nostr.serverId) // what clients need: nostr:<pubkey>/<serverId>?relay=…
 * await nostr.close()
 * ```
 */
export async function serveNostr(server: AgoraServer, options: NostrServeOptions): Promise<NostrServerHandle> {
  options.signal?.throwIfAborted()
  await useFastSigning()
  const keys = await resolveKeys(options)
  const pool = options.pool ?? createRelayPool({ relays: options.relays ?? [], logger: options.logger })
  const nostr = new NostrServer(server, options, keys.secretKey, keys.pubkey, pool)
  try {
    await nostr.start()
  } catch (err) {
    await nostr.close()
    throw err
  }
  return nostr
}

const DEFAULT_WINDOW_SECONDS = 300
/** Overlap when catching up after a relay drop (clock differences, events of the same second). */
const CATCH_UP_SLACK_SECONDS = 60

class NostrServer implements NostrServerHandle, SessionHost {
  readonly pubkey: string
  readonly serverId: string
  readonly profile: NostrProfile
  readonly encryption: EncryptionMode
  readonly pool: RelayPool
  readonly requestTimeoutMs: number | undefined
  readonly #def: AgoraServer
  readonly #secretKey: Uint8Array
  readonly #log: Logger
  readonly #ownsPool: boolean
  readonly #window: number
  readonly #maxBytes: number
  readonly #allow: Set<string> | undefined
  readonly #block: Set<string>
  readonly #sessionIdleMs: number
  readonly #maxSessions: number
  readonly #requestStateKey: string | Uint8Array | undefined
  readonly #inbox: Inbox
  readonly #sessions = new Map<string, NostrServerSession>()
  /** Ids of the events published this second (`#idsSecond`) and the second before. */
  #ids = new Set<string>()
  #idsBefore = new Set<string>()
  #idsSecond = 0
  /** Stored requests delivered before the subscription caught up: served only if not answered yet. */
  #backlog: [OpenedEvent, Event][] = []
  #backlogTimer: ReturnType<typeof setTimeout> | undefined
  #sweeper: ReturnType<typeof setInterval> | undefined
  #subscription: RelaySubscription | undefined
  #closing: Promise<void> | undefined

  constructor(def: AgoraServer, options: NostrServeOptions, secretKey: Uint8Array, pubkey: string, pool: RelayPool) {
    this.#def = def
    this.pubkey = pubkey
    this.#secretKey = secretKey
    this.pool = pool
    this.#ownsPool = options.pool === undefined
    this.profile = resolveProfile(options.profile)
    this.serverId = options.serverId ?? defaultServerId(def.info.name)
    if (this.serverId.length === 0) throw new AgoraError('CONFIG', 'the Nostr server id must not be empty')
    this.encryption = options.encryption ?? 'optional'
    if (!['disabled', 'optional', 'required'].includes(this.encryption)) {
      throw new AgoraError('CONFIG', `encryption must be disabled, optional or required, got ${JSON.stringify(this.encryption)}`)
    }
    this.#log = options.logger ?? createLogger({ component: `agora:${def.info.name}:nostr` })
    this.#window = options.replayWindowSeconds ?? DEFAULT_WINDOW_SECONDS
    this.#maxBytes = options.maxContentBytes ?? DEFAULT_MAX_CONTENT_BYTES
    this.#allow = options.allow ? new Set(options.allow.map(parsePublicKey)) : undefined
    this.#block = new Set((options.block ?? []).map(parsePublicKey))
    this.requestTimeoutMs = options.requestTimeoutMs
    this.#sessionIdleMs = options.sessionIdleMs ?? 10 * 60_000
    this.#maxSessions = options.maxSessions ?? 1000
    this.#requestStateKey = options.requestStateKey
    this.#inbox = createInbox({
      profile: this.profile,
      pubkey,
      secretKey,
      encryption: this.encryption,
      // Long enough to cover the replay window on both sides (and gift wraps' spread, which their inner date bounds).
      seenTtlMs: (2 * this.#window + CATCH_UP_SLACK_SECONDS) * 1000,
    })
    options.signal?.addEventListener('abort', () => void this.close(), { once: true })
  }

  get relays(): readonly string[] {
    return this.pool.relays
  }

  get sessions(): number {
    return this.#sessions.size
  }

  async start(): Promise<void> {
    const { request, notification } = this.profile.kinds
    const filters = (gap: { since: number | undefined }) =>
      this.#inbox.filters(
        [request, notification],
        gap.since === undefined ? nowSeconds() - this.#window : gap.since - CATCH_UP_SLACK_SECONDS,
      )
    this.#subscription = this.pool.subscribe(filters, {
      onevent: (event, info) => this.#onEvent(event, info),
      onrelay: (relay, state, reason) =>
        state === 'down'
          ? this.#log.warn('relay unreachable, retrying', { relay, reason })
          : this.#log.debug('listening on relay', { relay }),
    })
    await this.#subscription.ready
    this.#sweeper = setInterval(() => this.#sweep(), Math.min(60_000, Math.max(50, this.#sessionIdleMs / 2)))
    this.#sweeper.unref()
    this.#log.debug('serving MCP over Nostr', {
      pubkey: this.pubkey,
      serverId: this.serverId,
      relays: this.relays,
      profile: this.profile.id,
    })
  }

  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#subscription?.close()
      clearInterval(this.#sweeper)
      clearTimeout(this.#backlogTimer)
      const deadline = Date.now() + 2000
      while ([...this.#sessions.values()].some((s) => s.busy) && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 20))
      }
      await Promise.all([...this.#sessions.values()].map((s) => s.close().catch(() => {})))
      this.#sessions.clear()
      if (this.#ownsPool) this.pool.close()
    })()
    return this.#closing
  }

  // ---- inbound ---------------------------------------------------------------------------------

  #onEvent(event: Event, info: EventInfo): void {
    if (this.#closing) return
    const message = this.#inbox.admit(event, (reason) => this.#drop(event, reason))
    if (!message) return
    const { request, notification } = this.profile.kinds
    if (message.kind !== request && message.kind !== notification) {
      this.#drop(event, `unexpected kind ${message.kind}`)
      return
    }
    if (this.profile.serverIdTags) {
      const target = tagValue(message.tags, 's')
      if (target !== undefined && target !== this.serverId) {
        this.#drop(event, `for server ${JSON.stringify(target)}`)
        return
      }
    }
    // Stored requests from before we caught up may have been answered by an earlier run: check first.
    if (info.stored && !message.encrypted && message.kind === request && message.kind !== notification) {
      this.#backlog.push([message, event])
      clearTimeout(this.#backlogTimer)
      this.#backlogTimer = setTimeout(() => void this.#flushBacklog(), 25)
      return
    }
    this.#handle(message)
  }

  #handle(message: OpenedEvent): void {
    const decoded = decodeContent(message.content, this.#maxBytes)
    if (!decoded.ok) {
      this.#log.warn('refused a Nostr message', { client: message.pubkey, event: message.id, reason: decoded.reason })
      // The client correlates by `e`, so even a parse error (id null) reaches the right request.
      if (message.kind === this.profile.kinds.request || decoded.id !== null) {
        this.#refuse(message, decoded.id, decoded.code, decoded.reason)
      }
      return
    }
    const rpc = decoded.message
    if (!isRequest(rpc) && !isNotification(rpc)) {
      this.#drop(message, 'a response from a client (not supported)')
      return
    }
    const id = isRequest(rpc) ? rpc.id : null
    const method = (rpc as { method: string }).method
    const age = nowSeconds() - message.created_at
    if (Math.abs(age) > this.#window) {
      const why = age > 0 ? `${age} s old` : `dated ${-age} s in the future`
      this.#refuse(message, id, INVALID_REQUEST, `Invalid Request: the event is ${why}; the limit is ${this.#window} s`)
      return
    }
    if (this.profile.methodTag) {
      const tagged = tagValue(message.tags, 'method')
      if (tagged !== undefined && tagged !== method) {
        this.#refuse(message, id, INVALID_REQUEST, `Invalid Request: method tag "${tagged}" differs from "${method}"`)
        return
      }
    }
    if (this.encryption === 'required' && !message.encrypted) {
      const how = this.profile.encryption === 'cep4' ? 'CEP-4 gift-wrapped' : 'NIP-59 gift-wrapped'
      const err = new AgoraError('FORBIDDEN', `this server only accepts encrypted (${how}) messages`)
      this.#refuse(message, id, err.wireCode, err.message, err.toWireData())
      return
    }
    const client = message.pubkey
    if (this.#block.has(client) || (this.#allow !== undefined && !this.#allow.has(client))) {
      const why = this.#block.has(client) ? 'pubkey is blocked' : 'pubkey is not in the allowlist'
      const err = new AgoraError('FORBIDDEN', `Forbidden: ${why}`)
      this.#refuse(message, id, err.wireCode, err.message, err.toWireData())
      return
    }
    if (isRequest(rpc)) {
      const session = this.#session(client)
      if (!session) {
        const err = new AgoraError('RATE_LIMITED', 'the server has too many busy sessions; retry later')
        this.#refuse(message, id, err.wireCode, err.message, err.toWireData())
        return
      }
      session.request(rpc as JSONRPCRequest, { eventId: message.id, encrypted: message.encrypted, wrapKind: message.wrapKind })
      return
    }
    // Notifications only make sense for a live session (initialized, cancellations of its requests).
    this.#sessions.get(client)?.notification(rpc as JSONRPCNotification, { relatedEventId: tagValue(message.tags, 'e') })
  }

  async #flushBacklog(): Promise<void> {
    const batch = this.#backlog
    this.#backlog = []
    if (batch.length === 0 || this.#closing) return
    let answered = new Set<string>()
    try {
      const responses = await this.pool.query({
        kinds: [this.profile.kinds.response],
        authors: [this.pubkey],
        '#e': batch.map(([m]) => m.id),
      })
      answered = new Set(responses.map((r) => tagValue(r.tags, 'e')).filter((e): e is string => e !== undefined))
    } catch (err) {
      this.#log.warn('cannot check stored requests for earlier answers; serving them', { error: (err as Error).message })
    }
    for (const [message] of batch) {
      if (answered.has(message.id)) this.#drop(message, 'stored request already answered')
      else this.#handle(message)
    }
  }

  #session(client: string): NostrServerSession | undefined {
    let session = this.#sessions.get(client)
    if (session && !session.closed) return session
    if (this.#sessions.size >= this.#maxSessions && !this.#evictIdle()) return undefined
    session = new NostrServerSession(client, this)
    this.#sessions.set(client, session)
    const current = session
    session.onclose = () => {
      if (this.#sessions.get(client) === current) this.#sessions.delete(client)
    }
    session.onerror = (err) => this.#log.debug('Nostr session error', { client, error: err.message })
    // Both eras: the session's opening message pins a 2026-07-28 or a 2025 server for it.
    serveConnection(this.#def, session, { transport: 'nostr', logger: this.#log, requestStateKey: this.#requestStateKey })
    return session
  }

  /** Drops the longest-idle session with nothing in flight; false when every session is busy. */
  #evictIdle(): boolean {
    let oldest: NostrServerSession | undefined
    for (const s of this.#sessions.values()) if (!s.busy && (!oldest || s.lastActive < oldest.lastActive)) oldest = s
    if (!oldest) return false
    this.#sessions.delete(oldest.client)
    void oldest.close()
    return true
  }

  #sweep(): void {
    const cutoff = Date.now() - this.#sessionIdleMs
    for (const session of [...this.#sessions.values()]) {
      if (!session.busy && session.lastActive < cutoff) {
        this.#log.debug('dropping an idle Nostr session', { client: session.client })
        void session.close()
      }
    }
  }

  #drop(event: { id: string; kind: number; pubkey: string }, reason: string): void {
    this.#log.debug('ignored a Nostr event', { event: event.id, kind: event.kind, from: event.pubkey, reason })
  }

  /** Answers a refused request with a JSON-RPC error (notifications get no answer). */
  #refuse(message: OpenedEvent, id: string | number | null, code: number, reason: string, data?: unknown): void {
    if (message.kind !== this.profile.kinds.request) return
    const request = { eventId: message.id, encrypted: message.encrypted, wrapKind: message.wrapKind }
    // JSON drops `data` when undefined.
    this.#answerError(request, message.pubkey, id, { code, message: reason, data })
  }

  /** Publishes a JSON-RPC error answering the request event `request.eventId`; a failure is logged. */
  #answerError(
    request: Pick<InflightRequest, 'eventId' | 'encrypted' | 'wrapKind'>,
    client: string,
    id: string | number | null,
    error: { code: number; message: string; data?: unknown },
  ): void {
    const tags = responseTags(this.profile, {
      requestEventId: request.eventId,
      client,
      serverId: this.serverId,
      initialize: false,
    })
    const content = JSON.stringify({ jsonrpc: '2.0', id, error })
    this.#publish(this.profile.kinds.response, tags, content, client, request.encrypted, request.wrapKind).catch((err: Error) =>
      this.#log.warn('cannot publish an error answer', { event: request.eventId, error: err.message }),
    )
  }

  // ---- outbound (SessionHost) ------------------------------------------------------------------

  async respond(session: NostrServerSession, request: InflightRequest, message: JSONRPCMessage): Promise<void> {
    let content = JSON.stringify(message)
    if (content.length > this.#maxBytes && new TextEncoder().encode(content).length > this.#maxBytes) {
      const error = {
        code: -32603,
        message: `Internal error: the response exceeds the ${this.#maxBytes}-byte limit of this server`,
      }
      content = JSON.stringify({ jsonrpc: '2.0', id: request.clientId, error })
    }
    const tags = responseTags(this.profile, {
      requestEventId: request.eventId,
      client: session.client,
      serverId: this.serverId,
      initialize: isOpeningRequest(request.method) && 'result' in message,
    })
    if (isOpeningRequest(request.method)) tags.push(...capabilityTags(this.profile, this.encryption))
    await this.#publish(this.profile.kinds.response, tags, content, session.client, request.encrypted, request.wrapKind)
  }

  async notify(session: NostrServerSession, message: JSONRPCNotification, request: InflightRequest | undefined): Promise<void> {
    const tags = notificationTags(this.profile, {
      method: message.method,
      recipient: session.client,
      serverId: this.serverId,
      requestEventId: request?.eventId,
    })
    const encrypted = request?.encrypted ?? session.encrypted
    const wrapKind = request?.wrapKind ?? session.wrapKind
    await this.#publish(this.profile.kinds.notification, tags, JSON.stringify(message), session.client, encrypted, wrapKind)
  }

  async paymentRequired(session: NostrServerSession, request: InflightRequest, notice: PaymentNotice): Promise<void> {
    const tags = paymentRequiredTags(notice, request.eventId, session.client)
    await this.#publish(this.profile.kinds.notification, tags, '', session.client, request.encrypted, request.wrapKind)
  }

  timedOut(session: NostrServerSession, request: InflightRequest): void {
    const err = new AgoraError('TIMEOUT', `the server gave up on ${request.method} after ${this.requestTimeoutMs} ms`)
    this.#answerError(request, session.client, request.clientId, {
      code: err.wireCode,
      message: err.message,
      data: err.toWireData(),
    })
  }

  /** Signs and publishes; encrypted replies reuse the request's gift wrap kind (`wrapKind`). */
  async #publish(
    kind: number,
    tags: Tags,
    content: string,
    recipient: string,
    encrypt: boolean,
    wrapKind?: number,
  ): Promise<void> {
    const seal = encrypt || this.encryption === 'required'
    let template = { kind, tags, content, created_at: nowSeconds() }
    let sealed = sealMessage(this.profile, template, this.#secretKey, recipient, seal, wrapKind)
    // The same content and tags in the same second make the same event id, which relays and clients
    // drop as a duplicate (two `list_changed` in a row, say): date the later one a second on.
    while (this.#ids.has(sealed.id) || this.#idsBefore.has(sealed.id)) {
      template = { ...template, created_at: template.created_at + 1 }
      sealed = sealMessage(this.profile, template, this.#secretKey, recipient, seal, wrapKind)
    }
    this.#remember(sealed.id)
    await this.pool.publish(sealed.event)
  }

  /** Notes an event id just published: ids of this second and the one before are kept. */
  #remember(id: string): void {
    const second = nowSeconds()
    if (second !== this.#idsSecond) {
      this.#idsBefore = second === this.#idsSecond + 1 ? this.#ids : new Set()
      this.#ids = new Set()
      this.#idsSecond = second
    }
    this.#ids.add(id)
  }
}
