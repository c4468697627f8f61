/**
 * A payment rail: one way of moving money (x402 `exact` on EVM today; Lightning, payment
 * channels and ICRC-2 allowances later). The engine persists a charge while `verify` runs,
 * and calls `settle` only after the handler succeeded.
 */

/** What a rail asks the payer for: an x402 v2 `PaymentRequirements` entry. */
export interface PaymentRequirements {
  scheme: string
  /** CAIP-2 network id, e.g. `eip155:31337`. */
  network: string
  /** Amount in the asset's atomic units, as a decimal string. */
  amount: string
  /** Asset identifier (token contract address on EVM). */
  asset: string
  payTo: string
  maxTimeoutSeconds: number
  extra?: Record<string, unknown>
}

/** A payer's proof: an x402 v2 `PaymentPayload`. */
export interface PaymentPayload {
  x402Version: number
  resource?: { url: string; description?: string; mimeType?: string }
  accepted: PaymentRequirements
  payload: Record<string, unknown>
  extensions?: Record<string, unknown>
}

export interface VerifyOutcome {
  isValid: boolean
  /** Stable snake_case reason when invalid (x402's `invalidReason`). */
  invalidReason?: string
  invalidMessage?: string
  payer?: string
}

export interface SettleOutcome {
  success: boolean
  /** Transaction hash; empty when settlement failed. */
  transaction: string
  network: string
  payer?: string
  errorReason?: string
  errorMessage?: string
}

/** Options every rail call takes. */
export interface RailCallOptions {
  signal?: AbortSignal | undefined
}

export interface PaymentRail {
  /** Stable id, e.g. `x402-exact-evm`. */
  readonly id: string
  /** Wire protocol name as in SEP-2009 `payments/list` (e.g. `x402`). */
  readonly protocol: string
  /** Networks this rail can be paid on (CAIP-2). */
  readonly networks: readonly string[]
  /**
   * Turns a price (decimal amount in whole units of an asset symbol such as `USDC`) into what the
   * payer must sign. Throws `CONFIG` when the asset is not supported on this rail.
   */
  requirements(price: { amount: string; asset: string; network?: string | undefined }): Promise<PaymentRequirements[]>
  /**
   * A key that identifies this exact payment authorization (e.g. `eip155:31337:<payer>:<nonce>`),
   * so the same proof can never back two charges. Throws `INVALID_PARAMS` for a malformed payload.
   */
  proofKey(payload: PaymentPayload): string
  verify(payload: PaymentPayload, requirements: PaymentRequirements, options?: RailCallOptions): Promise<VerifyOutcome>
  settle(payload: PaymentPayload, requirements: PaymentRequirements, options?: RailCallOptions): Promise<SettleOutcome>
  /**
   * Optional: the settlement of this payment if it already happened (e.g. EIP-3009
   * `authorizationState` on chain), or undefined when it did not. Lets the engine recover a charge
   * whose settlement landed but whose ledger update was lost to a crash or a timed-out settle.
   */
  settlement?(payload: PaymentPayload, options?: RailCallOptions): Promise<SettleOutcome | undefined>
}
