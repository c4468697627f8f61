import { Command } from 'commander'
import { UsageError } from '../errors.ts'
import { collectBootstrap, collectRelay, parseTimeout } from '../options.ts'

export interface DiscoverFlags {
  /** Search the libp2p DHT. */
  p2p?: boolean
  /** Search these Nostr relays' announcements (kinds 31316–31319). */
  nostr?: string[]
  /** Only servers offering this tool (Nostr). */
  tool?: string
  /** Nostr wire dialect whose announcements to read. */
  profile?: string
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

/** `agora discover --p2p | --nostr <relay>`: find servers on the DHT or on Nostr relays, with their tools and prices. */
export function discoverCommand(): Command {
  return new Command('discover')
    .description('find MCP servers on the libp2p DHT or on Nostr relays, by name or capability, with their tools and prices')
    .option('--p2p', 'search the libp2p DHT')
    .option('--nostr <relay>', 'search the announcements on this Nostr relay (repeatable)', collectRelay)
    .option('--tool <name>', 'with --nostr: only servers offering this tool')
    .option('--profile <id>', 'with --nostr: read dvmcp-2025-03-26-draft (default) or contextvm announcements')
    .option(
      '--bootstrap <multiaddr>',
      'a DHT peer to join through, ending in /p2p/<PeerId> (repeatable; default: the agora dev bootstrap node)',
      collectBootstrap,
    )
    .option('--service <name>', 'only servers with this name')
    .option('--capability <cap>', 'only servers with tools, resources or prompts', parseCapability)
    .option('--dht-protocol <id>', 'a private DHT protocol id (default /agora/kad/1.0.0)')
    .option('--timeout <ms>', 'stop searching after this many milliseconds (default 10000)', parseTimeout)
    .option('--json', 'print {"servers": [...], "skipped": [...]} on stdout')
    .addHelpText(
      'after',
      `
Exit code 1 when nothing is found. Every descriptor or announcement shown is signed by the server's key.

Examples:
  agora discover --p2p                                   # the agora dev network
  agora discover --p2p --service weather --json
  agora discover --p2p --capability tools --bootstrap /ip4/127.0.0.1/tcp/4001/p2p/12D3KooW…
  agora call p2p:/ip4/127.0.0.1/tcp/40123/p2p/12D3KooW… current-weather --args '{"city":"Oslo"}'
  agora discover --nostr ws://127.0.0.1:7777 --tool alerts`,
    )
    .action(async (flags: DiscoverFlags) => (await import('../actions/discover.ts')).discover(flags))
}
