import { Command } from 'commander'
import { UsageError } from '../errors.ts'
import { collectBootstrap, parseTimeout } from '../options.ts'

export interface DiscoverFlags {
  /** Search the libp2p DHT (today the only discovery network). */
  p2p?: boolean
  bootstrap?: string[]
  service?: string
  capability?: 'tools' | 'resources' | 'prompts'
  dhtProtocol?: string
  timeout?: number
  json?: boolean
}

const CAPABILITIES = ['tools', 'resources', 'prompts'] as const

function parseCapability(text: string): DiscoverFlags['capability'] {
  if (!(CAPABILITIES as readonly string[]).includes(text)) {
    throw new UsageError(`--capability expects one of ${CAPABILITIES.join(', ')}, got ${JSON.stringify(text)}`)
  }
  return text as DiscoverFlags['capability']
}

/** `agora discover --p2p`: find servers on the DHT and list them with their tools and prices. */
export function discoverCommand(): Command {
  return new Command('discover')
    .description('find MCP servers on the libp2p DHT, by name or capability, with their tools and prices')
    .option('--p2p', 'search the libp2p DHT')
    .option(
      '--bootstrap <multiaddr>',
      'a DHT peer to join through, ending in /p2p/<PeerId> (repeatable; default: the agora dev bootstrap node)',
      collectBootstrap,
    )
    .option('--service <name>', 'only servers with this name')
    .option('--capability <cap>', 'only servers with tools, resources or prompts', parseCapability)
    .option('--dht-protocol <id>', 'a private DHT protocol id (default /agora/kad/1.0.0)')
    .option('--timeout <ms>', 'stop searching after this many milliseconds (default 10000)', parseTimeout)
    .option('--json', 'print {"servers": [{peerId, addrs, descriptor}], "skipped": [...]} on stdout')
    .addHelpText(
      'after',
      `
Exit code 1 when nothing is found. Every descriptor shown is signed by the peer that serves it.

Examples:
  agora discover --p2p                                   # the agora dev network
  agora discover --p2p --service weather --json
  agora discover --p2p --capability tools --bootstrap /ip4/127.0.0.1/tcp/4001/p2p/12D3KooW…
  agora call p2p:/ip4/127.0.0.1/tcp/40123/p2p/12D3KooW… current-weather --args '{"city":"Oslo"}'`,
    )
    .action(async (flags: DiscoverFlags) => (await import('../actions/discover.ts')).discover(flags))
}
