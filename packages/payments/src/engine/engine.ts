import { createHash } from 'node:crypto'
import type { Invocation, PaymentDecision, PaymentGateway, PaymentsListResult, SettleDecision } from '@agora/core'
import { AgoraError, isAgoraError } from '@agora/core/errors'
import type { Result } from '@modelcontextprotocol/server'
import type { Charge, ChargeLedger, NewCharge } from '../ledger.ts'
import type { PaymentPayload, PaymentRail, PaymentRequirements, SettleOutcome } from '../rail.ts'
import type { PaymentForm, PaymentRequired } from './forms.ts'
import { challenge, chooseForm, settlementFailed } from './forms.ts'
import { PAYMENT_RESPONSE_META_KEY, readProof } from './proof.ts'
import { requirementsCache, sameRequirements } from './requirements.ts'

export interface PaymentEngineOptions {
  /** Where charges are persisted before money moves. */
  ledger: ChargeLedger
  /** Rails the server accepts, most preferred first. */
  rails: PaymentRail[]
  /** Wire form of challenges when the client does not ask for one. Default `sep-2009`. */
  form?: PaymentForm | undefined
  /** Links for `payments/list`. */
  terms?: string | undefined
  privacy?: string | undefined
}

/** What the engine hands the pay gate between `authorize` and `settle`/`release`. */
interface Authorization {
  /** What the charge will be written as, once the handler succeeded. */
  draft: NewCharge
  proofKey: string
  proof: PaymentPayload
  req: PaymentRequirements
  rail: PaymentRail
  form: PaymentForm
  required: PaymentRequired
}

function receiptOf(charge: Charge, settlement: SettleOutcome): Record<string, unknown> {
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
 * The identity of a paid request: who called what with which arguments. A retry with the same proof
 * must carry the same request key to get the stored result back.
 */
export function requestKeyOf(caller: string, resource: string, args: unknown): string {
  return `${caller} ${resource} ${createHash('sha256')
    .update(JSON.stringify(args) ?? '')
    .digest('base64url')}`
}

/**
 * The payment engine for the challenge → retry-with-proof flow. It implements core's
 * `PaymentGateway`: verify before the handler runs, persist the output and settle only after it
 * succeeded, never return output whose settlement failed, and never charge one authorization twice
 * (a retry carrying an already-settled proof for the same request gets the stored result back).
 *
 * @example
 * ```ts
 * const engine = createPaymentEngine({ ledger: await openLedger('sqlite:.agora/charges.db'), rails: [rail] })
 * const server = createServer({ name: 'weather', version: '1.0.0' }).payments(engine)
 * ```
 */
export function createPaymentEngine(options: PaymentEngineOptions): PaymentGateway {
  const { ledger, rails } = options
  if (rails.length === 0) throw new AgoraError('CONFIG', 'createPaymentEngine: at least one rail is required')
  const defaultForm = options.form ?? 'sep-2009'
  const accepts = requirementsCache(rails)
  /** Proof keys in use by a call in this process, so two concurrent calls cannot both run on one payment. */
  const claims = new Set<string>()

  async function authorize(inv: Invocation, { signal }: { signal: AbortSignal }): Promise<PaymentDecision> {
    const price = inv.price
    if (!price) throw new AgoraError('INTERNAL', 'authorize called without a price')
    const form = chooseForm(inv, defaultForm)
    const offers = await accepts(price)
    const resource = { url: inv.target?.resource ?? `mcp://tool/${inv.name}`, mimeType: 'application/json' }
    const required = (error?: string): PaymentRequired => ({
      x402Version: 2,
      ...(error ? { error } : {}),
      resource,
      accepts: offers.map((o) => o.req),
    })

    let proof: PaymentPayload | undefined
    try {
      proof = readProof(inv)
    } catch (err) {
      return challenge(form, required(`invalid_payload: ${(err as Error).message}`))
    }
    if (!proof) return challenge(form, required(`Payment required: ${price.amount} ${price.asset} for ${resource.url}`))
    const offer = offers.find((o) => sameRequirements(o.req, proof.accepted))
    if (!offer) {
      return challenge(
        form,
        required('invalid_payment_requirements: the proof is not for one of these terms (amount, asset, network, payee)'),
      )
    }
    if (proof.resource?.url && proof.resource.url !== resource.url) {
      return challenge(form, required(`invalid_payment_requirements: the proof is for ${proof.resource.url}`))
    }
    let proofKey: string
    try {
      proofKey = offer.rail.proofKey(proof)
    } catch (err) {
      return challenge(form, required(`invalid_payload: ${(err as Error).message}`))
    }
    const requestKey = requestKeyOf(inv.caller.id, resource.url, inv.args)

    const existing = await ledger.findByProofKey(proofKey, { signal })
    if (existing) return reuse(existing, requestKey, proof, offer.req, offer.rail, form, required, signal)

    if (claims.has(proofKey)) {
      return challenge(form, required('invalid_transaction_state: this payment authorization is being used by another request'))
    }
    claims.add(proofKey)
    // Verifying moves no money, so nothing is written yet: a dead facilitator or a bad proof leaves
    // nothing behind. The charge is written once, with the handler's output, before settling.
    let verdict: Awaited<ReturnType<PaymentRail['verify']>>
    try {
      verdict = await offer.rail.verify(proof, offer.req, { signal })
    } catch (err) {
      claims.delete(proofKey)
      throw err
    }
    if (!verdict.isValid) {
      claims.delete(proofKey)
      const reason = verdict.invalidReason ?? 'invalid_payload'
      return challenge(form, required(verdict.invalidMessage ? `${reason}: ${verdict.invalidMessage}` : reason))
    }
    const draft: NewCharge = {
      requestKey,
      proofKey,
      caller: inv.caller.id,
      resource: resource.url,
      amount: offer.req.amount,
      asset: offer.req.asset,
      network: offer.req.network,
      rail: offer.rail.id,
      status: 'authorized',
      proof,
    }
    const authorization: Authorization = { draft, proofKey, proof, req: offer.req, rail: offer.rail, form, required: required() }
    return { kind: 'authorized', authorization }
  }

  /**
   * A proof seen before: replay the stored result for the same request, recover a charge whose
   * settlement landed on chain but not in the ledger (a crash in between), refuse anything else.
   */
  async function reuse(
    existing: Charge,
    requestKey: string,
    proof: PaymentPayload,
    req: PaymentRequirements,
    rail: PaymentRail,
    form: PaymentForm,
    required: (e?: string) => PaymentRequired,
    signal: AbortSignal,
  ): Promise<PaymentDecision> {
    const proofKey = existing.proofKey
    const orphaned =
      existing.status === 'authorized' &&
      existing.requestKey === requestKey &&
      existing.result &&
      proofKey &&
      !claims.has(proofKey)
    if (orphaned && rail.settlement) {
      // A charge with its output but no settlement, and no call of this process working on it: the
      // server stopped between writing it and recording the settlement. Did the money move?
      const settlement = await rail.settlement(proof, { signal })
      if (settlement?.success) {
        existing = await ledger.transition(existing.id, ['authorized'], 'settled', { receipt: receiptOf(existing, settlement) })
      } else {
        // It did not: settle now. The payer authorized exactly this, and the output is stored.
        claims.add(proofKey)
        try {
          const outcome = await rail.settle(proof, req, { signal }).catch(
            (err: unknown): SettleOutcome => ({
              success: false,
              transaction: '',
              network: req.network,
              errorReason: (err as Error).message,
            }),
          )
          existing = outcome.success
            ? await ledger.transition(existing.id, ['authorized'], 'settled', { receipt: receiptOf(existing, outcome) })
            : await ledger.transition(existing.id, ['authorized'], 'failed', {
                error: outcome.errorReason ?? 'settlement failed',
                result: null,
              })
        } finally {
          claims.delete(proofKey)
        }
      }
    }
    if (existing.status === 'settled' && existing.requestKey === requestKey) {
      const stored = existing.result as Result
      const receipt = existing.receipt as Record<string, unknown>
      const meta: Record<string, unknown> = {
        ...(stored._meta as Record<string, unknown> | undefined),
        'agora/receipt': receipt,
        [PAYMENT_RESPONSE_META_KEY]: receipt.settlement,
      }
      return { kind: 'replay', result: { ...stored, _meta: meta } }
    }
    const why =
      existing.status === 'settled'
        ? 'this payment authorization was already used for another request'
        : existing.status === 'failed'
          ? `this payment authorization failed earlier: ${existing.error ?? 'unknown'}`
          : 'this payment authorization is being used by another request'
    return challenge(form, required(`invalid_transaction_state: ${why}`))
  }

  async function settle(
    authorization: unknown,
    result: Result,
    _inv: Invocation,
    { signal }: { signal: AbortSignal },
  ): Promise<SettleDecision> {
    const { draft, proofKey, proof, req, rail, form, required } = authorization as Authorization
    try {
      // Persist the charge and the output before money moves, durably (`sync`: on disk, through a
      // power cut): a crash after the chain settles still finds both, and `reuse` recovers the
      // charge through `rail.settlement`. A cancelled call stops here, before anything is written.
      let charge: Charge
      try {
        charge = await ledger.create({ ...draft, result }, { signal, durability: 'sync' })
      } catch (err) {
        if (isAgoraError(err) && err.code === 'CONFLICT') {
          // Another server process holding the same authorization got there first.
          return settlementFailed(form, required, {
            success: false,
            transaction: '',
            network: req.network,
            errorReason: 'invalid_transaction_state',
            errorMessage: 'this payment authorization is being used by another request',
          })
        }
        throw err
      }
      let settlement: Awaited<ReturnType<PaymentRail['settle']>>
      try {
        settlement = await rail.settle(proof, req, { signal })
      } catch (err) {
        const reason = isAgoraError(err) ? err.code.toLowerCase() : 'unexpected_settle_error'
        settlement = {
          success: false,
          transaction: '',
          network: req.network,
          errorReason: reason,
          errorMessage: (err as Error).message,
        }
      }
      if (!settlement.success) {
        await ledger.transition(charge.id, ['authorized'], 'failed', {
          error: settlement.errorReason ?? 'settlement failed',
          result: null,
        })
        return settlementFailed(form, { ...required, error: settlement.errorReason ?? 'settlement failed' }, settlement)
      }
      const receipt = receiptOf(charge, settlement)
      // The money moved: record it whatever the signal says. With a rail that can look a
      // settlement up, `deferred`: the record survives a crash of the process at once and reaches
      // the disk in the background; if a power cut loses it, the charge is back to `authorized`
      // with its output, and the retry's `reuse` finds the settlement through `rail.settlement`
      // and records it then. Without that lookup, nothing could rebuild it: `sync`.
      await ledger.transition(
        charge.id,
        ['authorized'],
        'settled',
        { receipt },
        { durability: rail.settlement ? 'deferred' : 'sync' },
      )
      return { kind: 'settled', receipt, meta: { [PAYMENT_RESPONSE_META_KEY]: settlement } }
    } finally {
      claims.delete(proofKey)
    }
  }

  async function release(authorization: unknown): Promise<void> {
    // Nothing was written and nothing moved: the payer may use the authorization for a retry.
    claims.delete((authorization as Authorization).proofKey)
  }

  function paymentsList(): PaymentsListResult {
    const protocols: PaymentsListResult['protocols'] = {}
    for (const rail of rails) {
      const entry = protocols[rail.protocol] ?? { version: 2, schemes: [], description: 'x402 v2 micropayments' }
      protocols[rail.protocol] = entry
      for (const n of rail.networks) if (!entry.schemes.includes(n)) entry.schemes.push(n)
    }
    return {
      protocols,
      ...(options.terms ? { terms: options.terms } : {}),
      ...(options.privacy ? { privacy: options.privacy } : {}),
    }
  }

  return { authorize, settle, release, paymentsList }
}
