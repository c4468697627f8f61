import type { Abi, Address, Chain, PublicClient, Transport } from 'viem'
import type { ContractArtifact } from './compile.ts'
import artifact from './contracts/AgoraUSD.json' with { type: 'json' }

/**
 * An EIP-3009 token as x402's `exact` scheme needs it: where it lives and its EIP-712 domain
 * (`name`, `version`), which payers sign over.
 */
export interface TokenInfo {
  address: Address
  /** EIP-712 domain name, e.g. `USD Coin`. */
  name: string
  /** EIP-712 domain version, e.g. `2`. */
  version: string
  decimals: number
  symbol?: string | undefined
}

/** The committed compiled AgoraUSD (`contracts/AgoraUSD.json`): abi, bytecode, source hash. */
export const agoraUsdArtifact = artifact as unknown as ContractArtifact

/** AgoraUSD's ABI: ERC-20, EIP-3009 (both signature overloads), `version()`, dev-only `mint`. */
export const agoraUsdAbi: Abi = agoraUsdArtifact.abi

/** AgoraUSD's fixed metadata: USDC's symbol, decimals and EIP-712 domain. */
export const AGORA_USD = { name: 'USD Coin', version: '2', symbol: 'USDC', decimals: 6 } as const

/**
 * Reads an ERC-20 balance in atomic units.
 *
 * @example
 * ```ts
 * const atomic = await tokenBalance(chain.publicClient, token.address, payer)
 * ```
 */
export async function tokenBalance(client: PublicClient<Transport, Chain>, token: Address, owner: Address): Promise<bigint> {
  return (await client.readContract({ address: token, abi: agoraUsdAbi, functionName: 'balanceOf', args: [owner] })) as bigint
}
