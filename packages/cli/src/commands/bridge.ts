import { Command } from 'commander'
import { collectRelay } from '../options.ts'

export interface BridgeFlags {
  nostr?: string[]
  config?: string
  nwc?: string
  ledger?: string
  nostrKeyFile?: string
  serverId?: string
  private?: boolean
  json?: boolean
}

/** `agora bridge --nostr <relay> -- <command>`: any stdio MCP server, on Nostr, behind the pipeline. */
export function bridgeCommand(): Command {
  return new Command('bridge')
    .description('expose any stdio MCP server over Nostr (DVMCP), with prices and access rules in front')
    .argument('<command...>', 'the stdio MCP server to run, after --')
    .requiredOption('--nostr <relay>', 'relay to serve and announce on (repeatable)', collectRelay)
    .option(
      '--config <file>',
      'JSON: { "name", "about", "prices": { "<tool>": "10 sats" }, "allow": [pubkeys], "block": [pubkeys] }',
    )
    .option('--nwc <uri>', 'take Lightning payments for sats-priced tools into this wallet: nostr+walletconnect://…')
    .option('--ledger <url>', 'with --nwc: where charges are kept (default sqlite:.agora/charges.db)')
    .option('--nostr-key-file <path>', 'keep the Nostr key here, so the pubkey survives restarts (created if missing)')
    .option('--server-id <id>', 'the server id clients address (default: the server name)')
    .option('--private', 'do not announce; reachable only by clients that know the pubkey')
    .option('--json', 'print one JSON ready line instead of the banner')
    .passThroughOptions()
    .addHelpText(
      'after',
      `
Examples:
  agora bridge --nostr ws://127.0.0.1:7777 -- npx @modelcontextprotocol/server-everything
  agora bridge --nostr ws://127.0.0.1:7777 --config prices.json --nwc 'nostr+walletconnect://…' -- node my-server.js
  prices.json: { "name": "everything", "prices": { "echo": "1 sats" }, "block": ["npub1…"] }`,
    )
    .action(async (command: string[], flags: BridgeFlags) => (await import('../actions/bridge.ts')).bridge(command, flags))
}
