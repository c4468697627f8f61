/**
 * Paying for tools: the seam between {@link AgoraClient.callTool} and a wallet. The client finds a
 * payment challenge in any of the three wire forms an Agora server (or another x402 MCP server)
 * answers with, asks the {@link PaymentHook} what to do, and retries the call once with the proof.
 * Nothing here knows a chain: wallets (e.g. `evmPaymentHook` in `@agora/payments/wallet`)
 * implement the hook.
 */
import { AgoraError, isAgoraError } from '@agora/core/errors'
import type { CallToolResult } from '@modelcontextprotocol/client'

/**
 * How the server put the challenge on the wire:
 * - `sep-2009`: JSON-RPC error `-32803` with `data: { protocol: "x402", paymentInfo }`;
 * - `x402-mcp`: x402's MCP binding, an `isError` result whose `structuredContent` is the `PaymentRequired`;
 * - `x402-extension`: spec 2026-07-28's `org.x402/payment`, a result with `resultType: "payment_required"`.
 */
export type PaymentForm = 'sep-2009' | 'x402-mcp' | 'x402-extension'

/** One way to pay, as the server offers it (an x402 v2 `PaymentRequirements`). */
export interface PaymentOffer {
  scheme: string
  /** CAIP-2 network, e.g. `eip155:8453`. */
  network: string
  /** Amount in the asset's atomic units (a decimal string). */
  amount: string
  asset: string
  payTo: string
  maxTimeoutSeconds: number
  extra?: Record<string, unknown>
}

/** An x402 v2 `PaymentRequired`: what a tool costs, and how it can be paid. */
export interface PaymentRequired {
  x402Version: number
  /** The server's reason, e.g. `insufficient_funds` when a payment was refused. */
  error?: string
  resource: { url: string; description?: string; mimeType?: string }
  accepts: PaymentOffer[]
  extensions?: Record<string, unknown>
}

/** What the hook is asked about: one tool call that needs payment. */
export interface PaymentChallenge {
  paymentRequired: PaymentRequired
  form: PaymentForm
  /** The tool being called. */
  tool: string
  /** The server, as a target string (e.g. `http://127.0.0.1:3000/mcp`). */
  target: string
}

/** The hook's answer: a proof to send (an x402 `PaymentPayload`), or a reason not to pay. */
export type PaymentChoice = { proof: unknown } | { decline: string }

/** How a paid call ended, for a hook that keeps a record. */
export interface PaymentOutcome {
  challenge: PaymentChallenge
  proof: unknown
  /**
   * `settled`: the result came back with a settlement; `refused`: the server challenged again
   * (it did not accept the payment); `unpaid`: a result without a settlement (e.g. the tool
   * failed and the server charged nothing); `error`: the retry failed otherwise (outcome unknown).
   */
  status: 'settled' | 'refused' | 'unpaid' | 'error'
  result?: CallToolResult
  /** The server's x402 `SettleResponse` (`_meta["x402/payment-response"]`), when there is one. */
  settlement?: Record<string, unknown>
  /** The server's `_meta["agora/receipt"]`, when there is one. */
  receipt?: Record<string, unknown>
  /** Why the payment was refused, or the error the retry failed with. */
  reason?: string
}

/**
 * Pays for calls on the client's behalf. `onPaymentRequired` decides (and signs) before anything
 * is sent; `onPaymentResult`, when present, hears how the paid retry ended (its failures are
 * ignored: the call's result matters more).
 *
 * @example
 * ```ts
 * const hook: PaymentHook = {
 *   async onPaymentRequired({ paymentRequired, tool }) {
 *     if (tool !== 'forecast') return { decline: `not paying for ${tool}` }
 *     return { proof: await myWallet.sign(paymentRequired) }
 *   },
 * }
 * const client = await connect('http://127.0.0.1:3000/mcp', { payments: hook })
 * ```
 */
export interface PaymentHook {
  onPaymentRequired(challenge: PaymentChallenge, options: { signal?: AbortSignal | undefined }): Promise<PaymentChoice>
  onPaymentResult?(outcome: PaymentOutcome): void | Promise<void>
}

/** `params._meta` key the proof travels in. */
export const PAYMENT_META_KEY = 'x402/payment'
/** `result._meta` key of the server's x402 `SettleResponse`. */
export const PAYMENT_RESPONSE_META_KEY = 'x402/payment-response'
/** `result._meta` key of Agora's receipt. */
export const RECEIPT_META_KEY = 'agora/receipt'

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)

/**
 * True for something shaped like an x402 `PaymentRequired` (a version and a list of offers).
 *
 * @example
 * ```ts
 * isPaymentRequired({ x402Version: 2, resource: { url: 'mcp://tool/forecast' }, accepts: [] }) // true
 * ```
 */
export function isPaymentRequired(value: unknown): value is PaymentRequired {
  return isObject(value) && typeof value.x402Version === 'number' && Array.isArray(value.accepts)
}

/**
 * The challenge in a tool result, if it is one: x402's MCP binding (an `isError` result carrying
 * the `PaymentRequired` as structured content, or as the JSON text of its first block) or the
 * 2026-07-28 extension (`resultType: "payment_required"`).
 *
 * @example
 * ```ts
 * const found = challengeInResult(await client.sdk.callTool({ name: 'forecast', arguments: {} }))
 * if (found) console.log(found.form, found.paymentRequired.accepts)
 * ```
 */
export function challengeInResult(result: unknown): { form: PaymentForm; paymentRequired: PaymentRequired } | undefined {
  if (!isObject(result)) return undefined
  const resultType = result.resultType
  if ((resultType === 'payment_required' || resultType === undefined) && isPaymentRequired(result.paymentRequired)) {
    return { form: 'x402-extension', paymentRequired: result.paymentRequired }
  }
  if (result.isError !== true) return undefined
  if (isPaymentRequired(result.structuredContent)) return { form: 'x402-mcp', paymentRequired: result.structuredContent }
  const first = Array.isArray(result.content) ? (result.content[0] as { type?: unknown; text?: unknown } | undefined) : undefined
  if (first?.type === 'text' && typeof first.text === 'string' && first.text.startsWith('{')) {
    try {
      const parsed: unknown = JSON.parse(first.text)
      if (isPaymentRequired(parsed)) return { form: 'x402-mcp', paymentRequired: parsed }
    } catch {}
  }
  return undefined
}

/** JSON-RPC codes that carry a payment challenge: SEP-2009's, and two seen in the wild. */
const CHALLENGE_RPC_CODES = new Set([-32803, -32042, 402, -402])

/**
 * The challenge in an error the client threw, if it is one: SEP-2009's `-32803` with
 * `data.paymentInfo` (also `data.x402`, or the data itself, as older x402 MCP servers send it).
 *
 * @example
 * ```ts
 * try { await client.callTool('forecast') } catch (err) { console.log(challengeInError(err)?.paymentRequired) }
 * ```
 */
export function challengeInError(err: unknown): { form: PaymentForm; paymentRequired: PaymentRequired } | undefined {
  if (!isAgoraError(err) || !err.data) return undefined
  const { data } = err
  if (err.code !== 'PAYMENT_REQUIRED' && !CHALLENGE_RPC_CODES.has(data.rpcCode as number)) return undefined
  for (const candidate of [data.paymentInfo, data.x402, data.paymentRequired, data]) {
    if (isPaymentRequired(candidate)) return { form: 'sep-2009', paymentRequired: candidate }
  }
  return undefined
}

/** What {@link payForCall} needs from the connection. */
export interface PaidCallContext {
  tool: string
  target: string
  hook?: PaymentHook | undefined
  signal?: AbortSignal | undefined
}

/**
 * Runs one tool call, paying once if the server asks: `call` sends the request (with extra
 * `_meta` on the retry) and throws `AgoraError`s. Without a hook, or when the hook declines, or
 * when the server challenges again after the payment, the call fails with `PAYMENT_REQUIRED`
 * (`data.paymentRequired` holds the server's terms). Never retries more than once.
 *
 * @example
 * ```ts
 * const result = await payForCall((meta) => sdk.callTool({ name: 'forecast', arguments: args, _meta: meta }), {
 *   tool: 'forecast', target: 'http://127.0.0.1:3000/mcp', hook,
 * })
 * ```
 */
export async function payForCall(
  call: (meta?: Record<string, unknown>) => Promise<CallToolResult>,
  ctx: PaidCallContext,
): Promise<CallToolResult> {
  let found: ReturnType<typeof challengeInResult>
  let firstError: unknown
  try {
    const result = await call()
    found = challengeInResult(result)
    if (!found) return result
  } catch (err) {
    found = challengeInError(err)
    if (!found) throw err
    firstError = err
  }
  const challenge: PaymentChallenge = { ...found, tool: ctx.tool, target: ctx.target }
  const terms = { paymentRequired: found.paymentRequired, form: found.form, tool: ctx.tool, target: ctx.target }
  if (!ctx.hook) {
    const reason = found.paymentRequired.error
    throw new AgoraError('PAYMENT_REQUIRED', `${ctx.tool} requires payment${reason ? ` (${reason})` : ''}`, {
      data: { ...rpcData(firstError), ...terms },
      cause: firstError,
    })
  }
  ctx.signal?.throwIfAborted()
  const choice = await ctx.hook.onPaymentRequired(challenge, { signal: ctx.signal })
  if ('decline' in choice) {
    throw new AgoraError('PAYMENT_REQUIRED', choice.decline, { data: { ...terms, declined: true } })
  }
  const report = async (outcome: Omit<PaymentOutcome, 'challenge' | 'proof'>) => {
    try {
      await ctx.hook?.onPaymentResult?.({ challenge, proof: choice.proof, ...outcome })
    } catch {}
  }

  let result: CallToolResult
  try {
    result = await call({ [PAYMENT_META_KEY]: choice.proof })
  } catch (err) {
    const again = challengeInError(err)
    if (!again) {
      await report({ status: 'error', reason: err instanceof Error ? err.message : String(err) })
      throw err
    }
    const reason = again.paymentRequired.error ?? (err as Error).message
    await report({ status: 'refused', reason, ...settlementOf(err) })
    throw refused(ctx.tool, reason, { ...terms, paymentRequired: again.paymentRequired, ...rpcData(err) }, err)
  }
  const again = challengeInResult(result)
  if (again) {
    const reason = again.paymentRequired.error ?? 'the server asked for payment again'
    await report({ status: 'refused', reason, result, ...settlementOf(result) })
    throw refused(ctx.tool, reason, { ...terms, paymentRequired: again.paymentRequired })
  }
  const paid = settlementOf(result)
  await report({ status: paid.settlement?.success === true ? 'settled' : 'unpaid', result, ...paid })
  return result
}

function refused(tool: string, reason: string, data: Record<string, unknown>, cause?: unknown): AgoraError {
  return new AgoraError('PAYMENT_REQUIRED', `${tool}: the server did not accept the payment: ${reason}`, {
    data: { ...data, refused: true },
    cause,
  })
}

function rpcData(err: unknown): Record<string, unknown> {
  const rpcCode = isAgoraError(err) ? err.data?.rpcCode : undefined
  return typeof rpcCode === 'number' ? { rpcCode } : {}
}

/** The settlement and receipt in a result's `_meta` (or a settle error's `data`). */
function settlementOf(source: unknown): Pick<PaymentOutcome, 'settlement' | 'receipt'> {
  const meta = isAgoraError(source)
    ? source.data
    : isObject(source)
      ? (source._meta as Record<string, unknown> | undefined)
      : undefined
  const settlement = meta?.[PAYMENT_RESPONSE_META_KEY] ?? meta?.settlement
  const receipt = meta?.[RECEIPT_META_KEY]
  return {
    ...(isObject(settlement) ? { settlement } : {}),
    ...(isObject(receipt) ? { receipt } : {}),
  }
}
