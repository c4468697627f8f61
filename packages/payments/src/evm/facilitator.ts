import { x402Facilitator } from '@x402/core/facilitator'
import type { FacilitatorClient } from '@x402/core/server'
import type { PaymentPayload, PaymentRequirements, SettleResponse, SupportedResponse, VerifyResponse } from '@x402/core/types'
import { toFacilitatorEvmSigner } from '@x402/evm'
import { ExactEvmScheme } from '@x402/evm/exact/facilitator'
import type { Address, Chain, LocalAccount, PublicClient, Transport } from 'viem'
import { createWalletClient, custom } from 'viem'
import { exactAuthorization } from './exact-payload.ts'
import { serial } from './serial.ts'
import { shortMessage } from './short-message.ts'

export interface LocalFacilitatorOptions {
  /** Where payments settle: the chain's CAIP-2 id and a client for it (a `DevChain` fits). */
  chain: { network: string; publicClient: PublicClient<Transport, Chain> }
  /** The facilitator's own account: submits `transferWithAuthorization` and pays its gas. */
  account: LocalAccount
  /** How long settle waits for a receipt. Default: x402's (on a dev chain receipts are immediate). */
  confirmationTimeoutMs?: number | undefined
}

/** An x402 facilitator running in this process, usable wherever a `FacilitatorClient` is. */
export interface LocalFacilitator extends FacilitatorClient {
  /** The address that settles (and pays gas). */
  readonly address: Address
  readonly networks: readonly string[]
  /** The underlying `x402Facilitator`, for its lifecycle hooks. */
  readonly x402: x402Facilitator
}

/**
 * The real x402 facilitator (`x402Facilitator` + `@x402/evm`'s `exact` scheme) in process, for
 * one EVM chain: verifies EIP-3009 authorizations (signature, recipient, amount, validity window,
 * balance, on-chain simulation) and settles them with `transferWithAuthorization`. Transactions
 * from its account are sent one at a time, so concurrent settlements never share a nonce; give it
 * an account nothing else sends from.
 *
 * @example
 * ```ts
 * const facilitator = createLocalFacilitator({ chain, account: chain.accounts[1] })
 * const result = await facilitator.verify(paymentPayload, paymentRequirements)
 * ```
 */
export function createLocalFacilitator(options: LocalFacilitatorOptions): LocalFacilitator {
  const { network, publicClient } = options.chain
  const { account } = options
  const wallet = createWalletClient({
    account,
    chain: publicClient.chain,
    transport: custom({ request: (args) => publicClient.request(args as never) }, { retryCount: 0 }),
    pollingInterval: publicClient.pollingInterval,
    cacheTime: 0,
  })
  // One transaction at a time, with the nonce tracked here: saves a round trip per settlement and
  // keeps concurrent settlements from picking the same nonce. Any failure re-reads it from the chain.
  const serialized = serial()
  let nextNonce: number | undefined
  const send = <T>(tx: (nonce: number) => Promise<T>) =>
    serialized(async () => {
      const nonce = nextNonce ?? (await publicClient.getTransactionCount({ address: account.address, blockTag: 'pending' }))
      try {
        const hash = await tx(nonce)
        nextNonce = nonce + 1
        return hash
      } catch (err) {
        nextNonce = undefined
        throw err
      }
    })
  const signer = toFacilitatorEvmSigner(
    {
      address: account.address,
      getCode: (args) => publicClient.getCode(args),
      readContract: (args) => publicClient.readContract({ ...args, args: args.args ?? [] } as never),
      verifyTypedData: (args) => publicClient.verifyTypedData(args as never),
      writeContract: (args) => send((nonce) => wallet.writeContract({ ...args, args: args.args ?? [], nonce } as never)),
      sendTransaction: (args) => send((nonce) => wallet.sendTransaction({ ...args, nonce })),
      waitForTransactionReceipt: (args) => publicClient.waitForTransactionReceipt(args),
    },
    options.confirmationTimeoutMs === undefined ? undefined : { confirmationTimeoutMs: options.confirmationTimeoutMs },
  )
  const x402 = new x402Facilitator().register(network as `${string}:${string}`, new ExactEvmScheme(signer))
  const supports = (req: PaymentRequirements) => req.scheme === 'exact' && req.network === network
  // An EIP-3009 payload with a malformed field would make the scheme throw (BigInt('abc')): answer it.
  const malformed = (p: PaymentPayload) =>
    typeof p.payload === 'object' && p.payload !== null && 'authorization' in p.payload && !exactAuthorization(p.payload)
  return {
    address: account.address,
    networks: [network],
    x402,
    async verify(payload: PaymentPayload, requirements: PaymentRequirements): Promise<VerifyResponse> {
      if (!supports(requirements)) return { isValid: false, invalidReason: unsupported(requirements, network) }
      if (malformed(payload)) return { isValid: false, invalidReason: 'invalid_payload' }
      const res = await x402.verify(payload, requirements)
      return res.invalidMessage === undefined ? res : { ...res, invalidMessage: shortMessage(res.invalidMessage) }
    },
    async settle(payload: PaymentPayload, requirements: PaymentRequirements): Promise<SettleResponse> {
      if (!supports(requirements)) {
        return { success: false, errorReason: unsupported(requirements, network), transaction: '', network: requirements.network }
      }
      if (malformed(payload))
        return { success: false, errorReason: 'invalid_payload', transaction: '', network: requirements.network }
      const res = await x402.settle(payload, requirements)
      return res.errorMessage === undefined ? res : { ...res, errorMessage: shortMessage(res.errorMessage) }
    },
    async getSupported(): Promise<SupportedResponse> {
      return x402.getSupported() as SupportedResponse
    },
  }
}

const unsupported = (req: PaymentRequirements, network: string) =>
  req.scheme !== 'exact' ? 'unsupported_scheme' : req.network !== network ? 'invalid_network' : 'invalid_payment_requirements'
