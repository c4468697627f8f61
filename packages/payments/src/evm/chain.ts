import { createRequire } from 'node:module'
import { AgoraError } from '@agora/core/errors'
import type { Address, Chain, Hex, PrivateKeyAccount, PublicClient, Transport, WalletClient } from 'viem'
import { createPublicClient, createWalletClient, custom, defineChain, numberToHex } from 'viem'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import multicall from './contracts/Multicall3.json' with { type: 'json' }
import { DEV_PRIVATE_KEYS } from './dev-keys.ts'
import { listen } from './listen.ts'
import type { Eip1193Like } from './rpc-app.ts'
import { createRpcApp } from './rpc-app.ts'

export interface DevChainOptions {
  /** EIP-155 chain id. Default 31337 (the usual local-chain id). */
  chainId?: number | undefined
  /**
   * Funded accounts: a count (default 10; the first ten are the well-known dev keys, any further
   * ones are random), or explicit private keys.
   */
  accounts?: number | readonly Hex[] | undefined
  /** Initial ETH balance of each account, in wei. Default 10,000 ETH. */
  balance?: bigint | undefined
  /**
   * Also serve the chain as HTTP JSON-RPC on loopback, so other processes can reach it. Port 0
   * picks a free one. Default: not served (in-process use only).
   */
  rpc?: { port?: number | undefined; host?: string | undefined } | undefined
  signal?: AbortSignal | undefined
}

/** A running in-process EVM chain (Hardhat's EDR), automining one block per transaction. */
export interface DevChain extends AsyncDisposable {
  readonly chainId: number
  /** CAIP-2 id, e.g. `eip155:31337`. */
  readonly network: `eip155:${number}`
  readonly chain: Chain
  /** The EIP-1193 provider; rejects once the chain is closed. */
  readonly provider: Eip1193Like
  /** HTTP JSON-RPC URL when `rpc` was asked for. */
  readonly rpcUrl: string | undefined
  readonly publicClient: PublicClient<Transport, Chain>
  readonly accounts: readonly PrivateKeyAccount[]
  /** One wallet client per account, same order. */
  readonly walletClients: readonly WalletClient<Transport, Chain, PrivateKeyAccount>[]
  /** Sets an account's ETH balance (wei). */
  setBalance(address: Address, wei: bigint): Promise<void>
  close(): Promise<void>
}

interface HardhatProviderModule {
  createHardhatNetworkProvider(config: Record<string, unknown>, logger: { enabled: boolean }): Promise<Eip1193Like>
}
interface HardhatDefaultsModule {
  defaultHardhatNetworkParams: { hardfork: string; chains: unknown }
}

const DEFAULT_BALANCE = 10_000n * 10n ** 18n
/** Where Multicall3 lives on real chains; the dev chain puts its own copy there. */
export const MULTICALL3_ADDRESS: Address = '0xcA11bde05977b3631167028862bE2a173976CA11'
/** Receipts are ready as soon as a transaction is sent (automine), so poll fast when one is not. */
const POLLING_MS = 10

/**
 * Starts an in-process EVM chain: Hardhat 2's EDR engine (Rust, shipped in npm), no network,
 * no config file, well under a second to boot. Accounts are funded at genesis, and Multicall3
 * sits at its usual address.
 *
 * @example
 * ```ts
 * await using chain = await startDevChain({ rpc: { port: 0 } })
 * console.log(chain.rpcUrl, await chain.publicClient.getBlockNumber())
 * ```
 */
export async function startDevChain(options: DevChainOptions = {}): Promise<DevChain> {
  options.signal?.throwIfAborted()
  const chainId = options.chainId ?? 31337
  const keys = accountKeys(options.accounts ?? 10)
  const balance = options.balance ?? DEFAULT_BALANCE
  const require = createRequire(import.meta.url)
  const { createHardhatNetworkProvider } =
    require('hardhat/internal/hardhat-network/provider/provider.js') as HardhatProviderModule
  const { defaultHardhatNetworkParams: defaults } =
    require('hardhat/internal/core/config/default-config.js') as HardhatDefaultsModule
  const edr = await createHardhatNetworkProvider(
    {
      hardfork: defaults.hardfork,
      chainId,
      networkId: chainId,
      blockGasLimit: 60_000_000,
      minGasPrice: 0n,
      automine: true,
      intervalMining: 0,
      mempoolOrder: 'priority',
      chains: defaults.chains,
      genesisAccounts: keys.map((privateKey) => ({ privateKey, balance: balance.toString() })),
      allowUnlimitedContractSize: false,
      throwOnTransactionFailures: true,
      throwOnCallFailures: true,
      allowBlocksWithSameTimestamp: false,
      enableTransientStorage: false,
      enableRip7212: false,
    },
    { enabled: false },
  )
  await edr.request({ method: 'hardhat_setCode', params: [MULTICALL3_ADDRESS, multicall.deployedBytecode] })
  let closed = false
  const provider: Eip1193Like = {
    request: (args) => (closed ? Promise.reject(new AgoraError('CONNECTION', 'the dev chain is closed')) : edr.request(args)),
  }
  const server = options.rpc
    ? await listen(createRpcApp(provider), { host: options.rpc.host, port: options.rpc.port ?? 0, signal: options.signal })
    : undefined
  const chain = defineChain({
    id: chainId,
    name: 'Agora dev chain',
    nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 },
    rpcUrls: { default: { http: [server?.url ?? 'http://127.0.0.1:8545'] } },
    contracts: { multicall3: { address: MULTICALL3_ADDRESS } },
  })
  // In process nothing is transient: a failed call (a revert) is final, so never retry.
  const transport = custom(provider, { retryCount: 0 })
  const publicClient = createPublicClient({ chain, transport, pollingInterval: POLLING_MS, cacheTime: 0 })
  const accounts = keys.map((k) => privateKeyToAccount(k))
  const walletClients = accounts.map((account) =>
    createWalletClient({ account, chain, transport, pollingInterval: POLLING_MS, cacheTime: 0 }),
  )
  const close = async () => {
    if (closed) return
    closed = true
    await server?.close()
  }
  options.signal?.addEventListener('abort', () => void close(), { once: true })
  return {
    chainId,
    network: `eip155:${chainId}`,
    chain,
    provider,
    rpcUrl: server?.url,
    publicClient,
    accounts,
    walletClients,
    async setBalance(address, wei) {
      await provider.request({ method: 'hardhat_setBalance', params: [address, numberToHex(wei)] })
    },
    close,
    [Symbol.asyncDispose]: close,
  }
}

function accountKeys(accounts: number | readonly Hex[]): Hex[] {
  if (typeof accounts !== 'number') return [...accounts]
  if (!Number.isInteger(accounts) || accounts < 1)
    throw new AgoraError('CONFIG', `accounts must be a count >= 1, got ${accounts}`)
  return Array.from({ length: accounts }, (_, i) => DEV_PRIVATE_KEYS[i] ?? generatePrivateKey())
}
