import type { Event } from '@nostr-relay/common'

/** How a relay keeps an event (NIP-01 kind ranges). */
export type Retention = 'regular' | 'replaceable' | 'ephemeral' | 'addressable'

/**
 * The NIP-01 storage class of a kind: regular events are kept, replaceable ones keep the newest per
 * author and kind, addressable ones the newest per author, kind and `d` tag, ephemeral ones are
 * only forwarded.
 *
 * @example
 * ```ts
 * retentionOf(5910)  // 'regular' (DVMCP draft requests are stored by relays)
 * retentionOf(21316) // 'ephemeral'
 * retentionOf(31316) // 'addressable'
 * ```
 */
export function retentionOf(kind: number): Retention {
  if (kind === 0 || kind === 3 || (kind >= 10_000 && kind < 20_000)) return 'replaceable'
  if (kind >= 20_000 && kind < 30_000) return 'ephemeral'
  if (kind >= 30_000 && kind < 40_000) return 'addressable'
  return 'regular'
}

/** The `d` tag value of an event (`''` when absent, as NIP-01 says). */
export function dTagOf(event: Event): string {
  return event.tags.find((t) => t[0] === 'd')?.[1] ?? ''
}

/** The key under which a relay keeps only the newest event, or undefined for regular events. */
export function slotOf(event: Event): string | undefined {
  switch (retentionOf(event.kind)) {
    case 'replaceable':
      return `${event.kind}:${event.pubkey}`
    case 'addressable':
      return `${event.kind}:${event.pubkey}:${dTagOf(event)}`
    default:
      return undefined
  }
}

/** NIP-01 tie-break: the newer event wins; on equal `created_at`, the lowest id wins. */
export function isNewer(candidate: Event, current: Event): boolean {
  if (candidate.created_at !== current.created_at) return candidate.created_at > current.created_at
  return candidate.id < current.id
}

/** True when a NIP-40 `expiration` tag lies in the past. */
export function isExpired(event: Event, nowSeconds = Math.floor(Date.now() / 1000)): boolean {
  const tag = event.tags.find((t) => t[0] === 'expiration')?.[1]
  if (tag === undefined) return false
  const at = Number.parseInt(tag, 10)
  return Number.isFinite(at) && at <= nowSeconds
}

/**
 * What a NIP-09 deletion request removes: the `e`-tagged event ids and the `a`-tagged addresses
 * (`<kind>:<pubkey>:<d>`), only for events of the deletion's own author.
 */
export function deletionTargets(deletion: Event): { ids: string[]; addresses: string[] } {
  const ids: string[] = []
  const addresses: string[] = []
  for (const [name, value] of deletion.tags) {
    if (name === 'e' && value) ids.push(value)
    if (name === 'a' && value && value.split(':')[1] === deletion.pubkey) addresses.push(value)
  }
  return { ids, addresses }
}
