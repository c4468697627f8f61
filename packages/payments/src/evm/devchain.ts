import { isAgoraError } from '@agora/core/errors'
import { Hono } from 'hono'
import type { Address, Hex } from 'viem'
import type { DevChain } from './chain.ts'
import { startDevChain } from './chain.ts'
import { deployAgoraUsd } from './deploy.ts'
import { DEV_PRIVATE_KEYS } from './dev-keys.ts'
import type { LocalFacilitator } from './facilitator.ts'
import { createLocalFacilitator } from './facilitator.ts'
import { createFacilitatorApp } from './facilitator-http.ts'
import type { Faucet } from './faucet.ts'
import { createFaucet } from './faucet.ts'
import { listen } from './listen.ts'
import { createRpcApp } from './rpc-app.ts'
import type { TokenInfo } from './token.ts'

export interface DevchainOptions {
  /** Loopback port for everything (JSON-RPC, facilitator, faucet); 0 picks a free one. Default 8545. */
  port?: number | undefined
  /** Interface to bind. Default `127.0.0.1`. */
  host?: string | undefined
  chainId?: number | undefined
  /** USDC minted at start to each dev account that is neither minter nor facilitator. Default `"1000"`. */
  prefund?: string | undefined
  signal?: AbortSignal | undefined
}

/** A dev account ready to pay: well-known key, funded with ETH and the dev token. */
export interface DevAccount {
  address: Address
  privateKey: Hex
}

/** A running local payments network. */
export interface Devchain extends AsyncDisposable {
  readonly chain: DevChain
  readonly token: TokenInfo
  readonly facilitator: LocalFacilitator
  readonly faucet: Faucet
  /** Base URL, e.g. `http://127.0.0.1:8545`. */
  readonly url: string
  /** Ethereum JSON-RPC (`POST`). Same as `url`. */
  readonly rpcUrl: string
  /** x402 facilitator base URL (`/verify`, `/settle`, `/supported` below it). */
  readonly facilitatorUrl: string
  /** `POST {address, amount}` mints the dev token. */
  readonly faucetUrl: string
  /** Funded accounts for payers (accounts 2-9 of the dev keys). */
  readonly accounts: readonly DevAccount[]
  close(): Promise<void>
}

const MINTER = 0
const FACILITATOR = 1

/**
 * Everything x402 needs, locally, behind one loopback port: an in-process EVM chain served as
 * JSON-RPC at `/`, the AgoraUSD token (USDC, 6 decimals) deployed and pre-funded to the dev
 * accounts, the real x402 facilitator at `/facilitator`, and a faucet at `/faucet`.
 * Account 0 deploys and mints, account 1 settles, accounts 2-9 pay.
 *
 * @example
 * ```ts
 * await using devchain = await startDevchain({ port: 0 })
 * const facilitator = httpFacilitator(devchain.facilitatorUrl)
 * ```
 */
export async function startDevchain(options: DevchainOptions = {}): Promise<Devchain> {
  const chain = await startDevChain({ chainId: options.chainId, signal: options.signal })
  try {
    const minter = chain.walletClients[MINTER]!
    const token = await deployAgoraUsd({ publicClient: chain.publicClient, deployer: minter, signal: options.signal })
    const faucet = createFaucet({ publicClient: chain.publicClient, minter, token, setBalance: chain.setBalance })
    const facilitator = createLocalFacilitator({ chain, account: chain.accounts[FACILITATOR]! })
    const payers = chain.accounts.slice(FACILITATOR + 1)
    const prefund = options.prefund ?? '1000'
    for (const account of payers) await faucet.fund(account.address, prefund, { signal: options.signal })

    const app = new Hono()
    app.get('/', (c) => c.json(describe()))
    app.route('/', createRpcApp(chain.provider))
    app.route('/facilitator', createFacilitatorApp(facilitator))
    app.post('/faucet', async (c) => {
      let body: { address?: unknown; amount?: unknown }
      try {
        body = await c.req.json()
      } catch {
        return c.json({ error: 'request body must be JSON {"address":"0x…","amount":"10"}' }, 400)
      }
      const { address, amount } = body ?? {}
      if (typeof address !== 'string' || (typeof amount !== 'string' && typeof amount !== 'number')) {
        return c.json({ error: 'expected {"address":"0x…","amount":"10"} (amount in whole USDC)' }, 400)
      }
      try {
        return c.json(await faucet.fund(address, String(amount)))
      } catch (err) {
        const status = isAgoraError(err) && err.code === 'INVALID_PARAMS' ? 400 : 500
        return c.json({ error: err instanceof Error ? err.message : String(err) }, status)
      }
    })
    const server = await listen(app, { host: options.host, port: options.port ?? 8545, signal: options.signal })
    const url = server.url
    const accounts = payers.map((a, i) => ({ address: a.address, privateKey: DEV_PRIVATE_KEYS[i + FACILITATOR + 1]! }))
    function describe() {
      return {
        chainId: chain.chainId,
        network: chain.network,
        rpcUrl: url,
        token: {
          address: token.address,
          symbol: token.symbol,
          decimals: token.decimals,
          name: token.name,
          version: token.version,
        },
        facilitatorUrl: `${url}/facilitator`,
        faucetUrl: `${url}/faucet`,
      }
    }
    let closing: Promise<void> | undefined
    const close = () => {
      closing ??= (async () => {
        await server.close()
        await chain.close()
      })()
      return closing
    }
    return {
      chain,
      token,
      facilitator,
      faucet,
      url,
      rpcUrl: url,
      facilitatorUrl: `${url}/facilitator`,
      faucetUrl: `${url}/faucet`,
      accounts,
      close,
      [Symbol.asyncDispose]: close,
    }
  } catch (err) {
    await chain.close()
    throw err
  }
}
