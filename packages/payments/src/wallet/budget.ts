import { AgoraError } from '@agora/core/errors'
import { fromAtomicUnits, toAtomicUnits } from '../amount.ts'

/**
 * How much a wallet may pay, in whole units of the asset paid (decimal strings such as `"0.05"`,
 * compared exactly). Unset limits do not apply. Totals add up payments in the same asset on the
 * same network, as the payment record has them.
 */
export interface BudgetPolicy {
  /** The most one call may cost. */
  maxPerCall?: string | undefined
  /** The most paid to one server (target) in any 24 hours. */
  maxPerServerPerDay?: string | undefined
  /** The most paid ever, as far as the payment record knows. */
  maxTotal?: string | undefined
}

/** What a budget decision looks at: one price and what was already spent, all in atomic units. */
export interface BudgetQuestion {
  tool: string
  target: string
  price: bigint
  decimals: number
  symbol: string
  /** Already paid to this target in the last 24 hours. */
  spentOnServerToday: bigint
  /** Already paid in total. */
  spentTotal: bigint
}

/** The longest a limit may be written, in fractional digits. */
const MAX_SCALE = 36

/**
 * Checks a policy's limits are decimal amounts; throws `CONFIG` naming the bad one.
 *
 * @example
 * ```ts
 * checkBudgetPolicy({ maxPerCall: '0.05' })   // ok
 * checkBudgetPolicy({ maxPerCall: '5 cents' }) // throws CONFIG
 * ```
 */
export function checkBudgetPolicy(policy: BudgetPolicy): void {
  for (const [name, value] of Object.entries(policy)) {
    if (value === undefined) continue
    try {
      toAtomicUnits(String(value), MAX_SCALE, 'CONFIG')
    } catch (err) {
      throw new AgoraError('CONFIG', `budget ${name}: ${(err as Error).message}`, { cause: err })
    }
  }
}

/** True when `atomic` (with `decimals`) is more than the decimal `limit`, exactly. */
function exceeds(atomic: bigint, decimals: number, text: string): boolean {
  const limit = text.trim()
  const fraction = limit.split('.')[1]?.length ?? 0
  const scale = Math.max(decimals, fraction)
  return atomic * 10n ** BigInt(scale - decimals) > toAtomicUnits(limit, scale, 'CONFIG')
}

/**
 * Why a payment would break the budget, or undefined when it fits. The reason names the limit,
 * the price and what was already spent.
 *
 * @example
 * ```ts
 * budgetRefusal({ maxPerCall: '0.001' }, { tool: 'forecast', target, price: 10000n, decimals: 6, symbol: 'USDC',
 *   spentOnServerToday: 0n, spentTotal: 0n })
 * // 'forecast costs 0.01 USDC, over the per-call limit of 0.001 USDC'
 * ```
 */
export function budgetRefusal(policy: BudgetPolicy, q: BudgetQuestion): string | undefined {
  const show = (atomic: bigint) => `${fromAtomicUnits(atomic, q.decimals)} ${q.symbol}`
  const costs = `${q.tool} costs ${show(q.price)}`
  if (policy.maxPerCall !== undefined && exceeds(q.price, q.decimals, policy.maxPerCall)) {
    return `${costs}, over the per-call limit of ${policy.maxPerCall} ${q.symbol}`
  }
  if (policy.maxPerServerPerDay !== undefined && exceeds(q.spentOnServerToday + q.price, q.decimals, policy.maxPerServerPerDay)) {
    return `${costs}; with ${show(q.spentOnServerToday)} already paid to ${q.target} in the last 24 hours, that is over the limit of ${policy.maxPerServerPerDay} ${q.symbol} per server per day`
  }
  if (policy.maxTotal !== undefined && exceeds(q.spentTotal + q.price, q.decimals, policy.maxTotal)) {
    return `${costs}; with ${show(q.spentTotal)} already paid in total, that is over the total limit of ${policy.maxTotal} ${q.symbol}`
  }
  return undefined
}
