import { Command } from 'commander'
import { DEV_BASE_PORT, DEV_P2P_PORT, DEVCHAIN_PORT, RELAY_PORT } from '../defaults.ts'
import { parsePort } from '../options.ts'

export interface DevFlags {
  json?: boolean
  port?: number
  /** False with `--no-devchain`. */
  devchain?: boolean
  /** False with `--no-p2p`. */
  p2p?: boolean
  /** False with `--no-nostr`. */
  nostr?: boolean
}

/**
 * `agora dev`: the local network for development: the example servers over HTTP, libp2p and Nostr,
 * a DHT bootstrap node, a Nostr relay with a Lightning stand-in, the dev chain.
 */
export function devCommand(): Command {
  return new Command('dev')
    .description(
      'run the local development network on 127.0.0.1: the example servers over HTTP, libp2p and Nostr, a DHT bootstrap node, a Nostr relay with a Lightning stand-in, and the dev chain',
    )
    .option('--port <n>', `first port (weather ${DEV_BASE_PORT}, everything ${DEV_BASE_PORT + 1}); 0 picks free ports`, parsePort)
    .option('--json', 'print one JSON ready line instead of the banner')
    .option('--no-p2p', `do not start the DHT bootstrap node (port ${DEV_P2P_PORT}) nor serve the examples over libp2p`)
    .option(
      '--no-nostr',
      `do not start the Nostr relay (port ${RELAY_PORT}) and Lightning stand-in, nor serve the examples over Nostr`,
    )
    .option('--no-devchain', `do not start the dev chain (EVM + USDC-like token + x402 facilitator, port ${DEVCHAIN_PORT})`)
    .addHelpText(
      'after',
      `
Examples:
  agora dev                    # or: npm start
  agora dev --port 0 --json    # free ports, machine-readable ready line`,
    )
    .action(async (flags: DevFlags) => (await import('../actions/dev.ts')).dev(flags))
}
