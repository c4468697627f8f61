import type { AgoraServer } from '@agora/core'
import type { ServeFlags } from './commands/serve.ts'
import { UsageError } from './errors.ts'
import { quietSqliteWarning } from './quiet-warnings.ts'
import type { Service } from './services.ts'

const FORMS = ['sep-2009', 'x402-mcp', 'x402-extension'] as const

/** What `agora serve --pay-to` set up, for the banner. */
export interface ServePaymentsInfo {
  readonly payments: { network: string; symbol: string; asset: string; payTo: string; facilitatorUrl: string; ledger: string }
}

/**
 * `agora serve --pay-to`: attaches an x402 payment engine (built by `@agora/payments`) to the
 * definition, on the dev chain or on any facilitator and network given by flags.
 */
export async function paymentsService(def: AgoraServer, flags: ServeFlags): Promise<Service<ServePaymentsInfo>> {
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
      const { x402Payments } = await import('@agora/payments/evm')
      const pay = await x402Payments({
        payTo: flags.payTo as string,
        devchainUrl: flags.devchain,
        facilitatorUrl: flags.facilitator,
        network: flags.network,
        ledger: flags.ledger,
        form: form as (typeof FORMS)[number] | undefined,
      })
      def.payments(pay.engine)
      return { info: { payments: pay.summary }, stop: () => pay.close() }
    },
  }
}
