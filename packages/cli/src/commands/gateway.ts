import { Command } from 'commander'
import { collectRelay, parseSeconds } from '../options.ts'
import { parseAmount } from '../payment-options.ts'

export interface GatewayFlags {
  nostr?: string[]
  tool?: string
  server?: string
  profile?: string
  nwc?: string
  maxPerCall?: string
  maxTotal?: string
  /** Seconds between looks for new and withdrawn servers; 0 looks only at start. */
  rediscover?: number
  timeout?: number
}

/** `agora gateway --nostr <relay>`: one local stdio MCP server over every server found on the relays. */
export function gatewayCommand(): Command {
  return new Command('gateway')
    .description('serve every MCP server announced on Nostr relays as one local stdio MCP server (for Claude Desktop & co.)')
    .requiredOption('--nostr <relay>', 'relay to discover servers on (repeatable)', collectRelay)
    .option('--tool <name>', 'only servers offering this tool')
    .option('--server <name>', 'only servers with this name')
    .option('--profile <id>', 'the wire dialect of the servers: dvmcp-2025-03-26-draft (default) or contextvm')
    .option('--nwc <uri>', 'pay Lightning invoices of priced tools from this wallet: nostr+walletconnect://…')
    .option('--max-per-call <sats>', 'with --nwc: pay at most this much for one call (default 100)', (v) =>
      parseAmount(v, '--max-per-call'),
    )
    .option(
      '--max-total <sats>',
      'with --nwc: pay at most this much in total, as the payment record counts (default 10000)',
      (v) => parseAmount(v, '--max-total'),
    )
    .option(
      '--rediscover <seconds>',
      'look for newly announced (and withdrawn) servers this often; 0 looks only at start (default 60)',
      parseSeconds,
    )
    .addHelpText(
      'after',
      `
stdout carries the MCP protocol; messages for people go to stderr.

Examples:
  agora gateway --nostr ws://127.0.0.1:7777
  agora gateway --nostr ws://127.0.0.1:7777 --nwc 'nostr+walletconnect://…' --max-per-call 50

Claude Desktop (claude_desktop_config.json):
  { "mcpServers": { "agora": { "command": "npx", "args": ["agora", "gateway", "--nostr", "ws://127.0.0.1:7777"] } } }`,
    )
    .action(async (flags: GatewayFlags) => (await import('../actions/gateway.ts')).gateway(flags))
}
