import type { AgoraServer } from '@agora/core'
import { createLogger } from '@agora/core'
import type { ServeFlags } from './commands/serve.ts'
import { UsageError } from './errors.ts'
import { quietSqliteWarning } from './quiet-warnings.ts'
import type { Service } from './services.ts'

const FORMS = ['sep-2009', 'x402-mcp', 'x402-extension'] as const

/** What `agora serve --pay-to` / `--nwc` set up, for the banner. */
export interface ServePaymentsInfo {
  readonly payments?:
    | { network: string; symbol: string; asset: string; payTo: string; facilitatorUrl: string; ledger: string }
    | undefined
  readonly lightning?: { network: string; walletPubkey: string; ledger: string } | undefined
}

/**
 * `agora serve --pay-to` / `--nwc`: attaches payment gateways (built by `@agora/payments`) to the
 * definition: x402 on the dev chain or on any facilitator and network given by flags, and Lightning
 * (hold until paid) into a Nostr Wallet Connect wallet. With both, sats prices go to Lightning and
 * the rest to x402.
 */
export async function paymentsService(
  def: AgoraServer,
  flags: Pick<ServeFlags, 'payTo' | 'devchain' | 'facilitator' | 'network' | 'ledger' | 'paymentForm' | 'nwc'>,
): Promise<Service<ServePaymentsInfo>> {
  const form = flags.paymentForm
  if (form !== undefined && !(FORMS as readonly string[]).includes(form)) {
    throw new UsageError(`--payment-form expects one of ${FORMS.join(', ')}, got ${JSON.stringify(form)}`)
  }
  if (flags.facilitator && !flags.network) throw new UsageError('--facilitator needs --network <caip2>, e.g. eip155:8453')
  if (flags.facilitator && flags.devchain) throw new UsageError('give either --devchain or --facilitator, not both')
  return {
    name: 'payments',
    async start() {
      quietSqliteWarning()
      const { routePayments } = await import('@agora/payments')
      const logger = createLogger({ component: 'agora:payments' })
      const routes: Parameters<typeof routePayments>[0][number][] = []
      const closers: (() => Promise<void>)[] = []
      const stop = async () => {
        for (const close of closers.reverse()) await close().catch(() => {})
      }
      const info: { -readonly [K in keyof ServePaymentsInfo]: ServePaymentsInfo[K] } = {}
      try {
        if (flags.nwc !== undefined) {
          const { lightningPayments, lightningRoute } = await import('@agora/payments/lightning')
          const ln = await lightningPayments({ wallet: flags.nwc, ledger: flags.ledger, logger })
          closers.push(() => ln.close())
          routes.push(lightningRoute(ln.gateway))
          info.lightning = ln.summary
        }
        if (flags.payTo !== undefined) {
          const { x402Payments } = await import('@agora/payments/evm')
          const pay = await x402Payments({
            payTo: flags.payTo,
            devchainUrl: flags.devchain,
            facilitatorUrl: flags.facilitator,
            network: flags.network,
            ledger: flags.ledger,
            form: form as (typeof FORMS)[number] | undefined,
            logger,
          })
          closers.push(() => pay.close())
          routes.push({ gateway: pay.engine })
          info.payments = pay.summary
        }
      } catch (err) {
        await stop()
        throw err
      }
      def.payments(routes.length === 1 ? routes[0]!.gateway : routePayments(routes))
      return { info, stop }
    },
  }
}
