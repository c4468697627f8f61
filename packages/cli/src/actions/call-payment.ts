/**
 * The paying side of `agora call`: `--max-price` turns on the wallet (within that per-call budget),
 * and a payment challenge the call could not meet becomes one clear line.
 */
import type { PaymentHook, PaymentRequired } from '@agora/client'
import { AgoraError, isAgoraError } from '@agora/core/errors'
import type { PaymentEntry } from '@agora/payments/wallet'
import type { CallFlags } from '../commands/call.ts'
import { DEVCHAIN_URL } from '../defaults.ts'

/** The wallet's payment hook for one call, and the last payment it made. */
export interface CallPayment {
  readonly hook: PaymentHook
  /** The payment this call made, with its outcome once known. */
  paid(): PaymentEntry | undefined
}

/**
 * The `payments` hook `agora call --max-price` connects with: the wallet in `$AGORA_HOME`, paying
 * on `--rpc` (default the dev chain), at most `--max-price` per call, recorded in
 * `$AGORA_HOME/payments.jsonl`.
 *
 * @example
 * ```ts
 * const payment = await callPayment({ maxPrice: '0.05' })
 * const client = await connect(target, { payments: payment.hook })
 * ```
 */
export async function callPayment(flags: CallFlags & { maxPrice: string }): Promise<CallPayment> {
  const { defaultWalletPath, evmPaymentHook, loadWallet, openPaymentRecord } = await import('@agora/payments/wallet')
  const wallet = await loadWallet(defaultWalletPath())
  let last: PaymentEntry | undefined
  const hook = evmPaymentHook({
    wallet,
    rpcUrl: flags.rpc ?? DEVCHAIN_URL,
    budget: { maxPerCall: flags.maxPrice },
    record: openPaymentRecord(),
    onPayment: (entry) => {
      last = entry
    },
  })
  return { hook, paid: () => last }
}

/** One line for people about a payment made: `paid 0.01 USDC for forecast (transaction 0x…)`. */
export function receiptLine(entry: PaymentEntry): string {
  const tx = entry.outcome?.transaction
  return `paid ${entry.amount} ${entry.symbol} for ${entry.tool} to ${entry.payTo} on ${entry.network}${tx ? ` (transaction ${tx})` : ''}`
}

/**
 * Rewrites a payment failure of `agora call` for people: an unpaid challenge says what the tool
 * costs and to pass `--max-price`; a refusal by the budget says that nothing was signed. Other
 * errors come back unchanged.
 *
 * @example
 * ```ts
 * try { await client.callTool(tool, args) } catch (err) { throw await explainPayment(err, tool, flags) }
 * ```
 */
export async function explainPayment(err: unknown, tool: string, flags: CallFlags): Promise<unknown> {
  if (!isAgoraError(err) || err.code !== 'PAYMENT_REQUIRED') return err
  const data = err.data ?? {}
  if (data.declined) {
    const hint = /per-call limit/.test(err.message)
      ? ` (--max-price ${flags.maxPrice})`
      : /the wallet \S+ holds/.test(err.message)
        ? ' (agora wallet fund adds dev tokens)'
        : ''
    return new AgoraError('PAYMENT_REQUIRED', `not paid: ${err.message}${hint}; nothing was signed`, { data, cause: err })
  }
  if (data.refused || flags.maxPrice !== undefined) return err
  const required = data.paymentRequired as PaymentRequired | undefined
  if (!required?.accepts?.length) return err
  const cost = await describeCost(required, flags.rpc ?? DEVCHAIN_URL)
  const hint = cost.amount ? ` (e.g. --max-price ${cost.amount})` : ''
  const { rpcCode: _, ...rest } = data
  return new AgoraError('PAYMENT_REQUIRED', `${tool} costs ${cost.text}; pass --max-price to pay${hint}`, {
    data: rest,
    cause: err,
  })
}

/** What the first offer costs, in whole units when the chain says the token's decimals. */
async function describeCost(required: PaymentRequired, rpc: string): Promise<{ text: string; amount?: string }> {
  const offer = required.accepts[0]!
  try {
    const { assetInfo, chainReader, fromAtomic } = await loadAmounts()
    const reader = chainReader(rpc, { timeoutMs: 3_000 })
    if (`eip155:${await reader.getChainId()}` === offer.network) {
      const info = await assetInfo(reader, offer.asset)
      const amount = fromAtomic(BigInt(offer.amount), info.decimals)
      return { text: `${amount} ${info.symbol}`, amount }
    }
  } catch {}
  return { text: `${offer.amount} atomic units of ${offer.asset} on ${offer.network} (see --rpc)` }
}

async function loadAmounts() {
  const { assetInfo, chainReader, fromAtomicUnits } = await import('@agora/payments/wallet')
  return { assetInfo, chainReader, fromAtomic: fromAtomicUnits }
}
