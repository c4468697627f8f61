import type { Price } from '@agora/core'
import type { PaymentRail, PaymentRequirements } from '../rail.ts'

/**
 * What each price costs on each rail, computed once per distinct price: `requirements()` is
 * deterministic for a price, and a priced tool asks for the same price on every call.
 */
export function requirementsCache(rails: readonly PaymentRail[]) {
  const cache = new Map<string, Promise<{ rail: PaymentRail; req: PaymentRequirements }[]>>()
  return (price: Price) => {
    const key = `${price.amount} ${price.asset} ${price.network ?? ''}`
    let hit = cache.get(key)
    if (!hit) {
      hit = Promise.all(rails.map(async (rail) => (await rail.requirements(price)).map((req) => ({ rail, req })))).then((r) =>
        r.flat(),
      )
      hit.catch(() => cache.delete(key))
      cache.set(key, hit)
    }
    return hit
  }
}

/** True when the payer's `accepted` terms are exactly one of ours (no field may differ). */
export function sameRequirements(a: PaymentRequirements, b: PaymentRequirements): boolean {
  return (
    a.scheme === b.scheme &&
    a.network === b.network &&
    a.amount === b.amount &&
    a.asset.toLowerCase() === b.asset.toLowerCase() &&
    a.payTo.toLowerCase() === b.payTo.toLowerCase()
  )
}
