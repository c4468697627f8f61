import type { AuthInfo } from '@modelcontextprotocol/server'

/** How a transport reached the server, and what it knows about the other end. */
export interface TransportInfo {
  /** `http`, `stdio`, `memory`, `libp2p`, `nostr`, … */
  readonly kind: string
  /** HTTP request headers, when the transport is HTTP. */
  readonly headers?: Headers | undefined
  /** Remote address (IP for HTTP, PeerId for libp2p, pubkey for Nostr). */
  readonly remote?: string | undefined
  /** Authentication already established by the transport or an HTTP middleware. */
  readonly authInfo?: AuthInfo | undefined
  /**
   * An identity the transport itself verified (a libp2p PeerId proven by the Noise handshake, a
   * Nostr pubkey proven by an event signature). Becomes the caller unless an authenticator finds
   * a credential.
   */
  readonly identity?: Caller | undefined
  /**
   * Present on transports that can carry a payment request out of band while the call waits (Nostr:
   * DVMCP's `payment-required` notification). A hold-until-paid payment flow calls it once per call
   * with the invoice, then waits for the payment instead of answering with a challenge.
   */
  readonly notifyPaymentRequired?: ((notice: PaymentNotice) => Promise<void>) | undefined
}

/** A payment request delivered to the caller while its call waits (hold-until-paid flows). */
export interface PaymentNotice {
  /** Amount in `unit`, as a decimal string (e.g. `"10"`). */
  readonly amount: string
  /** Unit of `amount`: `sats` for Lightning. */
  readonly unit: string
  /** What to pay: a BOLT11 invoice for Lightning. */
  readonly invoice: string
  /** When the request stops being payable (Unix seconds). */
  readonly expiresAt?: number | undefined
}

/**
 * The caller of a request, as established by the authenticate gate. Access rules, rate limits and
 * payments key on `id`.
 */
export interface Caller {
  /** Stable identifier: `key:<name>`, `peer:<PeerId>`, `nostr:<pubkey>`, `ip:<address>`, `local`. */
  readonly id: string
  /** How the identity was established: `api-key`, `oauth`, `peer`, `nostr`, `did`, `local`, `anonymous`. */
  readonly kind: string
  /** True when a credential was verified (not merely observed). */
  readonly authenticated: boolean
  /** Scopes or roles granted to this caller. */
  readonly scopes: readonly string[]
  /** Anything else an authenticator wants to attach (display name, tenant, …). */
  readonly attributes?: Readonly<Record<string, unknown>> | undefined
}

/**
 * Key under `AuthInfo.extra` where transports put what they know about the peer:
 * `{ kind, remote?, identity?: Caller, signal?: AbortSignal }`. Transports hand it to the SDK as
 * `MessageExtraInfo.authInfo` with an empty token (it is not a bearer credential).
 */
export const TRANSPORT_EXTRA_KEY = 'agora/transport'

const LOCAL_CALLER: Caller = Object.freeze({ id: 'local', kind: 'local', authenticated: false, scopes: Object.freeze([]) })

/** The identity a caller has when no authenticator recognised a credential. */
export function anonymousCaller(transport: TransportInfo): Caller {
  if (transport.identity) return transport.identity
  if (transport.kind === 'stdio' || transport.kind === 'memory') return LOCAL_CALLER
  const remote = transport.remote ?? 'unknown'
  const prefix = transport.kind === 'http' ? 'ip' : transport.kind
  return { id: `${prefix}:${remote}`, kind: 'anonymous', authenticated: false, scopes: [] }
}
