import type { Price } from '@agora/core'
import { AgoraError } from '@agora/core/errors'
import { toAtomicUnits } from '../amount.ts'

/** Converts a price in another asset to whole satoshis (e.g. at an exchange rate). */
export type ToSats = (price: Price) => number | bigint | string

/** Assets Lightning prices are written in, lower-cased, with their decimals relative to a satoshi. */
const SAT_ASSETS: Readonly<Record<string, number>> = { sats: 0, sat: 0, btc: 8 }

/**
 * True when a price is in an asset Lightning takes directly: `sats`/`sat`, `msat` or `BTC`
 * (case-insensitive).
 *
 * @example
 * ```ts
 * isLightningAsset('sats') // true
 * isLightningAsset('USDC') // false
 * ```
 */
export function isLightningAsset(asset: string): boolean {
  const a = asset.toLowerCase()
  return a in SAT_ASSETS || a === 'msat'
}

/**
 * A price in whole satoshis. `sats`, `msat` and `BTC` convert exactly; any other asset goes
 * through `toSats`, and without it throws `CONFIG` naming the asset. Lightning charges are whole
 * satoshis (DVMCP announces and requests amounts in sats), so a price that is not a whole number
 * of sats throws `CONFIG` too.
 *
 * @example
 * ```ts
 * priceInSats({ amount: '10', asset: 'sats' })        // 10n
 * priceInSats({ amount: '0.00000021', asset: 'BTC' }) // 21n
 * priceInSats({ amount: '0.01', asset: 'USD' }, (p) => Math.round(Number(p.amount) * 1500)) // 15n
 * ```
 */
export function priceInSats(price: Price, toSats?: ToSats): bigint {
  const asset = price.asset.toLowerCase()
  const where = `the price ${price.amount} ${price.asset}`
  let sats: bigint
  if (asset in SAT_ASSETS) {
    sats = toAtomicUnits(price.amount, SAT_ASSETS[asset] ?? 0, 'CONFIG')
  } else if (asset === 'msat') {
    const msat = toAtomicUnits(price.amount, 0, 'CONFIG')
    if (msat % 1000n !== 0n) throw new AgoraError('CONFIG', `${where} is not a whole number of sats`)
    sats = msat / 1000n
  } else if (toSats) {
    const out = toSats(price)
    try {
      sats = typeof out === 'bigint' ? out : toAtomicUnits(String(out), 0, 'CONFIG')
    } catch (err) {
      throw new AgoraError('CONFIG', `toSats(${where}) must give a whole number of sats, got ${String(out)}`, { cause: err })
    }
  } else {
    throw new AgoraError(
      'CONFIG',
      `Lightning cannot charge ${where}: the asset "${price.asset}" is not sats, msat or BTC; give createLightningPayments a toSats conversion`,
      { data: { asset: price.asset } },
    )
  }
  if (sats <= 0n) throw new AgoraError('CONFIG', `${where} is less than one sat`)
  if (sats * 1000n > BigInt(Number.MAX_SAFE_INTEGER)) throw new AgoraError('CONFIG', `${where} is too large`)
  return sats
}
