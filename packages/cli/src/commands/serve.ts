import { Command } from 'commander'
import { DEFAULT_HTTP, DEVCHAIN_URL } from '../defaults.ts'
import { collectBootstrap, collectRelay, parseMultiaddr } from '../options.ts'
import { parseAddress, parseHttpUrl } from '../payment-options.ts'

export interface ServeFlags {
  http?: string | true
  stdio?: boolean
  /** Listen multiaddr for MCP over libp2p. */
  p2p?: string
  bootstrap?: string[]
  keyFile?: string
  dhtProtocol?: string
  /** Relays to serve MCP over Nostr on. */
  nostr?: string[]
  nostrKeyFile?: string
  serverId?: string
  private?: boolean
  nostrProfile?: string
  /** Take x402 payments for priced tools, paid to this address. */
  payTo?: string
  /** Take Lightning payments for sats-priced tools into this Nostr Wallet Connect wallet. */
  nwc?: string
  devchain?: string
  facilitator?: string
  network?: string
  ledger?: string
  paymentForm?: string
  json?: boolean
}

/** `agora serve <module>`: serve a module's default-exported Agora server. */
export function serveCommand(): Command {
  return new Command('serve')
    .description('serve the Agora server a module exports by default, over HTTP, stdio, libp2p and/or Nostr')
    .argument('<module>', 'a .ts or .js file whose default export is createServer(...)')
    .option('--http [host:port]', `serve Streamable HTTP (default ${DEFAULT_HTTP}; port 0 picks a free one)`)
    .option('--stdio', 'serve on stdin/stdout (stdout then carries the protocol only)')
    .option('--p2p <multiaddr>', 'serve MCP over libp2p here and announce it on the DHT, e.g. /ip4/127.0.0.1/tcp/0', (v) =>
      parseMultiaddr(v),
    )
    .option(
      '--bootstrap <multiaddr>',
      'with --p2p: a DHT peer to join through, ending in /p2p/<PeerId> (repeatable)',
      collectBootstrap,
    )
    .option('--key-file <path>', 'with --p2p: keep the node key here, so the PeerId survives restarts (created if missing)')
    .option('--dht-protocol <id>', 'with --p2p: a private DHT protocol id (default /agora/kad/1.0.0)')
    .option('--nostr <relay>', 'serve MCP over Nostr (DVMCP) on this relay and announce it there (repeatable)', collectRelay)
    .option(
      '--nostr-key-file <path>',
      'with --nostr: keep the Nostr key here, so the pubkey survives restarts (created if missing)',
    )
    .option('--server-id <id>', 'with --nostr: the server id clients address (default: the server name)')
    .option('--private', 'with --nostr: do not announce; reachable only by clients that know the pubkey')
    .option('--nostr-profile <id>', 'with --nostr: the wire dialect, dvmcp-2025-03-26-draft (default) or contextvm')
    .option('--pay-to <address>', 'take x402 payments for priced tools, paid to this EVM address', (v) =>
      parseAddress(v, '--pay-to'),
    )
    .option(
      '--nwc <uri>',
      'take Lightning payments (hold until paid) for sats-priced tools into this wallet: nostr+walletconnect://…',
    )
    .option('--devchain <url>', `with --pay-to: the Agora dev chain to settle on (default ${DEVCHAIN_URL})`, (v) =>
      parseHttpUrl(v, '--devchain'),
    )
    .option('--facilitator <url>', 'with --pay-to: any x402 facilitator instead of the dev chain', (v) =>
      parseHttpUrl(v, '--facilitator'),
    )
    .option('--network <caip2>', 'with --facilitator: the network it settles on, e.g. eip155:8453 (Base)')
    .option(
      '--ledger <url>',
      'with --pay-to or --nwc: where charges are kept (default sqlite:.agora/charges.db; postgres://… works)',
    )
    .option('--payment-form <form>', 'with --pay-to: how challenges are answered: sep-2009 (default), x402-mcp or x402-extension')
    .option('--json', 'print one JSON ready line instead of the banner')
    .addHelpText(
      'after',
      `
Examples:
  agora serve src/server.ts                       # HTTP on ${DEFAULT_HTTP}
  agora serve src/server.ts --http 127.0.0.1:0 --json
  agora serve src/server.ts --stdio               # for MCP clients that spawn servers
  agora serve src/server.ts --p2p /ip4/127.0.0.1/tcp/0 --bootstrap /ip4/127.0.0.1/tcp/4001/p2p/12D3KooW…
  agora serve src/server.ts --http 127.0.0.1:3000 --p2p /ip4/0.0.0.0/tcp/4002 --key-file .agora/node.key
  agora serve src/server.ts --nostr ws://127.0.0.1:7777 --nostr-key-file .agora/nostr.key
  agora serve src/server.ts --pay-to 0xYou…                      # paid tools on the agora dev chain
  agora serve src/server.ts --pay-to 0xYou… --facilitator https://x402.org/facilitator --network eip155:84532`,
    )
    .action(async (module: string, flags: ServeFlags) => (await import('../actions/serve.ts')).serve(module, flags))
}
