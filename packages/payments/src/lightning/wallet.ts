/**
 * What Agora needs from a Lightning wallet: issue invoices, pay them, look them up. The local
 * stand-in ({@link createLocalLightning}) and a remote wallet over Nostr Wallet Connect
 * ({@link nwcWallet}) both implement it, so the payment gateway and the paying client never know
 * which one they hold. Amounts are millisatoshis (JS safe integers, as NIP-47 carries them).
 */
import type { AgoraErrorCode } from '@agora/core/errors'
import { AgoraError } from '@agora/core/errors'

/** Lightning networks, as NIP-47's `get_info` names them. */
export type LightningNetwork = 'mainnet' | 'testnet' | 'signet' | 'regtest'

export interface MakeInvoiceRequest {
  /** Millisatoshis; a positive safe integer. */
  amountMsat: number
  /** Goes into the invoice's `d` tag. */
  description?: string | undefined
  /** Seconds until the invoice expires (default 3600, BOLT11's default). */
  expirySeconds?: number | undefined
}

export interface Invoice {
  /** The BOLT11 payment request. */
  invoice: string
  /** Hex sha256 of the preimage. */
  paymentHash: string
  amountMsat: number
  /** Unix seconds. */
  expiresAt: number
}

export interface Payment {
  /** Hex; `sha256(preimage)` is the invoice's payment hash. */
  preimage: string
  feesPaidMsat: number
}

export type InvoiceState = 'pending' | 'settled' | 'expired'

export interface InvoiceStatus {
  state: InvoiceState
  paymentHash: string
  amountMsat: number
  /** Present once settled. */
  preimage?: string | undefined
  /** Unix seconds, once settled. */
  settledAt?: number | undefined
  /** Unix seconds. */
  expiresAt?: number | undefined
  invoice?: string | undefined
}

/** A payment the wallet received (NIP-47 `payment_received`). */
export interface ReceivedPayment {
  invoice: string
  paymentHash: string
  preimage: string
  amountMsat: number
  /** Unix seconds. */
  settledAt: number
}

export interface WalletInfo {
  alias?: string | undefined
  /** The node's public key (hex, compressed secp256k1). */
  pubkey: string
  network: LightningNetwork
  /** NIP-47 method names the wallet answers. */
  methods: string[]
}

export interface CallOptions {
  signal?: AbortSignal | undefined
}

/**
 * A Lightning wallet. Failures throw `AgoraError` with a NIP-47 error code in `data.reason`
 * (`INSUFFICIENT_BALANCE`, `PAYMENT_FAILED`, `NOT_FOUND`, …; see {@link LightningErrorReason}).
 *
 * @example
 * ```ts
 * const invoice = await shop.makeInvoice({ amountMsat: 10_000, description: 'forecast' })
 * const { preimage } = await payer.payInvoice(invoice.invoice)
 * const status = await shop.lookupInvoice({ paymentHash: invoice.paymentHash }) // { state: 'settled', preimage, … }
 * ```
 */
export interface LightningWallet {
  makeInvoice(request: MakeInvoiceRequest, options?: CallOptions): Promise<Invoice>
  /** Pays a BOLT11 invoice that carries an amount. */
  payInvoice(invoice: string, options?: CallOptions): Promise<Payment>
  /** Looks up an invoice this wallet issued (or paid). Throws `NOT_FOUND` for one it never saw. */
  lookupInvoice(query: { paymentHash: string } | { invoice: string }, options?: CallOptions): Promise<InvoiceStatus>
  getBalance(options?: CallOptions): Promise<{ balanceMsat: number }>
  getInfo(options?: CallOptions): Promise<WalletInfo>
  /**
   * Hears payments this wallet receives, when the wallet can push them (the stand-in does; an NWC
   * wallet does when its service sends `payment_received` notifications). Returns an unsubscribe
   * function. Absent when the wallet can only be polled with {@link LightningWallet.lookupInvoice}.
   */
  onPaymentReceived?(listener: (payment: ReceivedPayment) => void): () => void
  close(): Promise<void>
}

/** NIP-47 error codes, carried in `AgoraError.data.reason`. */
export type LightningErrorReason =
  | 'RATE_LIMITED'
  | 'NOT_IMPLEMENTED'
  | 'INSUFFICIENT_BALANCE'
  | 'QUOTA_EXCEEDED'
  | 'RESTRICTED'
  | 'UNAUTHORIZED'
  | 'INTERNAL'
  | 'OTHER'
  | 'PAYMENT_FAILED'
  | 'NOT_FOUND'
  | 'UNSUPPORTED_ENCRYPTION'

const CODES: Record<LightningErrorReason, AgoraErrorCode> = {
  RATE_LIMITED: 'RATE_LIMITED',
  NOT_IMPLEMENTED: 'CONFIG',
  INSUFFICIENT_BALANCE: 'PAYMENT_UNAVAILABLE',
  QUOTA_EXCEEDED: 'PAYMENT_UNAVAILABLE',
  RESTRICTED: 'FORBIDDEN',
  UNAUTHORIZED: 'UNAUTHENTICATED',
  INTERNAL: 'INTERNAL',
  OTHER: 'INTERNAL',
  PAYMENT_FAILED: 'PAYMENT_UNAVAILABLE',
  NOT_FOUND: 'NOT_FOUND',
  UNSUPPORTED_ENCRYPTION: 'CONFIG',
}

/**
 * The `AgoraError` for a wallet failure: the code follows the NIP-47 reason (an unknown reason
 * counts as `OTHER`), and `data.reason` keeps the reason itself.
 *
 * @example
 * ```ts
 * throw walletError('INSUFFICIENT_BALANCE', 'balance 5000 msat is less than 10000 msat')
 * ```
 */
export function walletError(reason: string, message: string, data: Record<string, unknown> = {}): AgoraError {
  const known = (reason in CODES ? reason : 'OTHER') as LightningErrorReason
  return new AgoraError(CODES[known], message, { data: { ...data, reason } })
}

/**
 * The NIP-47 reason an error carries (`data.reason`), or `INTERNAL` for anything else.
 *
 * @example
 * ```ts
 * try { await wallet.payInvoice(bolt11) } catch (err) { if (walletErrorReason(err) === 'INSUFFICIENT_BALANCE') topUp() }
 * ```
 */
export function walletErrorReason(err: unknown): string {
  const reason = (err as { data?: { reason?: unknown } } | undefined)?.data?.reason
  return typeof reason === 'string' ? reason : 'INTERNAL'
}

/** Throws `INVALID_PARAMS` unless `value` is a positive safe integer number of millisatoshis. */
export function requireMsat(value: unknown, what = 'amountMsat'): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0) {
    throw new AgoraError('INVALID_PARAMS', `${what} must be a positive whole number of millisatoshis, got ${String(value)}`)
  }
  return value
}
