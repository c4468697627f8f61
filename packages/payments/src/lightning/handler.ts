/**
 * The paying client's side of the hold-until-paid flow: decides whether to pay a payment request
 * (a BOLT11 invoice the server sent while holding a call) and pays it from a Lightning wallet.
 * Transport-agnostic: the Nostr client transport calls it on DVMCP's `payment-required`
 * notification; an HTTP client can call it with a `PAYMENT_REQUIRED` error's `paymentInfo`.
 */
import type { PaymentNotice } from '@agora/core'
import { AgoraError } from '@agora/core/errors'
import { fromAtomicUnits, toAtomicUnits } from '../amount.ts'
import type { PaymentEntry, PaymentRecord } from '../wallet/record.ts'
import type { DecodedInvoice } from './invoice.ts'
import { decodeInvoice } from './invoice.ts'
import type { LightningWallet } from './wallet.ts'

/** Spending limits in whole sats (numbers, bigints or decimal strings). Unset limits do not apply. */
export interface LightningBudget {
  /** The most one call may cost. */
  maxPerCallSats?: number | bigint | string | undefined
  /**
   * The most this handler may pay in total; with a `record`, everything the record holds for
   * the network counts too.
   */
  maxTotalSats?: number | bigint | string | undefined
}

export interface LightningPaymentHandlerOptions {
  /** Who pays. */
  wallet: LightningWallet
  budget?: LightningBudget | undefined
  /**
   * Where payments are recorded (`asset` `sats`, `atomic` in millisatoshis, `id` the payment
   * hash), and what `maxTotalSats` is checked against. Default: no record, totals kept in memory.
   */
  record?: PaymentRecord | undefined
}

/** A payment request, with where it came from when the transport knows. */
export type LightningPaymentRequest = PaymentNotice & {
  /** The server, as a target string (for the record and budget messages). */
  target?: string | undefined
  tool?: string | undefined
}

export type LightningPaymentOutcome = { paid: true; preimage: string; paymentHash: string } | { paid: false; reason: string }

/** Pays (or declines) a payment request; paying the same invoice twice pays once. */
export type LightningPaymentHandler = (
  request: LightningPaymentRequest,
  options?: { signal?: AbortSignal | undefined },
) => Promise<LightningPaymentOutcome>

function limitMsat(value: number | bigint | string | undefined, name: string): bigint | undefined {
  if (value === undefined) return undefined
  try {
    return toAtomicUnits(String(value), 3, 'CONFIG')
  } catch (err) {
    throw new AgoraError('CONFIG', `budget ${name}: ${(err as Error).message}`, { cause: err })
  }
}

const sats = (msat: bigint) => fromAtomicUnits(msat, 3)

/**
 * A payment handler for Lightning payment requests. Before paying it decodes the invoice (checking
 * its signature), and declines when the amount differs from the request's, the invoice has
 * expired or is for another network than the wallet's, or the budget would be exceeded. The same
 * invoice is paid at most once, however often it is presented (concurrent calls share the one
 * payment).
 *
 * @example
 * ```ts
 * const pay = lightningPaymentHandler({ wallet, budget: { maxPerCallSats: 100, maxTotalSats: 10_000 } })
 * const outcome = await pay({ amount: '10', unit: 'sats', invoice: 'lnbcrt100n1p…', tool: 'forecast' })
 * if (!outcome.paid) console.error('not paid:', outcome.reason)
 * ```
 */
export function lightningPaymentHandler(options: LightningPaymentHandlerOptions): LightningPaymentHandler {
  const { wallet, record } = options
  const perCall = limitMsat(options.budget?.maxPerCallSats, 'maxPerCallSats')
  const total = limitMsat(options.budget?.maxTotalSats, 'maxTotalSats')
  /** Invoices paid or being paid, by payment hash: each is paid once. */
  const attempts = new Map<string, Promise<LightningPaymentOutcome>>()
  /** Millisatoshis paid or being paid by this handler. */
  let committed = 0n
  let info: ReturnType<LightningWallet['getInfo']> | undefined

  function walletInfo(signal: AbortSignal | undefined) {
    info ??= wallet.getInfo({ signal }).catch((err: unknown) => {
      info = undefined
      throw err
    })
    return info
  }

  async function check(
    request: LightningPaymentRequest,
    decoded: DecodedInvoice,
    signal: AbortSignal | undefined,
  ): Promise<{ reason: string } | { msat: bigint; network: string }> {
    const unit = request.unit.toLowerCase()
    if (unit !== 'sats' && unit !== 'sat' && unit !== 'msat') return { reason: `cannot pay in ${request.unit}` }
    let asked: bigint
    try {
      asked = toAtomicUnits(request.amount, unit === 'msat' ? 0 : 3)
    } catch (err) {
      return { reason: `the request's amount: ${(err as Error).message}` }
    }
    if (decoded.amountMsat === undefined) return { reason: 'the invoice has no amount' }
    if (BigInt(decoded.amountMsat) !== asked) {
      return { reason: `the invoice is for ${sats(BigInt(decoded.amountMsat))} sats, not the ${sats(asked)} sats requested` }
    }
    if (decoded.expiresAt <= Math.floor(Date.now() / 1000)) return { reason: 'the invoice has expired' }
    const walletNetwork = (await walletInfo(signal)).network
    if (decoded.network !== walletNetwork) {
      return { reason: `the invoice is for ${decoded.network}; the wallet pays on ${walletNetwork}` }
    }
    const what = request.tool ? `${request.tool} costs ${sats(asked)} sats` : `the invoice is for ${sats(asked)} sats`
    if (perCall !== undefined && asked > perCall) return { reason: `${what}, over the per-call limit of ${sats(perCall)} sats` }
    return { msat: asked, network: `lightning:${walletNetwork}` }
  }

  function overTotal(spent: bigint, msat: bigint, what: string): string | undefined {
    if (total === undefined || spent + msat <= total) return undefined
    return `${what}; with ${sats(spent)} sats already paid, that is over the total limit of ${sats(total)} sats`
  }

  async function pay(
    request: LightningPaymentRequest,
    decoded: DecodedInvoice,
    signal: AbortSignal | undefined,
  ): Promise<LightningPaymentOutcome> {
    const checked = await check(request, decoded, signal)
    if ('reason' in checked) return { paid: false, reason: checked.reason }
    const { msat, network } = checked
    const what = `paying ${sats(msat)} sats${request.tool ? ` for ${request.tool}` : ''}`
    const attempt = async (spentBefore: bigint): Promise<LightningPaymentOutcome> => {
      const refusal = overTotal(spentBefore, msat, what)
      if (refusal) return { paid: false, reason: refusal }
      committed += msat
      try {
        const { preimage } = await wallet.payInvoice(decoded.invoice, { signal })
        return { paid: true, preimage, paymentHash: decoded.paymentHash }
      } catch (err) {
        committed -= msat
        return { paid: false, reason: (err as Error).message }
      }
    }
    if (!record) return attempt(committed)
    // With a record, the check, the payment and its line happen under the record's lock, so
    // processes sharing the record cannot together exceed the total.
    return record.locked(async () => {
      const spent = await record.spent({ network, asset: 'sats' })
      const outcome = await attempt(spent)
      if (outcome.paid) {
        const time = new Date().toISOString()
        const entry: PaymentEntry = {
          id: decoded.paymentHash,
          time,
          target: request.target ?? 'unknown',
          tool: request.tool ?? '',
          amount: sats(msat),
          atomic: msat.toString(),
          asset: 'sats',
          symbol: 'sats',
          network,
          payTo: decoded.payee,
          payer: (await walletInfo(signal)).pubkey,
          nonce: decoded.paymentHash,
          validBefore: String(decoded.expiresAt),
          outcome: { status: 'settled', time, transaction: decoded.paymentHash },
        }
        await record.append(entry)
      }
      return outcome
    })
  }

  return async (request, { signal } = {}) => {
    let decoded: DecodedInvoice
    try {
      decoded = decodeInvoice(request.invoice)
    } catch (err) {
      return { paid: false, reason: (err as Error).message }
    }
    const hash = decoded.paymentHash
    const earlier = attempts.get(hash)
    if (earlier) return earlier
    const outcome = pay(request, decoded, signal)
    attempts.set(hash, outcome)
    // Only a payment that went through stays (until its invoice can no longer be presented as
    // payable); a declined or failed one may be tried again.
    outcome.then(
      (o) => {
        if (!o.paid) return attempts.delete(hash)
        const forget = setTimeout(() => attempts.delete(hash), Math.max(0, decoded.expiresAt * 1000 - Date.now()) + 60_000)
        forget.unref?.()
      },
      () => attempts.delete(hash),
    )
    return outcome
  }
}
