import type { Address, Hex } from 'viem'
import { isAddress } from 'viem'

/** The EIP-3009 authorization an x402 `exact` EVM payload carries, checked for shape. */
export interface ExactAuthorization {
  from: Address
  to: Address
  value: string
  validAfter: string
  validBefore: string
  nonce: Hex
  signature: Hex
}

const UINT = /^\d{1,78}$/
const BYTES32 = /^0x[0-9a-fA-F]{64}$/
const HEX = /^0x(?:[0-9a-fA-F]{2})+$/

/**
 * Reads `payload.authorization` and `payload.signature` of an x402 `exact` EVM (EIP-3009)
 * payload; `undefined` when anything is missing or malformed, so nothing downstream trips on it.
 *
 * @example
 * ```ts
 * const auth = exactAuthorization(paymentPayload.payload)
 * if (!auth) return { isValid: false, invalidReason: 'invalid_payload' }
 * ```
 */
export function exactAuthorization(payload: unknown): ExactAuthorization | undefined {
  if (typeof payload !== 'object' || payload === null) return undefined
  const { authorization: auth, signature } = payload as { authorization?: unknown; signature?: unknown }
  if (typeof auth !== 'object' || auth === null || typeof signature !== 'string' || !HEX.test(signature)) return undefined
  const { from, to, value, validAfter, validBefore, nonce } = auth as Record<string, unknown>
  const address = (a: unknown): a is Address => typeof a === 'string' && isAddress(a, { strict: false })
  const uint = (n: unknown): n is string => typeof n === 'string' && UINT.test(n)
  if (!address(from) || !address(to) || !uint(value) || !uint(validAfter) || !uint(validBefore)) return undefined
  if (typeof nonce !== 'string' || !BYTES32.test(nonce)) return undefined
  return { from, to, value, validAfter, validBefore, nonce: nonce as Hex, signature: signature as Hex }
}
