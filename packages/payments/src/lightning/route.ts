import type { PaymentGateway } from '@agora/core'
import type { PaymentRoute } from '../route.ts'
import { isLightningAsset } from './price.ts'

/**
 * The `routePayments` route that sends prices in sats, msat or BTC to a Lightning gateway, so one
 * server can take Lightning next to x402.
 *
 * @example
 * ```ts
 * server.payments(routePayments([lightningRoute(ln.gateway), { gateway: x402Engine }]))
 * ```
 */
export function lightningRoute(gateway: PaymentGateway): PaymentRoute {
  return { gateway, accepts: (price) => isLightningAsset(price.asset) }
}
