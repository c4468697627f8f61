/**
 * The hold-until-paid Lightning flow (DVMCP's): the server answers a priced call with a BOLT11
 * invoice and holds the call until the invoice is paid, then runs the handler. On transports that
 * cannot carry a payment request while a call waits (HTTP, stdio) the invoice comes back as a
 * `PAYMENT_REQUIRED` error instead, and the client retries with the preimage.
 */
import type { Invocation, Logger, PaymentDecision, PaymentGateway, PaymentsListResult, SettleDecision } from '@agora/core'
import { silentLogger, untilAborted } from '@agora/core'
import { AgoraError, isAgoraError } from '@agora/core/errors'
import type { Result } from '@modelcontextprotocol/server'
import { requestKeyOf } from '../engine/engine.ts'
import type { Charge, ChargeLedger } from '../ledger.ts'
import { paymentHashOf, preimageMatches } from './invoice.ts'
import type { ToSats } from './price.ts'
import { priceInSats } from './price.ts'
import type { SettlementOutcome } from './settlement.ts'
import { awaitSettlement } from './settlement.ts'
import type { LightningWallet } from './wallet.ts'

/** The `rail` of Lightning charges in the ledger. */
export const LIGHTNING_RAIL = 'lightning-bolt11'
/** `_meta` key of the preimage a client sends when it retries a call after paying its invoice. */
export const PREIMAGE_META_KEY = 'lightning/preimage'
/** The receipt's `_meta` key (core's `RECEIPT_META_KEY`). */
const RECEIPT_META_KEY = 'agora/receipt'

export interface LightningPaymentsOptions {
  /** Where charges are persisted before an invoice leaves the server. */
  ledger: ChargeLedger
  /** The server's wallet: issues the invoices and sees them paid. */
  wallet: LightningWallet
  /**
   * Seconds an invoice stays payable, which is also how long a call is held, and the window in
   * which a repeated request gets the stored result back. Default 600.
   */
  expirySeconds?: number | undefined
  /** The invoice description. Default `"<server resource> (<sats> sats)"`. */
  description?: string | ((inv: Invocation, sats: bigint) => string) | undefined
  /** Converts prices in assets other than sats, msat and BTC to whole sats. */
  toSats?: ToSats | undefined
  /** The ledger's `network` for charges. Default `lightning:<network>` from the wallet's `getInfo`. */
  network?: string | undefined
  /** How often to ask the wallet whether a held invoice was paid (see {@link awaitSettlement}). */
  pollIntervalMs?: number | undefined
  /**
   * Calls one caller may have held waiting for payment at once; more are refused with
   * `RATE_LIMITED` before any invoice is made. Each held call keeps a session, a `pending` charge
   * and a wallet watch until its invoice expires. Default 8.
   */
  maxHeldPerCaller?: number | undefined
  logger?: Logger | undefined
}

/** What a charge's `proof` holds. */
interface InvoiceProof {
  invoice: string
  paymentHash: string
  amountMsat: number
  /** Unix seconds. */
  expiresAt: number
  preimage?: string
  /** Unix seconds. */
  settledAt?: number
}

/** What the gateway hands the pay gate between `authorize` and `settle`/`release`. */
interface Authorization {
  charge: Charge
  proof: InvoiceProof
  /** The turn of this request (see `turns`), ended by `settle` or `release`. */
  turn?: Turn | undefined
}

/** One request's exclusive turn: identical requests wait for it to end. */
interface Turn {
  key: string
  done: PromiseWithResolvers<void>
}

const nowSeconds = () => Math.floor(Date.now() / 1000)
const proofOf = (charge: Charge) => charge.proof as InvoiceProof | null

function receiptOf(charge: Charge, proof: InvoiceProof): Record<string, unknown> {
  // The payment hash identifies the payment; the preimage (the proof of payment) stays private.
  return {
    chargeId: charge.id,
    resource: charge.resource,
    amount: charge.amount,
    asset: charge.asset,
    network: charge.network,
    paymentHash: proof.paymentHash,
    settledAt: new Date((proof.settledAt ?? nowSeconds()) * 1000).toISOString(),
  }
}

/**
 * A `PaymentGateway` that charges priced calls over Lightning, holding each call until its
 * invoice is paid (DVMCP's flow). For every priced call:
 *
 * 1. The charge is written (`pending`), then the wallet makes an invoice for the price.
 * 2. When the transport can deliver a payment request while the call waits
 *    (`TransportInfo.notifyPaymentRequired`, e.g. Nostr), the invoice goes out and the call is held
 *    until the wallet reports it paid (the preimage must hash to the payment hash), the invoice
 *    expires (`PAYMENT_REQUIRED`, nothing ran) or the caller cancels (`CANCELLED`).
 *    Otherwise (HTTP, stdio) the call fails with `PAYMENT_REQUIRED` carrying
 *    `data: { protocol: 'lightning', paymentInfo: { invoice, amount, unit: 'sats', paymentHash, expiresAt } }`;
 *    the client pays and retries with the hex preimage in `_meta["lightning/preimage"]`.
 * 3. Paid: the charge is `authorized` and the handler runs. Success settles the charge with the
 *    result and a receipt (`paymentHash`, never the preimage).
 *
 * Idempotency: a request is its caller, resource and arguments ({@link requestKeyOf}). A request
 * repeated within `expirySeconds` of a settled one gets the stored result back, paying nothing.
 * When the handler fails after payment, the money has moved, so the charge stays `authorized`
 * as credit: the next identical request uses it instead of asking for a new payment. An identical
 * request while an unpaid invoice for it is still payable gets the same invoice again. So a retried
 * request is never charged twice. Identical requests in flight at once take turns (in this
 * process): the second waits for the first to be answered, then gets its stored result, its credit
 * or, if it expired unpaid, a new invoice. One payment never buys two runs, and two invoices are
 * never out for one request.
 *
 * @example
 * ```ts
 * const ln = createLocalLightning()
 * const payments = createLightningPayments({ ledger: await openLedger(':memory:'), wallet: ln.createWallet({ name: 'shop' }) })
 * const server = createServer({ name: 'weather', version: '1.0.0' })
 *   .payments(payments)
 *   .tool('forecast', { price: '10 sats' }, () => 'sunny')
 * ```
 */
export function createLightningPayments(options: LightningPaymentsOptions): PaymentGateway {
  const { ledger, wallet } = options
  const expirySeconds = options.expirySeconds ?? 600
  if (!Number.isSafeInteger(expirySeconds) || expirySeconds <= 0) {
    throw new AgoraError('CONFIG', 'createLightningPayments: expirySeconds must be a positive integer')
  }
  const maxHeld = options.maxHeldPerCaller ?? 8
  if (!Number.isSafeInteger(maxHeld) || maxHeld <= 0) {
    throw new AgoraError('CONFIG', 'createLightningPayments: maxHeldPerCaller must be a positive integer')
  }
  const log = options.logger ?? silentLogger
  /** The turn in progress per request key. */
  const turns = new Map<string, Turn>()
  /** Calls held waiting for payment, per caller. */
  const held = new Map<string, number>()
  /** Paid charges a call of this process is running a handler on: credit others must not take. */
  const claims = new Set<string>()
  /** Pending charges a held call of this process is waiting on. */
  const waiting = new Set<string>()
  let network: Promise<string> | undefined

  function networkName(signal: AbortSignal): Promise<string> {
    if (options.network) return Promise.resolve(options.network)
    network ??= wallet.getInfo({ signal }).then(
      (info) => `lightning:${info.network}`,
      (err: unknown) => {
        network = undefined
        throw err
      },
    )
    return network
  }

  function describe(inv: Invocation, resource: string, sats: bigint): string {
    const d = options.description
    if (typeof d === 'function') return d(inv, sats)
    return d ?? `${resource} (${sats} sats)`
  }

  function authorized(charge: Charge, proof: InvoiceProof): PaymentDecision {
    claims.add(charge.id)
    return { kind: 'authorized', authorization: { charge, proof } satisfies Authorization }
  }

  /** Waits until no identical request is in flight, then takes the turn (no await in between). */
  async function takeTurn(key: string, signal: AbortSignal): Promise<Turn> {
    for (let current = turns.get(key); current; current = turns.get(key)) {
      await untilAborted(current.done.promise, signal, 'waiting for the same request in flight')
    }
    const turn: Turn = { key, done: Promise.withResolvers<void>() }
    turns.set(key, turn)
    return turn
  }

  function endTurn(turn: Turn | undefined): void {
    if (!turn) return
    if (turns.get(turn.key) === turn) turns.delete(turn.key)
    turn.done.resolve()
  }

  function replay(charge: Charge): PaymentDecision {
    const stored = charge.result as Result
    const meta = { ...(stored._meta as Record<string, unknown> | undefined), [RECEIPT_META_KEY]: charge.receipt }
    return { kind: 'replay', result: { ...stored, _meta: meta } }
  }

  /** Moves a paid charge to `authorized`, recording the preimage. */
  async function markPaid(charge: Charge, proof: InvoiceProof, preimage: string, settledAt: number | undefined) {
    const paid: InvoiceProof = { ...proof, preimage, settledAt: settledAt ?? nowSeconds() }
    const updated = await ledger.transition(charge.id, ['pending', 'failed'], 'authorized', { proof: paid, error: null })
    return { charge: updated, proof: paid }
  }

  /** Asks the wallet whether a charge's invoice was paid; returns the paid charge, or undefined. */
  async function paidAlready(charge: Charge, proof: InvoiceProof, signal?: AbortSignal) {
    const status = await wallet.lookupInvoice({ paymentHash: proof.paymentHash }, { signal })
    if (status.state !== 'settled' || !preimageMatches(status.preimage, proof.paymentHash)) return undefined
    return markPaid(charge, proof, status.preimage as string, status.settledAt)
  }

  function challenge(proof: InvoiceProof, sats: bigint, resource: string): AgoraError {
    return new AgoraError(
      'PAYMENT_REQUIRED',
      `${resource} costs ${sats} sats: pay the Lightning invoice, then call again with the preimage in _meta["${PREIMAGE_META_KEY}"]`,
      {
        data: {
          protocol: 'lightning',
          paymentInfo: {
            invoice: proof.invoice,
            amount: String(sats),
            unit: 'sats',
            paymentHash: proof.paymentHash,
            expiresAt: proof.expiresAt,
          },
        },
      },
    )
  }

  function refused(reason: string, message: string, extra: Record<string, unknown> = {}): AgoraError {
    return new AgoraError('PAYMENT_REQUIRED', message, { data: { protocol: 'lightning', reason, ...extra } })
  }

  /**
   * What an earlier charge for the same request gives this one: its stored result, its unused
   * payment, or its still-payable invoice.
   */
  async function earlier(
    caller: string,
    resource: string,
    requestKey: string,
    signal: AbortSignal,
  ): Promise<PaymentDecision | { pending: Charge; proof: InvoiceProof } | undefined> {
    const rows = (await ledger.list({ caller, resource })).filter((c) => c.rail === LIGHTNING_RAIL && c.requestKey === requestKey)
    const now = Date.now()
    const settled = rows.find((c) => c.status === 'settled' && c.result && now - Date.parse(c.createdAt) < expirySeconds * 1000)
    if (settled) return replay(settled)
    const credit = rows.find((c) => c.status === 'authorized' && !c.result && !claims.has(c.id))
    if (credit) {
      log.debug('lightning: reusing a paid charge whose call failed', { chargeId: credit.id })
      return authorized(credit, proofOf(credit) as InvoiceProof)
    }
    for (const c of rows) {
      const proof = proofOf(c)
      if (!proof?.invoice || waiting.has(c.id)) continue
      // A pending invoice, or one whose held call was cancelled while it could still be paid
      // (a wallet refuses an expired invoice, so once it expired there is nothing to find).
      const cancelled = c.status === 'failed' && c.error === 'cancelled' && proof.expiresAt + 60 > nowSeconds()
      if (c.status !== 'pending' && !cancelled) continue
      const paid = await paidAlready(c, proof, signal).catch(() => undefined)
      if (paid) return authorized(paid.charge, paid.proof)
      if (c.status !== 'pending') continue
      const left = proof.expiresAt - nowSeconds()
      if (left > Math.min(30, expirySeconds / 2)) return { pending: c, proof }
      if (left < 0) await ledger.transition(c.id, ['pending'], 'failed', { error: 'expired' }).catch(() => {})
    }
    return undefined
  }

  /** A retry carrying `_meta["lightning/preimage"]`. */
  async function withPreimage(
    preimage: unknown,
    caller: string,
    requestKey: string,
    signal: AbortSignal,
  ): Promise<PaymentDecision> {
    if (typeof preimage !== 'string' || !/^[0-9a-f]{64}$/i.test(preimage)) {
      throw refused('invalid_preimage', `_meta["${PREIMAGE_META_KEY}"] must be the 32-byte preimage in hex (64 characters)`)
    }
    const charge = await ledger.findByProofKey(`ln:${paymentHashOf(preimage)}`)
    if (!charge || charge.rail !== LIGHTNING_RAIL || charge.caller !== caller) {
      throw refused(
        'preimage_mismatch',
        'the preimage matches no Lightning invoice issued to you: sha256(preimage) is not the payment hash of any of them',
      )
    }
    if (charge.requestKey !== requestKey) {
      throw refused('wrong_request', 'the preimage pays for another request (a different tool or different arguments)')
    }
    const proof = proofOf(charge) as InvoiceProof
    if (charge.status === 'settled') return replay(charge)
    if (charge.status === 'authorized') {
      if (claims.has(charge.id)) throw refused('in_use', 'this payment is being used by another call of the same request')
      return authorized(charge, proof)
    }
    if (charge.status === 'pending' || charge.status === 'failed') {
      const paid = await paidAlready(charge, proof, signal)
      if (paid) return authorized(paid.charge, paid.proof)
      throw refused('unpaid', 'the wallet has not received payment for this invoice', { paymentHash: proof.paymentHash })
    }
    throw refused('invalid_state', `this payment's charge is ${charge.status}`)
  }

  /** Delivers the invoice while the call waits, and waits for it to be paid. */
  async function hold(
    inv: Invocation,
    notify: NonNullable<Invocation['transport']['notifyPaymentRequired']>,
    charge: Charge,
    proof: InvoiceProof,
    sats: bigint,
    resource: string,
    reused: boolean,
    signal: AbortSignal,
  ): Promise<PaymentDecision> {
    waiting.add(charge.id)
    const caller = inv.caller.id
    held.set(caller, (held.get(caller) ?? 0) + 1)
    const stop = new AbortController()
    const both = AbortSignal.any([signal, stop.signal])
    try {
      // Listen before the invoice goes out, so a fast payer is never missed.
      const paid = awaitSettlement(wallet, proof, { signal: both, pollIntervalMs: options.pollIntervalMs, checkNow: reused })
      paid.catch(() => {})
      try {
        await notify({ amount: String(sats), unit: 'sats', invoice: proof.invoice, expiresAt: proof.expiresAt })
      } catch (err) {
        stop.abort()
        await ledger.transition(charge.id, ['pending'], 'failed', { error: 'payment request not delivered' })
        throw isAgoraError(err)
          ? err
          : new AgoraError('CONNECTION', `could not deliver the invoice: ${(err as Error).message}`, { cause: err })
      }
      let outcome: SettlementOutcome
      try {
        outcome = await paid
      } catch (err) {
        if (!signal.aborted) throw err
        // Cancelled: unless the payment landed just now, the charge fails (a later retry still
        // looks the invoice up, in case it is paid after all).
        const late = await paidAlready(charge, proof).catch(() => undefined)
        if (!late) await ledger.transition(charge.id, ['pending'], 'failed', { error: 'cancelled' }).catch(() => {})
        throw new AgoraError(
          'CANCELLED',
          late
            ? `${inv.name ?? resource} was cancelled after its invoice was paid: the payment is kept for a retry of the same request`
            : `${inv.name ?? resource} was cancelled while waiting for payment`,
          { cause: err },
        )
      }
      if (outcome.state === 'expired') {
        await ledger.transition(charge.id, ['pending'], 'failed', { error: 'expired' })
        throw refused('expired', `the invoice for ${resource} (${sats} sats) expired unpaid; nothing ran`, {
          paymentHash: proof.paymentHash,
        })
      }
      const done = await markPaid(charge, proof, outcome.preimage, outcome.settledAt)
      return authorized(done.charge, done.proof)
    } finally {
      waiting.delete(charge.id)
      const left = (held.get(caller) ?? 1) - 1
      if (left > 0) held.set(caller, left)
      else held.delete(caller)
    }
  }

  async function authorize(inv: Invocation, { signal }: { signal: AbortSignal }): Promise<PaymentDecision> {
    const price = inv.price
    if (!price) throw new AgoraError('INTERNAL', 'authorize called without a price')
    const sats = priceInSats(price, options.toSats)
    const resource = inv.target?.resource ?? `mcp://tool/${inv.name}`
    const caller = inv.caller.id
    const requestKey = requestKeyOf(caller, resource, inv.args)

    const preimage = inv.meta[PREIMAGE_META_KEY]
    if (preimage !== undefined) return withPreimage(preimage, caller, requestKey, signal)

    const turn = await takeTurn(requestKey, signal)
    let decision: PaymentDecision
    try {
      decision = await authorizeTurn(inv, sats, resource, caller, requestKey, signal)
    } catch (err) {
      endTurn(turn)
      throw err
    }
    if (decision.kind !== 'authorized') endTurn(turn)
    else (decision.authorization as Authorization).turn = turn
    return decision
  }

  async function authorizeTurn(
    inv: Invocation,
    sats: bigint,
    resource: string,
    caller: string,
    requestKey: string,
    signal: AbortSignal,
  ): Promise<PaymentDecision> {
    const before = await earlier(caller, resource, requestKey, signal)
    if (before && 'kind' in before) return before
    const notify = inv.transport.notifyPaymentRequired

    if (notify && (held.get(caller) ?? 0) >= maxHeld) {
      throw new AgoraError(
        'RATE_LIMITED',
        `${caller} already has ${maxHeld} calls waiting for payment: pay or cancel one of them first`,
        { data: { maxHeldPerCaller: maxHeld } },
      )
    }

    let charge: Charge
    let proof: InvoiceProof
    if (before) {
      ;({ pending: charge, proof } = before)
    } else {
      // The charge is on record before any invoice exists, so every invoice that can be paid has one.
      charge = await ledger.create({
        requestKey,
        caller,
        resource,
        amount: sats.toString(),
        asset: 'sats',
        network: await networkName(signal),
        rail: LIGHTNING_RAIL,
        status: 'pending',
      })
      const amountMsat = Number(sats * 1000n)
      try {
        const made = await wallet.makeInvoice(
          { amountMsat, description: describe(inv, resource, sats), expirySeconds },
          { signal },
        )
        if (made.amountMsat !== amountMsat) {
          throw new AgoraError('INTERNAL', `the wallet made an invoice for ${made.amountMsat} msat instead of ${amountMsat}`)
        }
        proof = { invoice: made.invoice, paymentHash: made.paymentHash, amountMsat, expiresAt: made.expiresAt }
        charge = await ledger.transition(charge.id, ['pending'], 'pending', { proofKey: `ln:${made.paymentHash}`, proof })
      } catch (err) {
        await ledger
          .transition(charge.id, ['pending'], 'failed', { error: `no invoice: ${(err as Error).message}` })
          .catch(() => {})
        throw err
      }
    }
    if (notify) return hold(inv, notify, charge, proof, sats, resource, before !== undefined, signal)
    throw challenge(proof, sats, resource)
  }

  async function settle(authorization: unknown, result: Result): Promise<SettleDecision> {
    const { charge, proof, turn } = authorization as Authorization
    try {
      const receipt = receiptOf(charge, proof)
      await ledger.transition(charge.id, ['authorized'], 'settled', { receipt, result })
      return { kind: 'settled', receipt }
    } finally {
      claims.delete(charge.id)
      endTurn(turn)
    }
  }

  async function release(authorization: unknown, reason: string): Promise<void> {
    // The invoice is paid and Lightning has no refunds: the charge stays `authorized` with no
    // result, a credit the next identical request uses (see `earlier`).
    const { charge, turn } = authorization as Authorization
    claims.delete(charge.id)
    endTurn(turn)
    log.info('lightning: call failed after payment; the payment is kept for a retry', { chargeId: charge.id, reason })
  }

  function paymentsList(): PaymentsListResult {
    return {
      protocols: { lightning: { version: 1, schemes: ['bolt11'], description: 'Lightning BOLT11 invoices (hold until paid)' } },
    }
  }

  return { authorize, settle, release, paymentsList }
}
