import type { PaymentNotice } from '@agora/core'
import { AgoraError } from '@agora/core/errors'
import type { LightningPaymentHandler } from './handler.ts'

/** A payment request as a client transport hands it over, with where it came from. */
export type PayableNotice = PaymentNotice & {
  readonly target?: string | undefined
  readonly tool?: string | undefined
}

/**
 * Adapts a {@link LightningPaymentHandler} to the client's `onPaymentRequired` hook: pays the
 * notice's invoice (within the handler's budget) and resolves, or throws `PAYMENT_REQUIRED` with
 * the reason it declined, which fails the held call.
 *
 * @example
 * ```ts
 * const pay = lightningPaymentHandler({ wallet, budget: { maxPerCallSats: 100 } })
 * const client = await connect('nostr:<pubkey>/weather?relay=ws://127.0.0.1:7777', { onPaymentRequired: payNotices(pay) })
 * ```
 */
export function payNotices(
  handler: LightningPaymentHandler,
): (notice: PayableNotice, options?: { signal?: AbortSignal }) => Promise<void> {
  return async (notice, options = {}) => {
    const outcome = await handler(
      { amount: notice.amount, unit: notice.unit, invoice: notice.invoice, tool: notice.tool, target: notice.target },
      { signal: options.signal },
    )
    if (!outcome.paid) {
      throw new AgoraError('PAYMENT_REQUIRED', `not paid: ${outcome.reason}`, {
        data: { invoice: notice.invoice, amount: notice.amount, unit: notice.unit },
      })
    }
  }
}
