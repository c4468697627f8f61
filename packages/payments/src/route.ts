/**
 * One server, several payment flows: a composite `PaymentGateway` that sends each priced call to
 * the gateway for its price's asset (Lightning for sats, x402 for USDC, …).
 */
import type { Invocation, PaymentDecision, PaymentGateway, PaymentsListResult, Price, SettleDecision } from '@agora/core'
import { AgoraError } from '@agora/core/errors'
import type { Result } from '@modelcontextprotocol/server'

/** One gateway and the prices it takes. */
export interface PaymentRoute {
  gateway: PaymentGateway
  /** Assets this gateway takes (case-insensitive). */
  assets?: readonly string[] | undefined
  /** Or any test of the price (and call). A route with neither takes every price. */
  accepts?: ((price: Price, inv: Invocation) => boolean) | undefined
}

interface Routed {
  gateway: PaymentGateway
  authorization: unknown
}

/**
 * A `PaymentGateway` that routes each priced call to the first route taking its price; a price no
 * route takes answers `PAYMENT_UNAVAILABLE`. `payments/list` merges every gateway's protocols.
 *
 * @example
 * ```ts
 * const payments = routePayments([
 *   { assets: ['sats', 'msat', 'BTC'], gateway: createLightningPayments({ ledger, wallet }) },
 *   { assets: ['USDC'], gateway: createPaymentEngine({ ledger, rails: [x402ExactRail(…)] }) },
 * ])
 * createServer({ name: 'shop', version: '1.0.0' }).payments(payments)
 *   .tool('zap', { price: '21 sats' }, () => 'zapped')
 *   .tool('forecast', { price: '0.01 USDC' }, () => 'sunny')
 * ```
 */
export function routePayments(routes: readonly PaymentRoute[]): PaymentGateway {
  if (routes.length === 0) throw new AgoraError('CONFIG', 'routePayments: give at least one route')
  const table = routes.map((r) => ({ ...r, assets: r.assets?.map((a) => a.toLowerCase()) }))

  function pick(inv: Invocation): PaymentGateway {
    const price = inv.price
    if (!price) throw new AgoraError('INTERNAL', 'authorize called without a price')
    const asset = price.asset.toLowerCase()
    const route = table.find((r) => {
      if (r.assets && !r.assets.includes(asset)) return false
      return r.accepts ? r.accepts(price, inv) : true
    })
    if (!route) {
      throw new AgoraError(
        'PAYMENT_UNAVAILABLE',
        `${inv.target?.resource ?? inv.name} costs ${price.amount} ${price.asset}, but this server takes no payment in ${price.asset}`,
        { data: { price } },
      )
    }
    return route.gateway
  }

  return {
    async authorize(inv, options): Promise<PaymentDecision> {
      const gateway = pick(inv)
      const decision = await gateway.authorize(inv, options)
      if (decision.kind !== 'authorized') return decision
      return { kind: 'authorized', authorization: { gateway, authorization: decision.authorization } satisfies Routed }
    },
    settle(authorization, result: Result, inv, options): Promise<SettleDecision> {
      const routed = authorization as Routed
      return routed.gateway.settle(routed.authorization, result, inv, options)
    },
    release(authorization, reason, inv, options) {
      const routed = authorization as Routed
      return routed.gateway.release(routed.authorization, reason, inv, options)
    },
    async paymentsList(): Promise<PaymentsListResult> {
      const merged: PaymentsListResult = { protocols: {} }
      for (const { gateway } of table) {
        const list = await gateway.paymentsList?.()
        if (!list) continue
        const { protocols, ...rest } = list
        for (const [name, entry] of Object.entries(protocols)) {
          const seen = merged.protocols[name]
          if (!seen) merged.protocols[name] = { ...entry, schemes: [...entry.schemes] }
          else for (const s of entry.schemes) if (!seen.schemes.includes(s)) seen.schemes.push(s)
        }
        for (const [key, value] of Object.entries(rest)) if (merged[key] === undefined) merged[key] = value
      }
      return merged
    },
  }
}
