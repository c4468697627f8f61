import type { DiscoveredServer } from '@agora/transport-libp2p'
import type { DiscoverFlags } from '../commands/discover.ts'
import { argumentSummary, formatToolLines, priceLabel } from '../describe.ts'
import { EXIT, UsageError } from '../errors.ts'

/** Default bound on a search. */
const DEFAULT_TIMEOUT_MS = 10_000

interface Skipped {
  peerId: string
  code: string
  reason: unknown
  message: string
}

/**
 * `agora discover --p2p`: joins the DHT as a client through the bootstrap peers, finds providers of
 * the service (or capability, or every server), fetches and verifies each one's signed descriptor,
 * and prints the servers. Providers that are gone or fail verification are reported on stderr.
 */
export async function discover(flags: DiscoverFlags): Promise<void> {
  if (flags.p2p && flags.nostr) throw new UsageError('search one network at a time: --p2p or --nostr <relay>')
  if (flags.nostr) return (await import('./discover-nostr.ts')).discoverOnNostr(flags)
  if (!flags.p2p) {
    throw new UsageError(
      'say where to look: --p2p searches the libp2p DHT, --nostr <relay> a relay (e.g. agora discover --p2p --service weather)',
    )
  }
  if (flags.tool || flags.profile) throw new UsageError('--tool and --profile go with --nostr <relay>')
  const { devBootstrapAddr } = await import('../bootstrap-service.ts')
  const { startP2pNode } = await import('../p2p-service.ts')
  const { findLibp2pServers } = await import('@agora/transport-libp2p')
  const usingDev = !flags.bootstrap?.length
  const bootstrap = usingDev ? [await devBootstrapAddr()] : flags.bootstrap!
  const node = await startP2pNode({ listen: [], bootstrap, dhtProtocol: flags.dhtProtocol, dhtServer: false }, '').catch(
    (err: Error) => {
      if (usingDev) err.message += ' (is agora dev running? or give --bootstrap <multiaddr>)'
      throw err
    },
  )
  const servers: DiscoveredServer[] = []
  const skipped: Skipped[] = []
  try {
    for await (const found of findLibp2pServers(node, {
      service: flags.service,
      capability: flags.capability,
      timeoutMs: flags.timeout ?? DEFAULT_TIMEOUT_MS,
      onError: (err, peerId) => {
        skipped.push({ peerId, code: err.code, reason: err.data?.reason, message: err.message })
        if (!flags.json) process.stderr.write(`agora: skipped ${err.message}\n`)
      },
    })) {
      servers.push(found)
    }
  } finally {
    await node.stop()
  }

  if (flags.json) process.stdout.write(`${JSON.stringify({ servers, skipped })}\n`)
  else if (servers.length > 0) process.stdout.write(describeServers(servers))
  if (servers.length === 0) {
    const what = flags.service ? `named ${flags.service}` : flags.capability ? `with ${flags.capability}` : 'at all'
    process.stderr.write(`agora: no servers found ${what} via ${bootstrap.join(', ')}\n`)
    process.exitCode = EXIT.failure
  }
}

function describeServers(servers: readonly DiscoveredServer[]): string {
  const lines = [`Found ${servers.length} server${servers.length === 1 ? '' : 's'}:`]
  for (const { descriptor: d, peerId, addrs } of servers) {
    lines.push('', `${d.name} ${d.version}${d.description ? ` — ${d.description}` : ''}`)
    lines.push(`  peer   ${peerId}`)
    for (const addr of addrs) lines.push(`  addr   ${addr}`)
    for (const e of d.endpoints) if (e.transport === 'streamable-http' && e.url) lines.push(`  http   ${e.url}`)
    const tools = d.tools.map((t) => ({
      name: t.name,
      args: argumentSummary(t.inputSchema),
      price: priceLabel(t.price),
      description: t.description?.split('\n')[0],
    }))
    lines.push(`  tools (${tools.length}):`, ...formatToolLines(tools, '    '))
    const others = [d.resources.length && `${d.resources.length} resources`, d.prompts.length && `${d.prompts.length} prompts`]
    const extra = others.filter(Boolean).join(', ')
    if (extra) lines.push(`  also   ${extra}`)
  }
  const first = servers[0]?.addrs[0]
  if (first) lines.push('', `Try:  agora tools p2p:${first}`)
  return `${lines.join('\n')}\n`
}
