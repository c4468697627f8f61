import type { AgoraErrorCode } from '@agora/core/errors'
import { AgoraError } from '@agora/core/errors'

const DECIMAL = /^(\d+)(?:\.(\d+))?$/

/**
 * Converts a decimal amount in whole units (`"0.01"`) to atomic units (`10000n` for 6 decimals)
 * with string arithmetic only: exact, never rounded. An amount with more fractional digits than
 * the asset has, a negative or malformed one, throws `code` (default `INVALID_PARAMS`).
 *
 * @example
 * ```ts
 * toAtomicUnits('0.01', 6) // 10000n
 * toAtomicUnits('1.5', 6)  // 1500000n
 * ```
 */
export function toAtomicUnits(amount: string, decimals: number, code: AgoraErrorCode = 'INVALID_PARAMS'): bigint {
  const m = DECIMAL.exec(amount.trim())
  if (!m) throw new AgoraError(code, `amount must be a non-negative decimal number such as "0.01", got ${JSON.stringify(amount)}`)
  const whole = m[1] ?? '0'
  const fraction = (m[2] ?? '').replace(/0+$/, '')
  if (fraction.length > decimals) {
    throw new AgoraError(code, `amount ${amount} has more than ${decimals} decimal places, the asset's smallest unit`)
  }
  return BigInt(whole + fraction.padEnd(decimals, '0'))
}

/**
 * Formats atomic units as a decimal amount in whole units, without trailing zeros.
 *
 * @example
 * ```ts
 * fromAtomicUnits(10000n, 6) // '0.01'
 * ```
 */
export function fromAtomicUnits(atomic: bigint, decimals: number): string {
  const negative = atomic < 0n
  const digits = (negative ? -atomic : atomic).toString().padStart(decimals + 1, '0')
  const whole = digits.slice(0, digits.length - decimals)
  const fraction = digits.slice(digits.length - decimals).replace(/0+$/, '')
  return `${negative ? '-' : ''}${whole}${fraction ? `.${fraction}` : ''}`
}
