import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import type { Logger } from '@agora/core'
import { AgoraError } from '@agora/core/errors'
import type { PaymentEngine } from '../engine/engine.ts'
import { createPaymentEngine } from '../engine/engine.ts'
import type { PaymentForm } from '../engine/forms.ts'
import { openLedger, parseLedgerUrl } from '../ledger/open.ts'
import type { PaymentRail } from '../rail.ts'
import { chainReader } from '../wallet/asset.ts'
import { describeDevchain } from '../wallet/devchain-client.ts'
import { httpFacilitator } from './facilitator-http.ts'
import type { ExactAsset } from './x402-rail.ts'
import { x402ExactRail } from './x402-rail.ts'

/** USDC where it is well known (EIP-712 domains as the tokens declare them). */
export const KNOWN_USDC: Readonly<Record<string, ExactAsset>> = {
  'eip155:8453': { address: '0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913', name: 'USD Coin', version: '2', decimals: 6 },
  'eip155:84532': { address: '0x036CbD53842c5426634e7929541eC2318f3dCF7e', name: 'USDC', version: '2', decimals: 6 },
}

export interface X402PaymentsOptions {
  /** Who gets paid (an EVM address). */
  payTo: string
  /**
   * An Agora dev chain (`agora devchain`, `agora dev`) to take the network, token, facilitator and
   * RPC from, e.g. `http://127.0.0.1:8545`. Used when `facilitatorUrl` is not given.
   */
  devchainUrl?: string | undefined
  /** Any x402 facilitator (its `/verify`, `/settle`, `/supported` live below this URL). */
  facilitatorUrl?: string | undefined
  /** CAIP-2 network, e.g. `eip155:8453` (Base). Required with `facilitatorUrl`. */
  network?: string | undefined
  /** The accepted token; USDC on networks in {@link KNOWN_USDC} by default. */
  asset?: (ExactAsset & { symbol?: string | undefined }) | undefined
  /** JSON-RPC URL for on-chain reads (recovering a settlement lost to a crash). Optional. */
  rpcUrl?: string | undefined
  /** Charge ledger URL (`sqlite:<path>`, `postgres://…`). Default `sqlite:.agora/charges.db`. */
  ledger?: string | undefined
  /** Default wire form of challenges. */
  form?: PaymentForm | undefined
  /** Where the engine reports what it cannot tell a caller (e.g. a settle record that failed to be written behind an answer). */
  logger?: Logger | undefined
}

/** A configured payment engine, ready for `server.payments(engine)`. */
export interface X402Payments {
  readonly engine: PaymentEngine
  readonly rail: PaymentRail
  /** What is accepted, for banners and logs. */
  readonly summary: { network: string; asset: string; symbol: string; payTo: string; facilitatorUrl: string; ledger: string }
  close(): Promise<void>
}

/**
 * Builds the x402 `exact` payment engine from plain settings: against an Agora dev chain, or any
 * facilitator and public network by configuration.
 *
 * @example
 * ```ts
 * const pay = await x402Payments({ payTo: '0xYou…', facilitatorUrl: 'https://x402.org/facilitator', network: 'eip155:84532' })
 * server.payments(pay.engine)
 * ```
 */
export async function x402Payments(options: X402PaymentsOptions): Promise<X402Payments> {
  let { facilitatorUrl, network, rpcUrl } = options
  let asset: (ExactAsset & { symbol?: string | undefined }) | undefined = options.asset
  if (!facilitatorUrl) {
    const chain = await describeDevchain(options.devchainUrl ?? 'http://127.0.0.1:8545')
    facilitatorUrl = chain.facilitatorUrl
    network ??= chain.network
    rpcUrl ??= chain.rpcUrl
    asset ??= { ...chain.token }
  }
  if (!network) throw new AgoraError('CONFIG', 'a facilitator URL needs the CAIP-2 network it settles on (e.g. eip155:8453)')
  asset ??= KNOWN_USDC[network]
  if (!asset) {
    throw new AgoraError('CONFIG', `no known USDC on ${network}: give the token (address, EIP-712 name and version, decimals)`)
  }
  const symbol = asset.symbol ?? 'USDC'
  const rail = x402ExactRail({
    facilitator: httpFacilitator(facilitatorUrl),
    payTo: options.payTo,
    network,
    assets: { [symbol]: asset },
    ...(rpcUrl ? { publicClient: chainReader(rpcUrl) } : {}),
  })
  const ledgerUrl = options.ledger ?? 'sqlite:.agora/charges.db'
  // The ledger itself never creates directories (a typo must not leave stray ones); a server
  // configured with a SQLite ledger gets its directory, private to the user.
  const location = parseLedgerUrl(ledgerUrl)
  if (location.kind === 'sqlite' && location.path !== ':memory:')
    mkdirSync(dirname(location.path), { recursive: true, mode: 0o700 })
  const ledger = await openLedger(ledgerUrl)
  const engine = createPaymentEngine({ ledger, rails: [rail], form: options.form, logger: options.logger })
  return {
    engine,
    rail,
    summary: { network, asset: asset.address, symbol, payTo: options.payTo, facilitatorUrl, ledger: ledgerUrl },
    async close() {
      await engine.drain()
      await ledger.close()
    },
  }
}
