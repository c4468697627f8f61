import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { AgoraServer } from '@agora/core'
import { DEVCHAIN_URL } from './defaults.ts'
import type { DevchainInfo } from './devchain-service.ts'
import { quietSqliteWarning } from './quiet-warnings.ts'
import type { Service } from './services.ts'

/** What `agora dev` set up so its example servers take payments on the dev chain. */
export interface DevPaymentsInfo {
  /** The dev account priced tools pay to. */
  readonly payTo: string
  /** Servers whose priced tools are now payable. */
  readonly servers: readonly string[]
  /** Where their charge ledgers live (removed when `agora dev` stops). */
  readonly ledgerDir: string
}

/** A dev chain whose info also says how its servers are paid. */
export type DevchainWithPayments = DevchainInfo & { readonly payments?: DevPaymentsInfo }

const isPriced = (def: AgoraServer) => [...def.tools.values()].some((t) => t.config.price !== undefined)

/**
 * The dev chain service, plus: once the chain runs, every definition with priced tools and no
 * payment engine of its own gets one — x402 `exact` in the dev token, verified and settled by the
 * dev chain's facilitator, paid to the last dev account, charges in a SQLite ledger in a temp
 * directory. Start it before the servers: they must have their engine when they start serving.
 *
 * @example
 * ```ts
 * const chain = withDevPayments(devchainService({ host: '127.0.0.1', port: 0 }), [weather])
 * const group = await startServices([chain, httpService(weather, { host: '127.0.0.1', port: 0 })])
 * ```
 */
export function withDevPayments(chain: Service<DevchainInfo>, defs: readonly AgoraServer[]): Service<DevchainWithPayments> {
  return {
    name: chain.name,
    async start() {
      const started = await chain.start()
      const payable = defs.filter((d) => isPriced(d) && !d.gates.payments)
      const info = started.info
      const payTo = info.accounts.at(-1)?.address
      if (payable.length === 0 || !payTo) return started
      const ledgerDir = mkdtempSync(join(tmpdir(), 'agora-dev-charges-'))
      const ledgers: Array<{ close(): Promise<void> }> = []
      const stop = async () => {
        for (const l of ledgers) await l.close().catch(() => {})
        rmSync(ledgerDir, { recursive: true, force: true })
        await started.stop()
      }
      try {
        quietSqliteWarning()
        const { AGORA_USD, x402Payments } = await import('@agora/payments/evm')
        const asset = { ...info.token, name: AGORA_USD.name, version: AGORA_USD.version }
        for (const def of payable) {
          const pay = await x402Payments({
            payTo,
            facilitatorUrl: info.facilitatorUrl,
            network: info.network,
            asset,
            rpcUrl: info.rpcUrl,
            ledger: `sqlite:${join(ledgerDir, `${def.info.name.replace(/[^\w.-]/g, '_')}.db`)}`,
          })
          ledgers.push(pay)
          def.payments(pay.engine)
        }
      } catch (err) {
        await stop()
        throw err
      }
      const payments: DevPaymentsInfo = { payTo, servers: payable.map((d) => d.info.name), ledgerDir }
      return { info: { ...info, payments }, stop }
    },
  }
}

/** Banner lines: which servers take payments, and to whom. */
export function devPaymentLines(info: DevchainWithPayments, indent = '  '): string[] {
  const p = info.payments
  if (!p) return []
  return [`${indent}payments     ${p.servers.join(', ')} take x402 payments in ${info.token.symbol}, paid to ${p.payTo}`]
}

/**
 * The banner's "try paying" line for a payable server:
 * `npx agora wallet create && npx agora wallet fund && npx agora call … --max-price 0.05`
 * (with `--faucet` / `--rpc` when the dev chain is not on its default port).
 */
export function devPayTryLine(
  info: DevchainWithPayments,
  server: string,
  url: string,
  pay: { tool: string; args: string; maxPrice: string } | undefined,
): string | undefined {
  if (!pay || !info.payments?.servers.includes(server)) return undefined
  const custom = info.rpcUrl !== DEVCHAIN_URL
  const faucet = custom ? ` --faucet ${info.faucetUrl}` : ''
  const rpc = custom ? ` --rpc ${info.rpcUrl}` : ''
  return `npx agora wallet create && npx agora wallet fund${faucet} && npx agora call ${url} ${pay.tool} --args '${pay.args}' --max-price ${pay.maxPrice}${rpc}`
}
