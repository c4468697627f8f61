import { AgoraError } from '@agora/core/errors'
import type { Account, Address, Chain, PublicClient, Transport, WalletClient } from 'viem'
import { isAddress } from 'viem'
import { fromAtomicUnits, toAtomicUnits } from '../amount.ts'
import { serial } from './serial.ts'
import type { TokenInfo } from './token.ts'
import { agoraUsdAbi, tokenBalance } from './token.ts'

export interface FaucetOptions {
  publicClient: PublicClient<Transport, Chain>
  /** The token's minter (its deployer, for AgoraUSD). */
  minter: WalletClient<Transport, Chain, Account>
  token: TokenInfo
  /** Sets an address's ETH balance (a dev-chain cheat, e.g. `DevChain.setBalance`); enables gas top-ups. */
  setBalance?: ((address: Address, wei: bigint) => Promise<void>) | undefined
  /** ETH (wei) a funded address is topped up to when it has less. Default 1 ETH; `0n` turns it off. */
  gas?: bigint | undefined
  /** Largest amount one request may mint, in whole units. Default `"1000000"`. */
  maxAmount?: string | undefined
}

/** What one faucet drip did. Amounts are in whole units (decimal strings). */
export interface FaucetReceipt {
  address: Address
  amount: string
  /** The mint transaction hash. */
  transaction: string
  /** The address's token balance afterwards. */
  balance: string
}

export interface Faucet {
  readonly token: TokenInfo
  /** Mints `amount` (whole units, e.g. `"10"` USDC) to `address`, and tops up its gas. */
  fund(address: string, amount: string, options?: { signal?: AbortSignal | undefined }): Promise<FaucetReceipt>
}

const ONE_ETH = 10n ** 18n

/**
 * A dev-chain faucet: mints the dev token to any address (and gives it ETH for gas).
 *
 * @example
 * ```ts
 * const faucet = createFaucet({ publicClient: chain.publicClient, minter: chain.walletClients[0], token, setBalance: chain.setBalance })
 * await faucet.fund('0x70997970C51812dc3A010C7d01b50e0d17dc79C8', '25')
 * ```
 */
export function createFaucet(options: FaucetOptions): Faucet {
  const { publicClient, minter, token } = options
  const gas = options.gas ?? ONE_ETH
  const max = toAtomicUnits(options.maxAmount ?? '1000000', token.decimals, 'CONFIG')
  const send = serial()
  return {
    token,
    async fund(address, amount, { signal } = {}) {
      signal?.throwIfAborted()
      if (!isAddress(address, { strict: false })) {
        throw new AgoraError(
          'INVALID_PARAMS',
          `address must be a 0x-prefixed 20-byte hex address, got ${JSON.stringify(address)}`,
        )
      }
      const atomic = toAtomicUnits(amount, token.decimals)
      if (atomic <= 0n || atomic > max) {
        throw new AgoraError(
          'INVALID_PARAMS',
          `amount must be more than 0 and at most ${fromAtomicUnits(max, token.decimals)} ${token.symbol ?? ''}`.trim(),
        )
      }
      const transaction = await send(async () => {
        const hash = await minter.writeContract({
          address: token.address,
          abi: agoraUsdAbi,
          functionName: 'mint',
          args: [address, atomic],
        })
        const receipt = await publicClient.waitForTransactionReceipt({ hash })
        if (receipt.status !== 'success') throw new AgoraError('INTERNAL', `mint transaction ${hash} reverted`)
        return hash
      })
      if (gas > 0n && options.setBalance && (await publicClient.getBalance({ address })) < gas) {
        await options.setBalance(address, gas)
      }
      const balance = await tokenBalance(publicClient, token.address, address)
      return {
        address,
        amount: fromAtomicUnits(atomic, token.decimals),
        transaction,
        balance: fromAtomicUnits(balance, token.decimals),
      }
    },
  }
}
