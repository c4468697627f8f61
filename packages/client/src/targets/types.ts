import type { PaymentNotice } from '@agora/core'
import type { Transport } from '@modelcontextprotocol/client'

/** A Streamable HTTP endpoint, e.g. `http://127.0.0.1:3000/mcp`. */
export interface HttpTarget {
  readonly kind: 'http'
  /** The endpoint URL, normalized (`new URL(text).href`). */
  readonly url: string
}

/** A local server started as a child process that speaks MCP on its stdin/stdout. */
export interface StdioTarget {
  readonly kind: 'stdio'
  readonly command: string
  readonly args: readonly string[]
}

/** An MCP-over-libp2p server: a multiaddr ending in `/p2p/<PeerId>`. */
export interface P2pTarget {
  readonly kind: 'p2p'
  /** The multiaddr, `/p2p/<PeerId>` included, e.g. `/ip4/127.0.0.1/tcp/4001/p2p/12D3KooW…`. */
  readonly multiaddr: string
  /** The PeerId the multiaddr names (Noise checks the peer really is it). */
  readonly peerId: string
}

/** A DVMCP server on Nostr: its pubkey, optionally a server id, and the relays it listens on. */
export interface NostrTarget {
  readonly kind: 'nostr'
  /** The server's public key as written (64 hex characters or `npub1…`). */
  readonly pubkey: string
  /** The server id (`s` tag) when the key runs several servers; else learnt at initialize. */
  readonly serverId?: string | undefined
  /** Relay URLs (`ws://` or `wss://`), at least one. */
  readonly relays: readonly string[]
  /** The wire dialect (`?profile=contextvm`); default the DVMCP draft. */
  readonly profile?: string | undefined
}

/**
 * Every kind of target, keyed by `kind`. Packages that add a transport extend it by declaration
 * merging, then register a {@link TargetScheme} for it:
 *
 * @example
 * ```ts
 * declare module '@agora/client' {
 *   interface TargetKinds { nostr: { kind: 'nostr'; pubkey: string } }
 * }
 * ```
 */
export interface TargetKinds {
  http: HttpTarget
  stdio: StdioTarget
  p2p: P2pTarget
  nostr: NostrTarget
}

/** A parsed target: where a server is and how to reach it. */
export type Target = TargetKinds[keyof TargetKinds]

/** What a scheme needs to open a transport; a subset of the `connect()` options. */
export interface TransportOptions {
  /** Extra HTTP headers (ignored by transports without headers). */
  readonly headers?: Readonly<Record<string, string>> | undefined
  /**
   * An API key. Schemes with headers send it as `Authorization: Bearer <key>`; others return it
   * in {@link OpenedTransport.meta} so it travels as `_meta["agora/api-key"]`.
   */
  readonly apiKey?: string | undefined
  /** Extra environment variables for a spawned server (stdio). */
  readonly env?: Readonly<Record<string, string>> | undefined
  /**
   * Pays a payment request the server sends while it holds a call (Nostr's `payment-required`
   * notification); schemes without out-of-band payment requests ignore it.
   */
  readonly onPaymentRequired?: PaymentNoticeHandler | undefined
  readonly signal?: AbortSignal | undefined
}

/**
 * Handles a payment request a server sent while holding a call (hold-until-paid flows). Resolve
 * once paid (the server then runs the call); throw to decline (the call then fails).
 */
export type PaymentNoticeHandler = (
  notice: PaymentNotice & { readonly target: string; readonly tool?: string | undefined },
) => Promise<void>

/** An opened transport plus anything the scheme knows that helps explain a failure. */
export interface OpenedTransport {
  readonly transport: Transport
  /** `_meta` entries to add to every request (credentials on transports without headers). */
  readonly meta?: Readonly<Record<string, unknown>> | undefined
  /** Called after the SDK closed the transport: release anything left (e.g. a child process). */
  dispose?(): Promise<void>
  /** Extra words for a connection error, e.g. the last line a child process wrote to stderr. */
  diagnose?(): string | undefined
}

/**
 * One way of reaching a server, selected by the target's prefix (`http://`, `stdio:`, …).
 * `parse` turns text into a target (throwing `AgoraError('TARGET')` when malformed) and `open`
 * creates the SDK transport for it, not yet started.
 */
export interface TargetScheme<K extends keyof TargetKinds = keyof TargetKinds> {
  readonly kind: K
  /** Prefixes this scheme claims, lower case, e.g. `['http://', 'https://']`. */
  readonly prefixes: readonly string[]
  /** The accepted form, for help and error messages, e.g. `stdio:<command line>`. */
  readonly usage: string
  parse(text: string): TargetKinds[K]
  /** The target as text again, for messages (the inverse of `parse`). */
  format(target: TargetKinds[K]): string
  open(target: TargetKinds[K], options: TransportOptions): OpenedTransport | Promise<OpenedTransport>
}
