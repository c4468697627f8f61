import { connect, contentText } from '@agora/client'
import { isAgoraError } from '@agora/core/errors'
import type { CallFlags } from '../commands/call.ts'
import { EXIT, UsageError } from '../errors.ts'
import { connectOptions, parseArgsJson } from '../options.ts'
import { callPayment, explainPayment, receiptLine } from './call-payment.ts'

/** `agora call`: calls one tool; exit 1 on an isError result or a JSON-RPC error. */
export async function call(target: string, tool: string, flags: CallFlags): Promise<void> {
  const args = parseArgsJson(flags.args ?? '{}')
  const maxPrice = flags.maxPrice
  const payment = maxPrice === undefined ? undefined : await callPayment({ ...flags, maxPrice })
  if (flags.maxSats !== undefined && flags.nwc === undefined) throw new UsageError('--max-sats goes with --nwc <uri>')
  const lightning = flags.nwc === undefined ? undefined : await lightningPayer(flags.nwc, flags.maxSats ?? '100')
  let client: Awaited<ReturnType<typeof connect>>
  try {
    client = await connect(target, {
      ...connectOptions(flags),
      payments: payment?.hook,
      onPaymentRequired: lightning?.onPaymentRequired,
    })
  } catch (err) {
    await lightning?.close()
    throw err
  }
  let result: Awaited<ReturnType<typeof client.callTool>>
  try {
    result = await client.callTool(tool, args, { timeoutMs: flags.timeout })
  } catch (err) {
    // A JSON-RPC error: with --json, also print it on stdout as the server sent it.
    if (flags.json && isAgoraError(err) && typeof err.data?.rpcCode === 'number') {
      const { rpcCode, ...data } = err.data
      process.stdout.write(`${JSON.stringify({ error: { code: rpcCode, message: err.message, data } })}\n`)
    }
    throw await explainPayment(err, tool, flags)
  } finally {
    await client.close()
    await lightning?.close()
  }
  const paid = payment?.paid()
  if (paid) process.stderr.write(`agora: ${receiptLine(paid)}\n`)
  for (const line of lightning?.paid ?? []) process.stderr.write(`agora: ${line}\n`)
  const text = contentText(result)
  if (flags.json) process.stdout.write(`${JSON.stringify(result)}\n`)
  else if (!result.isError) process.stdout.write(text.endsWith('\n') ? text : `${text}\n`)
  if (result.isError) {
    process.stderr.write(`agora: ${tool} returned an error: ${text || '(no message)'}\n`)
    process.exitCode = EXIT.failure
  }
}

/** Pays Lightning invoices of held calls from an NWC wallet, at most `maxSats` a call, recorded like other payments. */
async function lightningPayer(nwc: string, maxSats: string) {
  if (!nwc.startsWith('nostr+walletconnect://')) throw new UsageError('--nwc expects a nostr+walletconnect://… URI')
  const { lightningPaymentHandler, nwcWallet, payNotices } = await import('@agora/payments/lightning')
  const { openPaymentRecord } = await import('@agora/payments/wallet')
  const wallet = await nwcWallet(nwc)
  const pay = payNotices(lightningPaymentHandler({ wallet, budget: { maxPerCallSats: maxSats }, record: openPaymentRecord() }))
  const paid: string[] = []
  return {
    paid,
    async onPaymentRequired(notice: Parameters<typeof pay>[0]) {
      await pay(notice)
      paid.push(`paid ${notice.amount} ${notice.unit}${notice.tool ? ` for ${notice.tool}` : ''} over Lightning`)
    },
    close: async () => wallet.close(),
  }
}
