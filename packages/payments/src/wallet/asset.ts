import { AgoraError } from '@agora/core/errors'
import type { Address, PublicClient } from 'viem'
import { createPublicClient, getAddress, http, isAddress, parseAbi } from 'viem'
import { fromAtomicUnits } from '../amount.ts'

/** What it takes to show an amount of a token to people. */
export interface AssetInfo {
  address: Address
  symbol: string
  decimals: number
}

/** An amount of a token, both ways. */
export interface TokenAmount extends AssetInfo {
  /** Atomic units. */
  atomic: bigint
  /** Whole units, e.g. `"12.5"`. */
  amount: string
}

/** The read-only client calls the wallet needs. */
export type ChainReader = Pick<PublicClient, 'readContract' | 'getChainId'>

const erc20 = parseAbi([
  'function decimals() view returns (uint8)',
  'function symbol() view returns (string)',
  'function balanceOf(address owner) view returns (uint256)',
])

/**
 * A read-only client for a JSON-RPC URL (no retries: a dead endpoint answers at once).
 *
 * @example
 * ```ts
 * const reader = chainReader('http://127.0.0.1:8545')
 * ```
 */
export function chainReader(rpcUrl: string, options: { timeoutMs?: number } = {}): PublicClient {
  return createPublicClient({ transport: http(rpcUrl, { retryCount: 0, timeout: options.timeoutMs ?? 10_000 }) })
}

function tokenAddress(token: string): Address {
  if (!isAddress(token, { strict: false })) {
    throw new AgoraError('INVALID_PARAMS', `token must be a 0x-prefixed 20-byte hex address, got ${JSON.stringify(token)}`)
  }
  return getAddress(token)
}

/** Turns a failed chain read into a one-line `CONNECTION` error naming what was read. */
function readFailed(what: string, err: unknown): AgoraError {
  const e = err as { shortMessage?: string; message?: string }
  const detail = (e.shortMessage ?? e.message ?? String(err)).split('\n')[0]
  return new AgoraError('CONNECTION', `cannot read ${what}: ${detail}`, { cause: err })
}

/**
 * Reads an ERC-20 token's symbol and decimals from the chain.
 *
 * @example
 * ```ts
 * await assetInfo(chainReader('http://127.0.0.1:8545'), '0x5FbDB2315678afecb367f032d93F642f64180aa3')
 * // { address: '0x5FbD…', symbol: 'USDC', decimals: 6 }
 * ```
 */
export async function assetInfo(reader: ChainReader, token: string): Promise<AssetInfo> {
  const address = tokenAddress(token)
  try {
    const [decimals, symbol] = await Promise.all([
      reader.readContract({ address, abi: erc20, functionName: 'decimals' }),
      reader.readContract({ address, abi: erc20, functionName: 'symbol' }).catch(() => 'tokens'),
    ])
    return { address, symbol: String(symbol), decimals: Number(decimals) }
  } catch (err) {
    throw readFailed(`the decimals of token ${address}`, err)
  }
}

/**
 * The token balance of `owner`, read over JSON-RPC: atomic units and whole units.
 *
 * @example
 * ```ts
 * const { amount, symbol } = await balance('http://127.0.0.1:8545', token, wallet.address)
 * console.log(`${amount} ${symbol}`) // "10 USDC"
 * ```
 */
export async function balance(rpc: string | ChainReader, token: string, owner: string): Promise<TokenAmount> {
  const reader = typeof rpc === 'string' ? chainReader(rpc) : rpc
  const info = await assetInfo(reader, token)
  if (!isAddress(owner, { strict: false })) {
    throw new AgoraError('INVALID_PARAMS', `owner must be a 0x-prefixed 20-byte hex address, got ${JSON.stringify(owner)}`)
  }
  let atomic: bigint
  try {
    atomic = (await reader.readContract({
      address: info.address,
      abi: erc20,
      functionName: 'balanceOf',
      args: [getAddress(owner)],
    })) as bigint
  } catch (err) {
    throw readFailed(`the balance of ${owner}`, err)
  }
  return { ...info, atomic, amount: fromAtomicUnits(atomic, info.decimals) }
}
