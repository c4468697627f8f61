import { connect } from '@agora/client'
import { argumentSummary, formatToolLines, priceLabel } from '../describe.ts'
import type { ConnectionFlags } from '../options.ts'
import { connectOptions } from '../options.ts'

/** `agora tools`: lists a server's tools as a table, or the raw list with --json. */
export async function tools(target: string, flags: ConnectionFlags): Promise<void> {
  const client = await connect(target, connectOptions(flags))
  const list = await client.listTools({ timeoutMs: flags.timeout }).finally(() => client.close())
  if (flags.json) {
    process.stdout.write(`${JSON.stringify({ tools: list })}\n`)
    return
  }
  const who = client.server ? `${client.server.name} ${client.server.version}` : target
  const lines = formatToolLines(
    list.map((t) => ({
      name: t.name,
      args: argumentSummary(t.inputSchema as Record<string, unknown>),
      price: priceLabel(t._meta?.['agora/price']),
      description: t.description?.split('\n')[0],
    })),
  )
  process.stdout.write(`${who}: ${list.length} tool${list.length === 1 ? '' : 's'}\n${lines.join('\n')}\n`)
}
