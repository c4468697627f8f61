import { AgoraError, isAgoraError } from '@agora/core/errors'
import type { FacilitatorClient } from '@x402/core/server'
import type { PaymentPayload as X402Payload, PaymentRequirements as X402Requirements } from '@x402/core/types'
import type { PublicClient } from 'viem'
import { getAddress, isAddress, parseAbi } from 'viem'
import { toAtomicUnits } from '../amount.ts'
import type { PaymentPayload, PaymentRail, PaymentRequirements, RailCallOptions, SettleOutcome, VerifyOutcome } from '../rail.ts'
import { exactAuthorization } from './exact-payload.ts'
import { shortMessage } from './short-message.ts'

/** An EIP-3009 asset the rail accepts, keyed by symbol in {@link X402ExactRailOptions.assets}. */
export interface ExactAsset {
  address: string
  /** EIP-712 domain name (`USD Coin` for USDC on most chains). */
  name: string
  /** EIP-712 domain version (`2` for USDC). */
  version: string
  decimals: number
}

export interface X402ExactRailOptions {
  facilitator: FacilitatorClient
  /** Who gets paid. */
  payTo: string
  /** CAIP-2 network, e.g. `eip155:31337` or `eip155:8453` (Base). */
  network: string
  /** Accepted assets by symbol, e.g. `{ USDC: tokenInfo }`. */
  assets: Readonly<Record<string, ExactAsset>>
  /** How long a payer's authorization must stay valid, in seconds. Default 300. */
  maxTimeoutSeconds?: number | undefined
  /** Longest wait for the facilitator's verify (ms). Default 10 s. */
  verifyTimeoutMs?: number | undefined
  /** Longest wait for the facilitator's settle (ms); an on-chain transaction. Default 60 s. */
  settleTimeoutMs?: number | undefined
  /**
   * Reads the chain directly (EIP-3009 `authorizationState`) so the engine can tell whether a
   * payment whose settle outcome was lost (a crash, a timed-out settle) actually moved money.
   */
  publicClient?: Pick<PublicClient, 'readContract'> | undefined
}

/** The EIP-3009 view that says whether an authorization nonce was used. */
const authorizationStateAbi = parseAbi(['function authorizationState(address authorizer, bytes32 nonce) view returns (bool)'])

const NETWORK = /^eip155:\d+$/

/**
 * The x402 `exact` rail on EVM: the payer signs an EIP-3009 `transferWithAuthorization` for the
 * exact price, and a facilitator (in process, or over HTTP) verifies and settles it. Prices are
 * decimal strings in whole units, converted to atomic units exactly ("0.01" USDC → "10000").
 * A facilitator that fails, is unreachable or too slow gives `PAYMENT_UNAVAILABLE`; the payer's
 * mistakes come back as `isValid: false` / `success: false` with x402's snake_case reason.
 *
 * @example
 * ```ts
 * const rail = x402ExactRail({ facilitator, payTo, network: 'eip155:31337', assets: { USDC: token } })
 * const [requirements] = await rail.requirements({ amount: '0.01', asset: 'USDC' })
 * const verdict = await rail.verify(paymentPayload, requirements, { signal })
 * ```
 */
export function x402ExactRail(options: X402ExactRailOptions): PaymentRail {
  const { facilitator, network } = options
  if (!NETWORK.test(network))
    throw new AgoraError('CONFIG', `network must be a CAIP-2 eip155 id like "eip155:8453", got ${network}`)
  if (!isAddress(options.payTo, { strict: false }))
    throw new AgoraError('CONFIG', `payTo is not an EVM address: ${options.payTo}`)
  const payTo = getAddress(options.payTo)
  const assets = new Map(
    Object.entries(options.assets).map(([symbol, a]) => {
      if (!isAddress(a.address, { strict: false }))
        throw new AgoraError('CONFIG', `asset ${symbol} has no valid address: ${a.address}`)
      return [symbol, { ...a, address: getAddress(a.address) }] as const
    }),
  )
  const maxTimeoutSeconds = options.maxTimeoutSeconds ?? 300
  const verifyTimeoutMs = options.verifyTimeoutMs ?? 10_000
  const settleTimeoutMs = options.settleTimeoutMs ?? 60_000

  const findAsset = (asset: string) =>
    assets.get(asset) ?? [...assets.values()].find((a) => a.address.toLowerCase() === asset.toLowerCase())

  return {
    id: 'x402-exact-evm',
    protocol: 'x402',
    networks: [network],

    async requirements(price) {
      if (price.network !== undefined && price.network !== network) {
        throw new AgoraError('CONFIG', `this x402 rail settles on ${network}, not ${price.network}`)
      }
      const asset = findAsset(price.asset)
      if (!asset) {
        throw new AgoraError(
          'CONFIG',
          `asset ${price.asset} is not accepted on ${network} (accepted: ${[...assets.keys()].join(', ')})`,
        )
      }
      const atomic = toAtomicUnits(price.amount, asset.decimals, 'CONFIG')
      if (atomic <= 0n) throw new AgoraError('CONFIG', `a price must be more than 0, got ${price.amount} ${price.asset}`)
      return [
        {
          scheme: 'exact',
          network,
          amount: atomic.toString(),
          asset: asset.address,
          payTo,
          maxTimeoutSeconds,
          extra: { name: asset.name, version: asset.version },
        },
      ]
    },

    async settlement(payload, callOptions) {
      const client = options.publicClient
      const auth = exactAuthorization(payload?.payload)
      if (!client || !auth || !isAddress(payload.accepted.asset, { strict: false })) return undefined
      callOptions?.signal?.throwIfAborted()
      const used = await client.readContract({
        address: getAddress(payload.accepted.asset),
        abi: authorizationStateAbi,
        functionName: 'authorizationState',
        args: [getAddress(auth.from), auth.nonce],
      })
      return used ? { success: true, transaction: '', network, payer: getAddress(auth.from) } : undefined
    },

    proofKey(payload) {
      const auth = exactAuthorization(payload?.payload)
      if (!auth) {
        throw new AgoraError(
          'INVALID_PARAMS',
          'the payment is not an x402 exact EVM payload (payload.authorization or payload.signature missing or malformed)',
        )
      }
      return `${network}:${auth.from.toLowerCase()}:${auth.nonce.toLowerCase()}`
    },

    async verify(payload, requirements, callOptions) {
      const local = precheck(payload, requirements, network)
      if (local) return { isValid: false, invalidReason: local }
      try {
        const res = await guarded(
          'verify',
          () => facilitator.verify(toX402(payload), toX402Req(requirements)),
          verifyTimeoutMs,
          callOptions,
        )
        return compact({
          isValid: res.isValid === true,
          invalidReason: res.invalidReason,
          invalidMessage: shortMessage(res.invalidMessage),
          payer: res.payer,
        })
      } catch (err) {
        const failure = err as { name?: string; invalidReason?: string; invalidMessage?: string; payer?: string }
        if (failure.name === 'VerifyError' && failure.invalidReason) {
          return compact({
            isValid: false,
            invalidReason: failure.invalidReason,
            invalidMessage: shortMessage(failure.invalidMessage),
            payer: failure.payer,
          })
        }
        throw unavailable('verify', err)
      }
    },

    async settle(payload, requirements, callOptions) {
      const local = precheck(payload, requirements, network)
      if (local) return { success: false, transaction: '', network: requirements.network, errorReason: local }
      try {
        const res = await guarded(
          'settle',
          () => facilitator.settle(toX402(payload), toX402Req(requirements)),
          settleTimeoutMs,
          callOptions,
        )
        return compact({
          success: res.success === true,
          transaction: res.transaction ?? '',
          network: res.network ?? requirements.network,
          payer: res.payer,
          errorReason: res.errorReason,
          errorMessage: shortMessage(res.errorMessage),
        })
      } catch (err) {
        const failure = err as {
          name?: string
          errorReason?: string
          errorMessage?: string
          payer?: string
          transaction?: string
        }
        if (failure.name === 'SettleError' && failure.errorReason) {
          return compact({
            success: false,
            transaction: failure.transaction ?? '',
            network: requirements.network,
            payer: failure.payer,
            errorReason: failure.errorReason,
            errorMessage: shortMessage(failure.errorMessage),
          })
        }
        throw unavailable('settle', err)
      }
    },
  }
}

/** Mistakes the rail can see without asking the facilitator (which might throw on them). */
function precheck(payload: PaymentPayload, requirements: PaymentRequirements, network: string): string | undefined {
  if (typeof payload !== 'object' || payload === null) return 'invalid_payload'
  if (payload.x402Version !== 2) return 'invalid_x402_version'
  if (requirements.scheme !== 'exact') return 'unsupported_scheme'
  if (requirements.network !== network) return 'invalid_network'
  if (!exactAuthorization(payload.payload) || typeof payload.accepted !== 'object' || payload.accepted === null)
    return 'invalid_payload'
  return undefined
}

const toX402 = (p: PaymentPayload) => ({ ...p, accepted: toX402Req(p.accepted) }) as X402Payload
const toX402Req = (r: PaymentRequirements) => ({ ...r, extra: r.extra ?? {} }) as X402Requirements

/** Drops undefined fields, so outcomes compare and serialize cleanly. */
function compact<T extends VerifyOutcome | SettleOutcome>(outcome: T): T {
  for (const key of Object.keys(outcome) as Array<keyof T>) if (outcome[key] === undefined) delete outcome[key]
  return outcome
}

function unavailable(operation: 'verify' | 'settle', err: unknown): AgoraError {
  if (isAgoraError(err)) return err
  const message = err instanceof Error ? err.message : String(err)
  const cause = (err as { cause?: { code?: unknown } }).cause
  const detail = typeof cause?.code === 'string' ? `${message} (${cause.code})` : message
  return new AgoraError('PAYMENT_UNAVAILABLE', `the x402 facilitator failed to ${operation}: ${detail}`, {
    data: { operation, ...(operation === 'settle' ? { indeterminate: true } : {}) },
    cause: err,
  })
}

/**
 * Runs a facilitator call until it answers, `timeoutMs` passes (`PAYMENT_UNAVAILABLE`) or the
 * caller aborts (`CANCELLED`). A late answer is dropped; a settle cut short may still land on chain.
 */
function guarded<T>(
  operation: 'verify' | 'settle',
  call: () => Promise<T>,
  timeoutMs: number,
  options: RailCallOptions | undefined,
): Promise<T> {
  const signal = options?.signal
  if (signal?.aborted) return Promise.reject(new AgoraError('CANCELLED', `x402 ${operation} was cancelled by the caller`))
  return new Promise<T>((resolve, reject) => {
    const finish = () => {
      clearTimeout(timer)
      signal?.removeEventListener('abort', onAbort)
    }
    const onAbort = () => {
      finish()
      reject(new AgoraError('CANCELLED', `x402 ${operation} was cancelled by the caller`))
    }
    const timer = setTimeout(() => {
      finish()
      const outcome = operation === 'settle' ? '; the payment may still settle on chain' : ''
      reject(
        new AgoraError(
          'PAYMENT_UNAVAILABLE',
          `the x402 facilitator did not answer ${operation} within ${timeoutMs} ms${outcome}`,
          {
            data: { operation, timeoutMs, ...(operation === 'settle' ? { indeterminate: true } : {}) },
          },
        ),
      )
    }, timeoutMs)
    signal?.addEventListener('abort', onAbort, { once: true })
    let pending: Promise<T>
    try {
      pending = call()
    } catch (err) {
      pending = Promise.reject(err)
    }
    pending.then(
      (value) => {
        finish()
        resolve(value)
      },
      (err: unknown) => {
        finish()
        reject(err)
      },
    )
  })
}
