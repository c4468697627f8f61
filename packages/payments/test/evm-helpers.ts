import { x402Client } from '@x402/core/client'
import { toClientEvmSigner } from '@x402/evm'
import { ExactEvmScheme } from '@x402/evm/exact/client'
import type { Address, Hex, PrivateKeyAccount } from 'viem'
import { parseSignature } from 'viem'
import type { DevChain, TokenInfo } from '../src/evm/index.ts'
import type { PaymentPayload, PaymentRequirements } from '../src/rail.ts'

/** What a real x402 client does: signs an EIP-3009 authorization for the first accepted option. */
export async function pay(chain: DevChain, payer: PrivateKeyAccount, requirements: PaymentRequirements): Promise<PaymentPayload> {
  const client = new x402Client()
    .register(chain.network as `${string}:${string}`, new ExactEvmScheme(toClientEvmSigner(payer, chain.publicClient as never)))
    .setSpendControls({ allowedAssets: true })
  const paymentRequired = {
    x402Version: 2,
    resource: { url: 'mcp://tool/paid-echo' },
    accepts: [{ ...requirements, extra: requirements.extra ?? {} }],
  }
  return (await client.createPaymentPayload(paymentRequired as never)) as unknown as PaymentPayload
}

export interface AuthorizationFields {
  from: Address
  to: Address
  value: bigint
  validAfter: bigint
  validBefore: bigint
  nonce: Hex
}

export const randomNonce = (): Hex => `0x${Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString('hex')}`

/** Signs EIP-3009 `TransferWithAuthorization` by hand (for cases a well-behaved client never makes). */
export async function signAuthorization(
  chainId: number,
  token: TokenInfo,
  signer: PrivateKeyAccount,
  message: AuthorizationFields,
): Promise<{ signature: Hex; v: number; r: Hex; s: Hex }> {
  const signature = await signer.signTypedData({
    domain: { name: token.name, version: token.version, chainId, verifyingContract: token.address },
    types: {
      TransferWithAuthorization: [
        { name: 'from', type: 'address' },
        { name: 'to', type: 'address' },
        { name: 'value', type: 'uint256' },
        { name: 'validAfter', type: 'uint256' },
        { name: 'validBefore', type: 'uint256' },
        { name: 'nonce', type: 'bytes32' },
      ],
    },
    primaryType: 'TransferWithAuthorization',
    message,
  })
  const { v, r, s, yParity } = parseSignature(signature)
  return { signature, v: Number(v ?? BigInt(yParity + 27)), r, s }
}

/** A hand-made x402 payload around a signed authorization. */
export async function handMadePayload(
  chain: DevChain,
  token: TokenInfo,
  signer: PrivateKeyAccount,
  requirements: PaymentRequirements,
  overrides: Partial<AuthorizationFields> = {},
): Promise<PaymentPayload> {
  const now = BigInt(Math.floor(Date.now() / 1000))
  const auth: AuthorizationFields = {
    from: signer.address,
    to: requirements.payTo as Address,
    value: BigInt(requirements.amount),
    validAfter: now - 600n,
    validBefore: now + 300n,
    nonce: randomNonce(),
    ...overrides,
  }
  const { signature } = await signAuthorization(chain.chainId, token, signer, auth)
  return {
    x402Version: 2,
    accepted: requirements,
    payload: {
      signature,
      authorization: {
        from: auth.from,
        to: auth.to,
        value: auth.value.toString(),
        validAfter: auth.validAfter.toString(),
        validBefore: auth.validBefore.toString(),
        nonce: auth.nonce,
      },
    },
  }
}

/**
 * A dev chain with the token and facilitator, an x402 exact rail paying `accounts[7]`, and a temp
 * dir for ledgers: what the engine and wallet tests all start from.
 */
export async function startPaidChain(prefix: string) {
  const { mkdtempSync, rmSync } = await import('node:fs')
  const { tmpdir } = await import('node:os')
  const { join } = await import('node:path')
  const { startDevchain, x402ExactRail } = await import('../src/evm/index.ts')
  const devchain = await startDevchain({ port: 0 })
  const payTo = devchain.accounts[7]!.address
  const rail = x402ExactRail({
    facilitator: devchain.facilitator,
    payTo,
    network: devchain.chain.network,
    assets: { USDC: devchain.token },
    publicClient: devchain.chain.publicClient,
  })
  const dir = mkdtempSync(join(tmpdir(), prefix))
  return {
    devchain,
    payTo,
    rail,
    dir,
    async close() {
      await devchain.close()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}
