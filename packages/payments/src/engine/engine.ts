import { hash } from 'node:crypto'
import type { Invocation, Logger, PaymentDecision, PaymentGateway, PaymentsListResult, SettleDecision } from '@agora/core'
import { silentLogger } from '@agora/core'
import { AgoraError, isAgoraError } from '@agora/core/errors'
import type { Result } from '@modelcontextprotocol/server'
import type { Charge, ChargeLedger, NewCharge } from '../ledger.ts'
import type { PaymentPayload, PaymentRail, PaymentRequirements, SettleOutcome } from '../rail.ts'
import { BUSY, RELEASED, receiptOf, refusal, replay, retriable, VERIFY_UNAVAILABLE } from './charges.ts'
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
  /** Where a settle record that could not be written is reported (recovery still finds it). */
  logger?: Logger | undefined
}

/** The engine: core's `PaymentGateway`, plus waiting for the records it writes after answering. */
export interface PaymentEngine extends PaymentGateway {
  /**
   * Resolves once every settle record written after its call was answered is in the ledger. Call it
   * before closing the ledger.
   */
  drain(): Promise<void>
}

/**
 * The identity of a paid request: who called what with which arguments. A retry with the same proof
 * must carry the same request key to get the stored result back.
 */
export function requestKeyOf(caller: string, resource: string, args: unknown): string {
  return `${caller} ${resource} ${hash('sha256', JSON.stringify(args) ?? '', 'base64url')}`
}

/** One paid call between `authorize` and `settle`/`release`: what the engine hands the pay gate. */
interface Authorization {
  /** The charge: `pending` and on disk (written or taken over while `verify` ran). */
  charge: Charge
  proofKey: string
  proof: PaymentPayload
  req: PaymentRequirements
  rail: PaymentRail
  form: PaymentForm
  required: PaymentRequired
  /** Set by crash recovery when this payment already settled on chain: `settle` only records the output. */
  paid?: SettleOutcome | undefined
}

/** A call carrying a proof for one of the offers, while `authorize` decides what to do with it. */
interface Attempt {
  /** The charge to write when the proof is new. */
  draft: NewCharge
  requestKey: string
  proofKey: string
  proof: PaymentPayload
  req: PaymentRequirements
  rail: PaymentRail
  form: PaymentForm
  required: (error?: string) => PaymentRequired
  signal: AbortSignal
}

/**
 * The payment engine for the challenge → retry-with-proof flow. It implements core's
 * `PaymentGateway`: the charge is on disk and the proof verified before the handler runs (the two
 * overlap: the charge is written, `pending`, while the facilitator verifies), the output is stored
 * and the money moved only after the handler succeeded, output whose settlement failed is never
 * returned, and one authorization is never charged twice (a retry carrying an already-settled
 * proof for the same request gets the stored result back).
 *
 * @example
 * ```ts
 * const engine = createPaymentEngine({ ledger: await openLedger('sqlite:.agora/charges.db'), rails: [rail] })
 * const server = createServer({ name: 'weather', version: '1.0.0' }).payments(engine)
 * ```
 */
export function createPaymentEngine(options: PaymentEngineOptions): PaymentEngine {
  const { ledger, rails } = options
  const log = options.logger ?? silentLogger
  /** Settle records scheduled after their call was answered (see `recordSettled`). */
  const behind = new Set<Promise<void>>()
  /** The same records by proof key, so a retry of that proof waits for its record. */
  const recordingByProof = new Map<string, Promise<void>>()
  if (rails.length === 0) throw new AgoraError('CONFIG', 'createPaymentEngine: at least one rail is required')
  const defaultForm = options.form ?? 'sep-2009'
  const accepts = requirementsCache(rails)
  /**
   * Proof keys a call of this process is working on (from `authorize` to `settle`/`release`), so
   * two concurrent calls cannot both run on one payment. Other processes are kept out by the
   * ledger: the unique proof key and compare-and-set transitions.
   */
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
    // A settle record of this proof still on its way to the ledger: wait for it (it is queued
    // right behind its answer), so a quick retry replays the stored result instead of seeing a busy proof.
    const recording = recordingByProof.get(proofKey)
    if (recording) await recording
    if (claims.has(proofKey)) return challenge(form, required(`invalid_transaction_state: ${BUSY}`))
    claims.add(proofKey)
    const requestKey = requestKeyOf(inv.caller.id, resource.url, inv.args)
    const draft: NewCharge = {
      requestKey,
      proofKey,
      caller: inv.caller.id,
      resource: resource.url,
      amount: offer.req.amount,
      asset: offer.req.asset,
      network: offer.req.network,
      rail: offer.rail.id,
      status: 'pending',
      proof,
    }
    const attempt: Attempt = { draft, requestKey, proofKey, proof, req: offer.req, rail: offer.rail, form, required, signal }
    let decision: PaymentDecision | undefined
    try {
      decision = await decide(attempt)
      return decision
    } finally {
      // The claim holds until `settle` or `release` when the handler is to run, else it ends here.
      if (decision?.kind !== 'authorized') claims.delete(proofKey)
    }
  }

  async function decide(a: Attempt): Promise<PaymentDecision> {
    const existing = await ledger.findByProofKey(a.proofKey, { signal: a.signal })
    if (!existing) return verifyWhileWriting(a, ledger.create(a.draft, { signal: a.signal }))
    if (existing.requestKey === a.requestKey) {
      switch (existing.status) {
        case 'settled':
          return replay(existing)
        case 'authorized':
          return recoverAuthorized(a, existing)
        case 'pending':
          return recoverPending(a, existing)
        case 'failed':
          // `verify` threw or the handler failed: nothing moved, and the authorization is still
          // good, so a retry of the same request takes the charge over (compare-and-set: one taker).
          if (retriable(existing)) {
            const retaken = ledger.transition(existing.id, ['failed'], 'pending', { error: null }, { signal: a.signal })
            return verifyWhileWriting(a, retaken)
          }
      }
    }
    return refuse(a, existing)
  }

  const refuse = (a: Attempt, charge: Charge) => challenge(a.form, a.required(`invalid_transaction_state: ${refusal(charge)}`))

  const authorized = (a: Attempt, charge: Charge, paid?: SettleOutcome): PaymentDecision => {
    const { proofKey, proof, req, rail, form } = a
    const authorization: Authorization = { charge, proofKey, proof, req, rail, form, required: a.required(), paid }
    return { kind: 'authorized', authorization }
  }

  /**
   * Verifies the proof while the charge is being written `pending`, `sync` (on disk before the
   * handler runs, so before money can move): the write's fsync overlaps the facilitator round trip
   * instead of adding to the call. A proof `verify` rejects, or that it cannot check (facilitator
   * down), leaves the charge `failed`; the latter may be retried with the same proof.
   */
  async function verifyWhileWriting(a: Attempt, writing: Promise<Charge>): Promise<PaymentDecision> {
    const verifying = (async () => a.rail.verify(a.proof, a.req, { signal: a.signal }))()
    const [written, verdict] = await Promise.allSettled([writing, verifying])
    if (written.status === 'rejected') {
      const err: unknown = written.reason
      // Another process wrote this proof's charge, or took it over, first.
      if (isAgoraError(err) && err.code === 'CONFLICT') return challenge(a.form, a.required(`invalid_transaction_state: ${BUSY}`))
      throw err
    }
    const charge = written.value
    if (verdict.status === 'rejected') {
      await fail(charge, `${VERIFY_UNAVAILABLE}: ${(verdict.reason as Error | undefined)?.message ?? String(verdict.reason)}`)
      throw verdict.reason
    }
    if (!verdict.value.isValid) {
      const reason = verdict.value.invalidReason ?? 'invalid_payload'
      const why = verdict.value.invalidMessage ? `${reason}: ${verdict.value.invalidMessage}` : reason
      await fail(charge, why)
      return challenge(a.form, a.required(why))
    }
    return authorized(a, charge)
  }

  /**
   * Marks a charge nothing was settled for `failed`. `deferred`, and a failure to write it is
   * ignored: without the record the charge is `pending`, and a retry with the proof recovers it.
   */
  const fail = (charge: Charge, error: string): Promise<void> =>
    ledger.move(charge.id, ['pending'], 'failed', { error }, { durability: 'deferred' }).then(
      () => undefined,
      () => undefined,
    )

  /**
   * A `pending` charge of this request that no call of this process is working on: the server
   * stopped after writing it (a power cut may also have lost its output), or another process is
   * working on it. If the money moved, the payer paid but the output is gone: the handler runs
   * again and `settle` records its output without settling again. If not, this is a fresh
   * attempt on the same charge, and the compare-and-set to `authorized` in `settle` lets only one
   * process settle it.
   */
  async function recoverPending(a: Attempt, existing: Charge): Promise<PaymentDecision> {
    const moved = await a.rail.settlement?.(a.proof, { signal: a.signal })
    if (moved?.success) return authorized(a, existing, moved)
    // Rewritten `sync`: the charge read may be another process's commit still on its way to the disk.
    return verifyWhileWriting(a, ledger.transition(existing.id, ['pending'], 'pending', { error: null }, { signal: a.signal }))
  }

  /**
   * An `authorized` charge of this request, with its output, that no call of this process is
   * working on: the server stopped between storing the output and recording the settlement (or
   * another process is settling it right now). Did the money move? If so record it, if not settle
   * now (the payer authorized exactly this, and the output is stored); either way the stored
   * output comes back without running the handler again.
   */
  async function recoverAuthorized(a: Attempt, existing: Charge): Promise<PaymentDecision> {
    const { proof, req, rail, signal } = a
    if (!existing.result || !rail.settlement) return refuse(a, existing)
    const settlement = await rail.settlement(proof, { signal })
    const outcome = settlement?.success
      ? await recordSettled(existing, settlement, rail)
      : await settleAuthorized(existing, proof, req, rail, signal)
    if ('failure' in outcome) return refuse(a, { ...existing, status: 'failed', error: failureOf(outcome.failure) })
    // Recovery is rare: record the settlement before answering.
    await outcome.written
    return replay({ ...existing, status: 'settled', receipt: outcome.receipt })
  }

  /**
   * Settles an `authorized` charge and records the outcome. A settle that fails is checked against
   * the chain first: if the authorization was used all the same (another process settled this
   * charge, or a timed-out settle landed), the money moved and the charge is settled. Otherwise
   * the charge is `failed` and its output dropped.
   */
  async function settleAuthorized(
    charge: Charge,
    proof: PaymentPayload,
    req: PaymentRequirements,
    rail: PaymentRail,
    signal: AbortSignal,
  ): Promise<
    | { receipt: Record<string, unknown>; settlement: SettleOutcome; written?: Promise<void> | undefined }
    | { failure: SettleOutcome }
  > {
    let settlement: SettleOutcome
    try {
      settlement = await rail.settle(proof, req, { signal })
    } catch (err) {
      settlement = {
        success: false,
        transaction: '',
        network: req.network,
        errorReason: isAgoraError(err) ? err.code.toLowerCase() : 'unexpected_settle_error',
        errorMessage: (err as Error).message,
      }
    }
    if (!settlement.success) {
      // Asked whatever the signal says: a cancelled call must not leave a paid charge `failed`.
      const used = await rail.settlement?.(proof).catch(() => undefined)
      if (!used?.success) {
        await ledger
          .move(charge.id, ['authorized'], 'failed', { error: failureOf(settlement), result: null })
          .catch((err: unknown) => {
            if (!isConflict(err)) throw err // else another process decided first
          })
        return { failure: settlement }
      }
      settlement = used
    }
    return { settlement, ...(await recordSettled(charge, settlement, rail)) }
  }

  /**
   * Records a settlement (`authorized → settled`) and returns its receipt, or the receipt another
   * process recorded first. The money moved: this is written whatever the signal says. `deferred`
   * with a rail that can look a settlement up: if a power cut loses the record, the charge is
   * back to `authorized` with its output (or `pending`, see `settle`), and the retry's recovery
   * finds the settlement through `rail.settlement` and records it then. Without that lookup,
   * nothing could rebuild it: `sync`.
   */
  async function recordSettled(
    charge: Charge,
    settlement: SettleOutcome,
    rail: PaymentRail,
  ): Promise<{ receipt: Record<string, unknown>; written?: Promise<void> | undefined }> {
    const receipt = receiptOf(charge, settlement)
    if (rail.settlement) {
      // Written behind the answer: the caller does not wait for bookkeeping that recovery can
      // rebuild. Until it lands the charge is `authorized` with its output; a crash in between
      // leaves exactly that, and a retry finds the settlement through `rail.settlement`. The proof
      // stays claimed until then, so a retry in this process waits for the record instead.
      const written = new Promise<void>((resolve) => setImmediate(resolve))
        .then(() => ledger.move(charge.id, ['authorized'], 'settled', { receipt }, { durability: 'deferred' }))
        .catch((err: unknown) => {
          if (!isConflict(err))
            log.warn('could not record a settlement; a retry will recover it', { charge: charge.id, error: String(err) })
        })
      behind.add(written)
      void written.finally(() => behind.delete(written))
      return { receipt, written }
    }
    try {
      await ledger.move(charge.id, ['authorized'], 'settled', { receipt }, { durability: 'sync' })
      return { receipt }
    } catch (err) {
      if (!isConflict(err)) throw err
      const current = await ledger.get(charge.id)
      if (current?.status === 'settled') return { receipt: current.receipt as Record<string, unknown> }
      throw err
    }
  }

  const failureOf = (settlement: SettleOutcome) => settlement.errorReason ?? 'settlement failed'

  /** The answer when another process moved the charge on first: the output is withheld. */
  const busy = ({ form, required, req }: Authorization) =>
    settlementFailed(form, required, {
      success: false,
      transaction: '',
      network: req.network,
      errorReason: 'invalid_transaction_state',
      errorMessage: BUSY,
    })
  const isConflict = (err: unknown) => isAgoraError(err) && err.code === 'CONFLICT'

  async function settle(
    authorization: unknown,
    result: Result,
    _inv: Invocation,
    { signal }: { signal: AbortSignal },
  ): Promise<SettleDecision> {
    const auth = authorization as Authorization
    const { charge, proof, req, rail, form, required, paid } = auth
    let written: Promise<void> | undefined
    try {
      if (paid) {
        // Crash recovery: the money moved before the output was stored. Store it; settle nothing.
        // `deferred`: were it lost, the charge would be `pending` again, with the same recovery.
        const receipt = receiptOf(charge, paid)
        try {
          await ledger.move(charge.id, ['pending'], 'settled', { result, receipt }, { durability: 'deferred' })
        } catch (err) {
          if (isConflict(err)) return busy(auth)
          throw err
        }
        return { kind: 'settled', receipt, meta: { [PAYMENT_RESPONSE_META_KEY]: paid } }
      }
      // Store the output with the charge, which is on disk since `authorize`: the compare-and-set
      // makes this call the one that settles it. With a rail that can look a settlement up,
      // `deferred`: the output survives a crash of the process at once and reaches the disk in the
      // background; if a power cut loses it, the charge is `pending` again, and a retry finds the
      // settlement through `rail.settlement` and runs the handler again. Without that lookup,
      // nothing could tell that the money moved: `sync`. A cancelled call stops here, releasing
      // the charge, before anything is settled.
      try {
        await ledger.move(
          charge.id,
          ['pending'],
          'authorized',
          { result },
          { signal, durability: rail.settlement ? 'deferred' : 'sync' },
        )
      } catch (err) {
        if (isConflict(err)) return busy(auth)
        if (isAgoraError(err) && err.code === 'CANCELLED') await fail(charge, RELEASED)
        throw err
      }
      const outcome = await settleAuthorized(charge, proof, req, rail, signal)
      if ('failure' in outcome) {
        return settlementFailed(form, { ...required, error: failureOf(outcome.failure) }, outcome.failure)
      }
      written = outcome.written
      return { kind: 'settled', receipt: outcome.receipt, meta: { [PAYMENT_RESPONSE_META_KEY]: outcome.settlement } }
    } finally {
      if (written) {
        recordingByProof.set(auth.proofKey, written)
        void written.finally(() => {
          claims.delete(auth.proofKey)
          if (recordingByProof.get(auth.proofKey) === written) recordingByProof.delete(auth.proofKey)
        })
      } else claims.delete(auth.proofKey)
    }
  }

  async function release(authorization: unknown): Promise<void> {
    const { charge, proofKey, paid } = authorization as Authorization
    try {
      // Nothing moved: `released` lets a retry of the same request use the authorization again.
      // After crash recovery found the money moved, the charge stays `pending`: a retry of the
      // request runs the handler again, still without settling.
      if (!paid) await fail(charge, RELEASED)
    } finally {
      claims.delete(proofKey)
    }
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

  async function drain(): Promise<void> {
    while (behind.size > 0) await Promise.allSettled([...behind])
  }

  return { authorize, settle, release, paymentsList, drain }
}
