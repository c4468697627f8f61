import { AgoraError, isAgoraError } from '@agora/core/errors'
import type { Service } from './services.ts'

/** What a running dev chain tells the banner and the `--json` ready line. */
export interface DevchainInfo {
  readonly rpcUrl: string
  readonly chainId: number
  readonly network: string
  readonly token: { readonly address: string; readonly symbol: string; readonly decimals: number }
  readonly facilitatorUrl: string
  readonly faucetUrl: string
  /** Funded payer accounts (well-known dev keys). */
  readonly accounts: ReadonlyArray<{ readonly address: string; readonly privateKey: string }>
  /** The address the facilitator settles from. */
  readonly facilitator: string
}

/**
 * The local payments network as a service: an in-process EVM chain (JSON-RPC), the AgoraUSD token,
 * the x402 facilitator and a faucet, all on one loopback port. `busyHint` is added when the port
 * is taken.
 *
 * @example
 * ```ts
 * const group = await startServices([devchainService({ host: '127.0.0.1', port: 0 })])
 * console.log(group.started[0].info.rpcUrl)
 * ```
 */
export function devchainService(
  listen: { host: string; port: number },
  busyHint = '--port 0 picks a free one',
): Service<DevchainInfo> {
  return {
    name: 'devchain',
    async start() {
      // Loaded on demand: viem and Hardhat's EDR are heavy, and most verbs never need them.
      const { startDevchain } = await import('@agora/payments/evm')
      const devchain = await startDevchain({ host: listen.host, port: listen.port }).catch((err: unknown) => {
        const inUse = isAgoraError(err) && /EADDRINUSE/.test(err.message)
        throw inUse ? new AgoraError(err.code, `${err.message}: the port is taken (${busyHint})`, { cause: err }) : err
      })
      const { token } = devchain
      return {
        info: {
          rpcUrl: devchain.rpcUrl,
          chainId: devchain.chain.chainId,
          network: devchain.chain.network,
          token: { address: token.address, symbol: token.symbol ?? 'USDC', decimals: token.decimals },
          facilitatorUrl: devchain.facilitatorUrl,
          faucetUrl: devchain.faucetUrl,
          accounts: devchain.accounts,
          facilitator: devchain.facilitator.address,
        },
        stop: () => devchain.close(),
      }
    },
  }
}

/** The human-readable lines describing a running dev chain. */
export function devchainLines(info: DevchainInfo, indent = '  '): string[] {
  const short = (a: string) => `${a.slice(0, 6)}…${a.slice(-4)}`
  return [
    `${indent}JSON-RPC     ${info.rpcUrl}   (chain ${info.chainId}, ${info.network})`,
    `${indent}token        ${info.token.symbol} ${info.token.address}   (AgoraUSD, ${info.token.decimals} decimals, EIP-3009)`,
    `${indent}facilitator  ${info.facilitatorUrl}   (x402 exact; settles from ${short(info.facilitator)})`,
    `${indent}faucet       POST ${info.faucetUrl} {"address":"0x…","amount":"10"}`,
  ]
}
