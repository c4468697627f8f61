import type { Invocation } from '@agora/core'
import { AgoraError } from '@agora/core/errors'
import type { PaymentPayload } from '../rail.ts'

/** `params._meta` key carrying the payment proof (x402's MCP binding; also used by SEP-2009 retries). */
export const PAYMENT_META_KEY = 'x402/payment'
/** `result._meta` key carrying the settlement response. */
export const PAYMENT_RESPONSE_META_KEY = 'x402/payment-response'
/** HTTP headers that may carry the proof as base64 JSON (x402 v2, then v1). */
export const PAYMENT_HEADERS = ['payment-signature', 'x-payment'] as const

/**
 * Reads the payment proof of a call: `params._meta["x402/payment"]` on any transport (an object,
 * or base64 JSON), or on HTTP the `PAYMENT-SIGNATURE` / `X-PAYMENT` header (base64 JSON).
 * Returns undefined when there is none; throws `INVALID_PARAMS` for one that cannot be a proof.
 */
export function readProof(inv: Invocation): PaymentPayload | undefined {
  let raw: unknown = inv.meta[PAYMENT_META_KEY]
  if (raw === undefined && inv.transport.headers) {
    for (const h of PAYMENT_HEADERS) {
      const v = inv.transport.headers.get(h)
      if (v) {
        raw = v
        break
      }
    }
  }
  if (raw === undefined || raw === null) return undefined
  const value = typeof raw === 'string' ? decodeBase64Json(raw) : raw
  return checkPayload(value)
}

function decodeBase64Json(text: string): unknown {
  try {
    return JSON.parse(Buffer.from(text, 'base64').toString('utf8'))
  } catch {
    throw new AgoraError('INVALID_PARAMS', 'malformed payment proof: not base64-encoded JSON')
  }
}

function checkPayload(value: unknown): PaymentPayload {
  const p = value as Partial<PaymentPayload> | null
  const accepted = p?.accepted as Partial<PaymentPayload['accepted']> | undefined
  const problems: string[] = []
  if (typeof p !== 'object' || p === null) problems.push('not an object')
  else {
    if (p.x402Version !== 2) problems.push(`x402Version must be 2 (got ${JSON.stringify(p.x402Version)})`)
    if (typeof accepted !== 'object' || accepted === null) problems.push('accepted is missing')
    else
      for (const f of ['scheme', 'network', 'amount', 'asset', 'payTo'] as const) {
        if (typeof accepted[f] !== 'string') problems.push(`accepted.${f} is missing`)
      }
    if (typeof p.payload !== 'object' || p.payload === null) problems.push('payload is missing')
  }
  if (problems.length > 0) throw new AgoraError('INVALID_PARAMS', `malformed payment proof: ${problems.join('; ')}`)
  return p as PaymentPayload
}
