import type { PaymentNotice } from '@agora/core'
import type { NostrProfile } from './profile.ts'

/** A tag list, as on a Nostr event. */
export type Tags = string[][]

/**
 * The first value of tag `name` (`undefined` when absent).
 *
 * @example
 * ```ts
 * tagValue(event.tags, 'e') // the request event id on a response
 * ```
 */
export function tagValue(tags: readonly (readonly string[])[], name: string): string | undefined {
  for (const tag of tags) if (tag[0] === name) return tag[1]
  return undefined
}

/** True when some `p` tag names `pubkey`. */
export function addresses(tags: readonly (readonly string[])[], pubkey: string): boolean {
  for (const tag of tags) if (tag[0] === 'p' && tag[1] === pubkey) return true
  return false
}

/** Unix time in seconds. */
export const nowSeconds = (): number => Math.floor(Date.now() / 1000)

/**
 * Tags of a client request: `method`, `p` = server pubkey, `s` = server id (when known), as the
 * profile asks.
 *
 * @example
 * ```ts
 * requestTags(DVMCP_DRAFT, { method: 'tools/list', server: pk, serverId: 'weather' })
 * // [['method', 'tools/list'], ['p', pk], ['s', 'weather']]
 * ```
 */
export function requestTags(profile: NostrProfile, to: { method: string; server: string; serverId?: string | undefined }): Tags {
  const tags: Tags = []
  if (profile.methodTag) tags.push(['method', to.method])
  tags.push(['p', to.server])
  if (profile.serverIdTags && to.serverId !== undefined) tags.push(['s', to.serverId])
  return tags
}

/**
 * Whether a request opens an MCP session: `initialize` (2025 revisions) or `server/discover`
 * (2026-07-28). Its response carries the server id (`d`) and the server's capability tags.
 *
 * @example
 * ```ts
 * isOpeningRequest('server/discover') // true
 * ```
 */
export function isOpeningRequest(method: string): boolean {
  return method === 'initialize' || method === 'server/discover'
}

/**
 * Tags of a server response: `e` = request event id, `p` = client pubkey (an addition to the
 * draft, so clients can subscribe with `#p`), and `d` = server id on the response to an opening
 * request ({@link isOpeningRequest}).
 *
 * @example
 * ```ts
 * responseTags(DVMCP_DRAFT, { requestEventId: id, client: pk, serverId: 'weather', initialize: true })
 * // [['e', id], ['p', pk], ['d', 'weather']]
 * ```
 */
export function responseTags(
  profile: NostrProfile,
  to: { requestEventId: string; client: string; serverId: string; initialize: boolean },
): Tags {
  const tags: Tags = [
    ['e', to.requestEventId],
    ['p', to.client],
  ]
  if (profile.serverIdTags && to.initialize) tags.push(['d', to.serverId])
  return tags
}

/**
 * Tags of a notification: `p` = recipient, `s` = server id, `method`, and `e` = the request it is
 * about (progress, cancellation).
 *
 * @example
 * ```ts
 * notificationTags(DVMCP_DRAFT, { method: 'notifications/progress', recipient: client, serverId: 'weather', requestEventId: id })
 * ```
 */
export function notificationTags(
  profile: NostrProfile,
  to: { method: string; recipient: string; serverId?: string | undefined; requestEventId?: string | undefined },
): Tags {
  const tags: Tags = [['p', to.recipient]]
  if (profile.serverIdTags && to.serverId !== undefined) tags.push(['s', to.serverId])
  if (profile.methodTag) tags.push(['method', to.method])
  if (to.requestEventId !== undefined) tags.push(['e', to.requestEventId])
  return tags
}

/**
 * Tags of DVMCP's payment-required notification (content is empty): `status`, `amount` = [sats,
 * bolt11], `e` = request event id, `expiration` when known, plus `p` = client so it can be
 * subscribed to. A unit other than sats is added as a `unit` tag.
 *
 * @example
 * ```ts
 * paymentRequiredTags({ amount: '10', unit: 'sats', invoice: 'lnbc…', expiresAt: 1700000600 }, id, client)
 * // [['status', 'payment-required'], ['amount', '10', 'lnbc…'], ['e', id], ['expiration', '1700000600'], ['p', client]]
 * ```
 */
export function paymentRequiredTags(notice: PaymentNotice, requestEventId: string, client: string): Tags {
  const tags: Tags = [
    ['status', 'payment-required'],
    ['amount', notice.amount, notice.invoice],
    ['e', requestEventId],
  ]
  if (notice.expiresAt !== undefined) tags.push(['expiration', String(Math.floor(notice.expiresAt))])
  tags.push(['p', client])
  if (notice.unit !== 'sats' && notice.unit !== 'sat') tags.push(['unit', notice.unit])
  return tags
}

/**
 * The payment request in a payment-required notification, or undefined when the tags are not one.
 *
 * @example
 * ```ts
 * const notice = readPaymentRequired(event.tags) // { amount: '10', unit: 'sats', invoice: 'lnbc…', expiresAt }
 * ```
 */
export function readPaymentRequired(tags: readonly (readonly string[])[]): PaymentNotice | undefined {
  if (tagValue(tags, 'status') !== 'payment-required') return undefined
  const amount = tags.find((t) => t[0] === 'amount')
  if (!amount || typeof amount[1] !== 'string' || typeof amount[2] !== 'string') return undefined
  const expiration = Number.parseInt(tagValue(tags, 'expiration') ?? '', 10)
  return {
    amount: amount[1],
    unit: tagValue(tags, 'unit') ?? 'sats',
    invoice: amount[2],
    expiresAt: Number.isFinite(expiration) ? expiration : undefined,
  }
}
