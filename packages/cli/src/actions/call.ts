import { connect, contentText } from '@agora/client'
import { isAgoraError } from '@agora/core/errors'
import type { CallFlags } from '../commands/call.ts'
import { EXIT } from '../errors.ts'
import { connectOptions, parseArgsJson } from '../options.ts'
import { callPayment, explainPayment, receiptLine } from './call-payment.ts'

/** `agora call`: calls one tool; exit 1 on an isError result or a JSON-RPC error. */
export async function call(target: string, tool: string, flags: CallFlags): Promise<void> {
  const args = parseArgsJson(flags.args ?? '{}')
  const maxPrice = flags.maxPrice
  const payment = maxPrice === undefined ? undefined : await callPayment({ ...flags, maxPrice })
  const client = await connect(target, { ...connectOptions(flags), payments: payment?.hook })
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
  }
  const paid = payment?.paid()
  if (paid) process.stderr.write(`agora: ${receiptLine(paid)}\n`)
  const text = contentText(result)
  if (flags.json) process.stdout.write(`${JSON.stringify(result)}\n`)
  else if (!result.isError) process.stdout.write(text.endsWith('\n') ? text : `${text}\n`)
  if (result.isError) {
    process.stderr.write(`agora: ${tool} returned an error: ${text || '(no message)'}\n`)
    process.exitCode = EXIT.failure
  }
}
