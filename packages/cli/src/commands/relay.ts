import { Command } from 'commander'
import { RELAY_PORT } from '../defaults.ts'
import { parsePort } from '../options.ts'

export interface RelayFlags {
  port?: number
  host?: string
  db?: string
  json?: boolean
}

/** `agora relay`: the embedded Nostr relay. */
export function relayCommand(): Command {
  return new Command('relay')
    .description('run a Nostr relay (NIP-01, NIP-09, NIP-40) for MCP over Nostr, on 127.0.0.1')
    .option('--port <n>', `port to listen on (default ${RELAY_PORT}); 0 picks a free one`, parsePort)
    .option('--host <address>', 'interface to listen on (default 127.0.0.1)')
    .option('--db <file>', 'keep events in this SQLite file (default: in memory, lost on exit)')
    .option('--json', 'print one JSON ready line instead of the banner')
    .addHelpText(
      'after',
      `
Examples:
  agora relay                          # ws://127.0.0.1:${RELAY_PORT}, events in memory
  agora relay --db .agora/relay.db     # events survive restarts
  agora relay --port 0 --json          # free port, machine-readable ready line`,
    )
    .action(async (flags: RelayFlags) => (await import('../actions/relay.ts')).relay(flags))
}
