import type { Invocation, PaymentDecision, SettleDecision } from '@agora/core'
import { AgoraError } from '@agora/core/errors'
import type { PaymentRequirements, SettleOutcome } from '../rail.ts'
import { PAYMENT_RESPONSE_META_KEY } from './proof.ts'

/**
 * How a payment challenge goes on the wire. All three map onto the same engine:
 * - `sep-2009`: JSON-RPC error `-32803` "Payment Required", `data: { protocol: "x402", paymentInfo }`;
 * - `x402-mcp`: x402's MCP binding — an `isError` result whose `structuredContent` is the `PaymentRequired`;
 * - `x402-extension`: spec 2026-07-28 with the `org.x402/payment` extension — `resultType: "payment_required"`.
 */
export type PaymentForm = 'sep-2009' | 'x402-mcp' | 'x402-extension'
export const PAYMENT_FORMS: readonly PaymentForm[] = ['sep-2009', 'x402-mcp', 'x402-extension']

/** `params._meta` key a client sets to ask for a form (`"sep-2009"`, `"x402-mcp"`, `"x402-extension"`). */
export const PAYMENT_FORM_META_KEY = 'agora/payment-form'
/** The 2026-07-28 extension id a client advertises in `clientCapabilities.extensions`. */
export const X402_EXTENSION = 'org.x402/payment'

/** An x402 v2 `PaymentRequired`. */
export interface PaymentRequired {
  x402Version: 2
  error?: string
  resource: { url: string; description?: string; mimeType?: string }
  accepts: PaymentRequirements[]
  extensions?: Record<string, unknown>
}

/**
 * The form for this call: the one the client asked for in `_meta["agora/payment-form"]`, else
 * `x402-extension` for a 2026-07-28 client that advertises `org.x402/payment`, else the server's default.
 */
export function chooseForm(inv: Invocation, fallback: PaymentForm): PaymentForm {
  const asked = inv.meta[PAYMENT_FORM_META_KEY]
  if (typeof asked === 'string' && (PAYMENT_FORMS as readonly string[]).includes(asked)) return asked as PaymentForm
  const extensions = inv.clientCapabilities?.extensions as Record<string, unknown> | undefined
  if (extensions?.[X402_EXTENSION] !== undefined) return 'x402-extension'
  return fallback
}

/** Answers a call that needs (another) payment, in the chosen form. Error forms throw. */
export function challenge(form: PaymentForm, required: PaymentRequired): PaymentDecision {
  switch (form) {
    case 'sep-2009':
      throw new AgoraError('PAYMENT_REQUIRED', 'Payment Required', { data: { protocol: 'x402', paymentInfo: required } })
    case 'x402-mcp':
      return {
        kind: 'challenge',
        result: { isError: true, structuredContent: required, content: [{ type: 'text', text: JSON.stringify(required) }] },
      }
    case 'x402-extension':
      return { kind: 'challenge', result: { resultType: 'payment_required', paymentRequired: required } }
  }
}

/** Answers a call whose settlement failed: the handler's output is withheld, the settlement details go back. */
export function settlementFailed(form: PaymentForm, required: PaymentRequired, settlement: SettleOutcome): SettleDecision {
  if (form === 'sep-2009') {
    throw new AgoraError('PAYMENT_REQUIRED', `Payment settlement failed: ${settlement.errorReason ?? 'unknown reason'}`, {
      data: { protocol: 'x402', paymentInfo: required, settlement },
    })
  }
  const decision = challenge(form, required)
  const result = (decision as { result: Record<string, unknown> }).result
  return { kind: 'failed', result: { ...result, _meta: { [PAYMENT_RESPONSE_META_KEY]: settlement } } }
}
