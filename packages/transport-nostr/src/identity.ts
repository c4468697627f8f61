import type { Caller, PaymentNotice } from '@agora/core'
import { TRANSPORT_EXTRA_KEY } from '@agora/core'
import type { AuthInfo } from '@modelcontextprotocol/server'

/**
 * The caller a Nostr client is: `nostr:<hex pubkey>`, authenticated, because every request is a
 * signed event (or a gift wrap whose seal is signed). Access rules, rate limits and payments key
 * on `id`.
 *
 * @example
 * ```ts
 * nostrCaller('3bf0c63f…') // { id: 'nostr:3bf0c63f…', kind: 'nostr', authenticated: true, scopes: [] }
 * ```
 */
export function nostrCaller(pubkey: string): Caller {
  return Object.freeze({ id: `nostr:${pubkey}`, kind: 'nostr', authenticated: true, scopes: Object.freeze([]) })
}

/**
 * What the Nostr server transport hands the SDK with each message (`MessageExtraInfo.authInfo`):
 * an empty token and, under `agora/transport`, the transport kind, the client pubkey, its verified
 * {@link nostrCaller} identity and, for requests, `notifyPaymentRequired` (DVMCP's payment-required
 * notification for that request).
 *
 * @example
 * ```ts
 * transport.onmessage?.(message, { authInfo: nostrAuthInfo(event.pubkey, (notice) => publishNotice(event, notice)) })
 * ```
 */
export function nostrAuthInfo(
  pubkey: string,
  notifyPaymentRequired?: ((notice: PaymentNotice) => Promise<void>) | undefined,
): AuthInfo {
  const transport = Object.freeze({
    kind: 'nostr',
    remote: pubkey,
    identity: nostrCaller(pubkey),
    ...(notifyPaymentRequired ? { notifyPaymentRequired } : {}),
  })
  return Object.freeze({
    token: '',
    clientId: '',
    scopes: Object.freeze([]) as unknown as string[],
    extra: Object.freeze({ [TRANSPORT_EXTRA_KEY]: transport }),
  })
}
