import { AgoraError } from '../errors.ts'

/**
 * What a call costs. `amount` is a decimal string in whole units of `asset` (`"0.01"` USDC is one
 * cent); rails convert to atomic units. `network` is a CAIP-2 id when the price is bound to one.
 */
export interface Price {
  readonly amount: string
  readonly asset: string
  readonly network?: string | undefined
  readonly description?: string | undefined
}

/** A fixed price, a shorthand like `"0.01 USDC"`, or a function of the call's arguments. */
export type PriceSpec<Args = Record<string, unknown>> = Price | string | ((args: Args) => Price | string)

const DECIMAL = /^(0|[1-9]\d*)(\.\d+)?$/

/**
 * Parses and checks a price. Throws `CONFIG` for a malformed one, so a bad price fails at
 * definition time, never at call time.
 *
 * @example
 * ```ts
 * parsePrice('0.01 USDC') // { amount: '0.01', asset: 'USDC' }
 * ```
 */
export function parsePrice(spec: Price | string): Price {
  const price: Price = typeof spec === 'string' ? fromShorthand(spec) : spec
  if (typeof price.amount !== 'string' || !DECIMAL.test(price.amount)) {
    throw new AgoraError('CONFIG', `price amount must be a non-negative decimal string, got ${JSON.stringify(price.amount)}`)
  }
  if (typeof price.asset !== 'string' || price.asset.length === 0) {
    throw new AgoraError('CONFIG', 'price asset must be a non-empty string')
  }
  return price
}

function fromShorthand(text: string): Price {
  const [amount, asset, ...rest] = text.trim().split(/\s+/)
  if (!amount || !asset || rest.length > 0) {
    throw new AgoraError('CONFIG', `price shorthand must look like "0.01 USDC", got ${JSON.stringify(text)}`)
  }
  return { amount: amount.replace(/^\$/, ''), asset }
}

/** True when the price is zero (a free call even though a price was given). */
export function isFree(price: Price): boolean {
  return Number(price.amount) === 0
}

/** Resolves a price spec for concrete arguments. */
export function resolvePrice<Args>(spec: PriceSpec<Args> | undefined, args: Args): Price | undefined {
  if (spec === undefined) return undefined
  return parsePrice(typeof spec === 'function' ? spec(args) : spec)
}

/** The `_meta["agora/price"]` a tool carries in `tools/list` and in the descriptor. */
export function describePrice(spec: PriceSpec<never> | undefined): Record<string, unknown> | undefined {
  if (spec === undefined) return undefined
  if (typeof spec === 'function') return { dynamic: true }
  const p = parsePrice(spec)
  return { amount: p.amount, asset: p.asset, ...(p.network ? { network: p.network } : {}) }
}
