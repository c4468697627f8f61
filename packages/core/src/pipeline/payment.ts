import type { Result } from '@modelcontextprotocol/server'
import type { Price } from '../definition/price.ts'
import { isFree, resolvePrice } from '../definition/price.ts'
import { AgoraError } from '../errors.ts'
import type { Gate, Invocation, Next } from './invocation.ts'

/** The outcome of checking a caller's payment for a call. */
export type PaymentDecision =
  /** A proof was verified (and the charge persisted); run the handler, then settle. */
  | { readonly kind: 'authorized'; readonly authorization: unknown }
  /** This exact payment already settled before: return the stored result, charge nothing. */
  | { readonly kind: 'replay'; readonly result: Result }
  /**
   * Answer with this result without running the handler: a payment challenge in a result-based
   * wire form (x402's MCP binding `isError` result, or 2026-07-28 `resultType: "payment_required"`).
   * Error-based forms (SEP-2009's -32803) throw `PAYMENT_REQUIRED` instead.
   */
  | { readonly kind: 'challenge'; readonly result: Result }

/** The outcome of settling after the handler succeeded. */
export type SettleDecision =
  /** Money moved. `receipt` goes to `_meta["agora/receipt"]`; `meta` is merged into the result's `_meta`. */
  | { readonly kind: 'settled'; readonly receipt: Record<string, unknown>; readonly meta?: Record<string, unknown> }
  /**
   * Settlement failed and the gateway answers with this result instead of the handler's output
   * (which is withheld). Error-based wire forms throw instead.
   */
  | { readonly kind: 'failed'; readonly result: Result }

/** What `payments/list` answers (SEP-2009 §1.1). */
export interface PaymentsListResult {
  protocols: Record<string, { version: number; schemes: string[]; description?: string }>
  terms?: string
  privacy?: string
  [key: string]: unknown
}

/**
 * The seam between the pipeline and the payment engine (the `payments` package implements it).
 * `authorize` throws `PAYMENT_REQUIRED` carrying the challenge when no valid proof came with the
 * call; `settle` moves the money after the handler succeeded and returns the receipt; `release`
 * voids an authorization whose handler failed, so nothing is charged. `paymentsList`, when
 * present, answers SEP-2009's `payments/list`.
 */
export interface PaymentGateway {
  authorize(inv: Invocation, options: { signal: AbortSignal }): Promise<PaymentDecision>
  settle(authorization: unknown, result: Result, inv: Invocation, options: { signal: AbortSignal }): Promise<SettleDecision>
  release(authorization: unknown, reason: string, inv: Invocation, options: { signal: AbortSignal }): Promise<void>
  paymentsList?(): PaymentsListResult | Promise<PaymentsListResult>
}

/** The price stage: resolves the target's price for the validated arguments. */
export const priceGate: Gate = {
  name: 'price',
  handle(inv, next) {
    const spec = inv.target?.price
    if (spec !== undefined) inv.price = resolvePrice(spec as never, inv.args as never)
    return next()
  },
}

/**
 * The pay gate: verify before running, settle only after success, release on failure. Output
 * whose settlement failed is never returned: the settle error propagates instead. Free calls pass
 * straight through.
 */
export function payGate(gateway: PaymentGateway | undefined): Gate {
  return {
    name: 'pay',
    handle(inv, next) {
      if (!inv.price || isFree(inv.price)) return next()
      return pay(gateway, inv, inv.price, next)
    },
  }
}

async function pay(gateway: PaymentGateway | undefined, inv: Invocation, price: Price, next: Next): Promise<Result> {
  if (!gateway) {
    throw new AgoraError(
      'PAYMENT_UNAVAILABLE',
      `${inv.target?.resource ?? inv.name} costs ${price.amount} ${price.asset}, but this server has no payment rail configured`,
      { data: { price } },
    )
  }
  const options = { signal: inv.signal }
  const decision = await gateway.authorize(inv, options)
  if (decision.kind !== 'authorized') return decision.result
  let result: Result
  try {
    result = await next()
  } catch (err) {
    await gateway.release(decision.authorization, 'handler threw', inv, options)
    throw err
  }
  if ((result as { isError?: boolean }).isError) {
    await gateway.release(decision.authorization, 'handler returned an error', inv, options)
    return result
  }
  const settled = await gateway.settle(decision.authorization, result, inv, options)
  if (settled.kind === 'failed') return settled.result
  inv.receipt = settled.receipt
  if (settled.meta) inv.resultMeta = { ...inv.resultMeta, ...settled.meta }
  return result
}

/** `_meta` key of the receipt attached to a paid result. */
export const RECEIPT_META_KEY = 'agora/receipt'

/** The receipt stage: attaches the settlement receipt to the result's `_meta` (priced calls only). */
export const receiptGate: Gate = {
  name: 'receipt',
  handle(inv, next) {
    if (!inv.price) return next()
    return next().then((result) => {
      if (!inv.receipt) return result
      const meta = {
        ...(result._meta as Record<string, unknown> | undefined),
        ...inv.resultMeta,
        [RECEIPT_META_KEY]: inv.receipt,
      }
      return { ...result, _meta: meta }
    })
  },
}
