import { AgoraError } from '@agora/core/errors'
import { preimageMatches } from './invoice.ts'
import type { LightningWallet } from './wallet.ts'

const MAX_TIMER_MS = 2 ** 31 - 1

/** How waiting for an invoice ended. */
export type SettlementOutcome = { state: 'settled'; preimage: string; settledAt: number } | { state: 'expired' }

export interface AwaitSettlementOptions {
  signal?: AbortSignal | undefined
  /**
   * How often to ask the wallet (`lookupInvoice`). Default 1000 ms for a wallet that cannot push
   * payments, 5000 ms (a safety net for a lost notification) for one that can.
   */
  pollIntervalMs?: number | undefined
  /** Ask the wallet right away too (for an invoice that may have been paid before the wait began). */
  checkNow?: boolean | undefined
}

/**
 * Waits until the wallet has received payment for an invoice it issued (checking that the
 * preimage hashes to the payment hash) or the invoice expires. Listens to the wallet's
 * `onPaymentReceived` when it has one and polls `lookupInvoice` besides; asks once more at expiry,
 * so a payment landing at the last moment is not missed. Rejects `CANCELLED` when `signal` aborts.
 *
 * @example
 * ```ts
 * const out = await awaitSettlement(wallet, invoice, { signal })
 * if (out.state === 'settled') console.log('paid, preimage', out.preimage)
 * ```
 */
export function awaitSettlement(
  wallet: LightningWallet,
  target: { paymentHash: string; expiresAt: number },
  options: AwaitSettlementOptions = {},
): Promise<SettlementOutcome> {
  const { signal } = options
  const { paymentHash } = target
  return new Promise<SettlementOutcome>((resolve, reject) => {
    if (signal?.aborted)
      return reject(new AgoraError('CANCELLED', 'waiting for the payment was cancelled', { cause: signal.reason }))
    let done = false
    let poller: ReturnType<typeof setInterval> | undefined
    let expiry: ReturnType<typeof setTimeout> | undefined
    let unsubscribe = () => {}
    const finish = (outcome: SettlementOutcome | Error) => {
      if (done) return
      done = true
      clearTimeout(expiry)
      clearInterval(poller)
      unsubscribe()
      signal?.removeEventListener('abort', onAbort)
      if (outcome instanceof Error) reject(outcome)
      else resolve(outcome)
    }
    const onAbort = () => finish(new AgoraError('CANCELLED', 'waiting for the payment was cancelled', { cause: signal?.reason }))
    signal?.addEventListener('abort', onAbort, { once: true })

    const settled = (preimage: unknown, settledAt: number | undefined) => {
      if (typeof preimage === 'string' && preimageMatches(preimage, paymentHash)) {
        finish({ state: 'settled', preimage, settledAt: settledAt ?? Math.floor(Date.now() / 1000) })
        return true
      }
      return false
    }
    const check = async (final: boolean) => {
      if (done) return
      try {
        const status = await wallet.lookupInvoice({ paymentHash })
        if (status.state === 'settled' && settled(status.preimage, status.settledAt)) return
        if (final || status.state === 'expired') finish({ state: 'expired' })
      } catch (err) {
        // A lookup that fails mid-wait is retried at the next poll; the one at expiry decides.
        if (final) finish(err instanceof Error ? err : new Error(String(err)))
      }
    }

    if (wallet.onPaymentReceived) {
      unsubscribe = wallet.onPaymentReceived((p) => {
        if (p.paymentHash === paymentHash) settled(p.preimage, p.settledAt)
      })
    }
    const every = options.pollIntervalMs ?? (wallet.onPaymentReceived ? 5000 : 1000)
    poller = setInterval(() => void check(false), every)
    if (options.checkNow) void check(false)
    // setTimeout fires at once beyond 2^31-1 ms: re-arm until the expiry is within reach.
    const arm = () => {
      const ms = target.expiresAt * 1000 - Date.now()
      expiry = ms > MAX_TIMER_MS ? setTimeout(arm, MAX_TIMER_MS) : setTimeout(() => void check(true), Math.max(0, ms))
    }
    arm()
  })
}
