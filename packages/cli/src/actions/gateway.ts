import { nostrGateway } from '@agora/client'
import { createLogger } from '@agora/core'
import { serveStdio } from '@agora/core/stdio'
import type { GatewayFlags } from '../commands/gateway.ts'
import { UsageError } from '../errors.ts'
import { untilStopped } from '../lifecycle.ts'

const DEFAULT_MAX_PER_CALL = '100'
const DEFAULT_MAX_TOTAL = '10000'

/** `agora gateway`: discovers, connects, and serves the gathered tools on stdin/stdout. */
export async function gateway(flags: GatewayFlags): Promise<void> {
  if (!flags.nwc && (flags.maxPerCall || flags.maxTotal))
    throw new UsageError('--max-per-call and --max-total go with --nwc <uri>')
  if (flags.nwc !== undefined && !flags.nwc.startsWith('nostr+walletconnect://')) {
    throw new UsageError('--nwc expects a nostr+walletconnect://… URI')
  }
  const logger = createLogger({ component: 'agora:gateway' })
  const stopped = untilStopped((stop) => process.stdin.once('end', () => stop('stdin closed')))
  let onPaymentRequired: Parameters<typeof nostrGateway>[0]['onPaymentRequired']
  let closeWallet = async () => {}
  if (flags.nwc) {
    const { lightningPaymentHandler, nwcWallet, payNotices } = await import('@agora/payments/lightning')
    const { openPaymentRecord } = await import('@agora/payments/wallet')
    const wallet = await nwcWallet(flags.nwc)
    closeWallet = async () => wallet.close()
    const pay = payNotices(
      lightningPaymentHandler({
        wallet,
        budget: { maxPerCallSats: flags.maxPerCall ?? DEFAULT_MAX_PER_CALL, maxTotalSats: flags.maxTotal ?? DEFAULT_MAX_TOTAL },
        record: openPaymentRecord(),
      }),
    )
    onPaymentRequired = async (notice) => {
      await pay(notice)
      process.stderr.write(
        `agora: paid ${notice.amount} ${notice.unit}${notice.tool ? ` for ${notice.tool}` : ''} (${notice.target})\n`,
      )
    }
  }
  try {
    const found = await nostrGateway({
      relays: flags.nostr ?? [],
      tool: flags.tool,
      server: flags.server,
      profile: flags.profile,
      rediscoverMs: (flags.rediscover ?? 60) * 1000,
      onPaymentRequired,
      logger,
    })
    const stdio = serveStdio(found.server)
    for (const u of found.upstreams) {
      process.stderr.write(`agora: gateway to ${u.name} (${u.pubkey.slice(0, 12)}…): ${u.tools.join(', ') || 'no tools'}\n`)
    }
    process.stderr.write(
      `agora: gateway ready on stdin/stdout: ${found.upstreams.length} servers${flags.nwc ? ', paying from the NWC wallet' : ''}\n`,
    )
    await stopped
    await stdio.close()
    await found.close()
  } finally {
    await closeWallet()
  }
}
