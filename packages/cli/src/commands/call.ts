import { Command } from 'commander'
import { DEVCHAIN_URL } from '../defaults.ts'
import type { ConnectionFlags } from '../options.ts'
import { withConnectionOptions } from '../options.ts'
import { parseAmount, parseHttpUrl } from '../payment-options.ts'

export interface CallFlags extends ConnectionFlags {
  args?: string
  /** Pay for a priced tool with the wallet, up to this much (whole units of the asset). */
  maxPrice?: string
  /** JSON-RPC of the chain payments are made on. */
  rpc?: string
  /** Pay Lightning invoices (Nostr's hold-until-paid) from this Nostr Wallet Connect wallet. */
  nwc?: string
  /** With --nwc: the most one call may cost, in sats. */
  maxSats?: string
}

/** `agora call <target> <tool>`: call one tool and print its result. */
export function callCommand(): Command {
  return withConnectionOptions(
    new Command('call')
      .description('call a tool and print its result (exit 1 when the tool or the server reports an error)')
      .argument('<target>', 'http(s)://host:port/mcp or stdio:<command line>')
      .argument('<tool>', 'tool name')
      .option('--args <json>', 'arguments as a JSON object', '{}')
      .option('--max-price <amount>', 'pay for a priced tool with the wallet (agora wallet), up to this much, e.g. 0.05', (v) =>
        parseAmount(v, '--max-price'),
      )
      .option('--rpc <url>', `JSON-RPC of the chain to pay on (default ${DEVCHAIN_URL}, the dev chain)`, (v) =>
        parseHttpUrl(v, '--rpc'),
      )
      .option('--nwc <uri>', 'pay a Lightning invoice the server sends (Nostr) from this wallet: nostr+walletconnect://…')
      .option('--max-sats <n>', 'with --nwc: pay at most this many sats for the call (default 100)', (v) =>
        parseAmount(v, '--max-sats'),
      ),
  )
    .addHelpText(
      'after',
      `
Examples:
  agora call http://127.0.0.1:3000/mcp current-weather --args '{"city":"Oslo"}'
  agora call http://127.0.0.1:3000/mcp forecast --args '{"city":"Oslo"}' --api-key sk-test --json
  agora call http://127.0.0.1:3000/mcp forecast --args '{"city":"Oslo"}' --max-price 0.05   # pays 0.01 USDC
  agora call 'nostr:<pubkey>/weather?relay=ws://127.0.0.1:7777' alerts --args '{"city":"Oslo"}' --nwc 'nostr+walletconnect://…'`,
    )
    .action(async (target: string, tool: string, flags: CallFlags) =>
      (await import('../actions/call.ts')).call(target, tool, flags),
    )
}
