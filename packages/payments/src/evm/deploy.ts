import { AgoraError } from '@agora/core/errors'
import type { Account, Chain, PublicClient, Transport, WalletClient } from 'viem'
import { getAddress } from 'viem'
import type { TokenInfo } from './token.ts'
import { AGORA_USD, agoraUsdAbi, agoraUsdArtifact } from './token.ts'

export interface DeployTokenOptions {
  publicClient: PublicClient<Transport, Chain>
  /** Deploys, and becomes the token's only minter. */
  deployer: WalletClient<Transport, Chain, Account>
  signal?: AbortSignal | undefined
}

/**
 * Deploys AgoraUSD (symbol USDC, 6 decimals, EIP-712 domain "USD Coin" / "2") from the committed
 * artifact. Meant for dev chains: the deployer can mint at will.
 *
 * @example
 * ```ts
 * const token = await deployAgoraUsd({ publicClient: chain.publicClient, deployer: chain.walletClients[0] })
 * // { address: '0x5FbD…', name: 'USD Coin', version: '2', decimals: 6, symbol: 'USDC' }
 * ```
 */
export async function deployAgoraUsd(options: DeployTokenOptions): Promise<TokenInfo> {
  options.signal?.throwIfAborted()
  const hash = await options.deployer.deployContract({ abi: agoraUsdAbi, bytecode: agoraUsdArtifact.bytecode })
  const receipt = await options.publicClient.waitForTransactionReceipt({ hash })
  if (receipt.status !== 'success' || !receipt.contractAddress) {
    throw new AgoraError('INTERNAL', `deploying AgoraUSD failed (transaction ${hash})`)
  }
  return { address: getAddress(receipt.contractAddress), ...AGORA_USD }
}
