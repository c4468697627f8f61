/**
 * What the engine reads out of a stored charge: the receipt it returns, the replay of a settled
 * result, and which failed charges a retry of the same request may take over.
 */
import type { PaymentDecision } from '@agora/core'
import type { Result } from '@modelcontextprotocol/server'
import type { Charge } from '../ledger.ts'
import type { SettleOutcome } from '../rail.ts'
import { PAYMENT_RESPONSE_META_KEY } from './proof.ts'

/** `error` of a charge whose `verify` threw (facilitator down or slow): nothing moved. */
export const VERIFY_UNAVAILABLE = 'verify_unavailable'
/** `error` of a charge whose handler failed: nothing moved. */
export const RELEASED = 'released'

/**
 * True for a failed charge that never reached settlement (`verify` threw, or the handler failed):
 * the authorization is unused, so a retry of the same request may take the charge over.
 *
 * @example
 * ```ts
 * if (charge.status === 'failed' && retriable(charge)) await ledger.transition(charge.id, ['failed'], 'pending')
 * ```
 */
export function retriable(charge: Charge): boolean {
  const code = charge.error?.split(':', 1)[0]
  return charge.status === 'failed' && (code === VERIFY_UNAVAILABLE || code === RELEASED)
}

/**
 * The receipt of a settled charge, as `_meta["agora/receipt"]` carries it.
 *
 * @example
 * ```ts
 * const receipt = receiptOf(charge, await rail.settle(proof, requirements))
 * ```
 */
export function receiptOf(charge: Charge, settlement: SettleOutcome): Record<string, unknown> {
  return {
    chargeId: charge.id,
    resource: charge.resource,
    amount: charge.amount,
    asset: charge.asset,
    network: settlement.network,
    transaction: settlement.transaction,
    payer: settlement.payer,
    settlement,
  }
}

/**
 * The stored result of a settled charge, with its receipt and settlement in `_meta`, for a retry.
 *
 * @example
 * ```ts
 * if (charge.status === 'settled' && charge.requestKey === requestKey) return replay(charge)
 * ```
 */
export function replay(charge: Charge): PaymentDecision {
  const stored = charge.result as Result
  const receipt = charge.receipt as Record<string, unknown>
  const meta: Record<string, unknown> = {
    ...(stored._meta as Record<string, unknown> | undefined),
    'agora/receipt': receipt,
    [PAYMENT_RESPONSE_META_KEY]: receipt.settlement,
  }
  return { kind: 'replay', result: { ...stored, _meta: meta } }
}

/** The refusal for a proof another call is working on right now. */
export const BUSY = 'this payment authorization is being used by another request'

/**
 * Why a stored charge cannot pay for this call (the text after `invalid_transaction_state: `).
 *
 * @example
 * ```ts
 * return challenge(form, required(`invalid_transaction_state: ${refusal(existing)}`))
 * ```
 */
export function refusal(charge: Charge): string {
  if (charge.status === 'settled') return 'this payment authorization was already used for another request'
  if (charge.status === 'failed') return `this payment authorization failed earlier: ${charge.error ?? 'unknown'}`
  return BUSY
}
