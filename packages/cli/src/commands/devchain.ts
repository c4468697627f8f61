import { Command } from 'commander'
import { DEVCHAIN_PORT } from '../defaults.ts'
import { parsePort } from '../options.ts'

export interface DevchainFlags {
  json?: boolean
  port?: number
}

/** `agora devchain`: the local payments network (EVM chain, USDC-like token, x402 facilitator, faucet). */
export function devchainCommand(): Command {
  return new Command('devchain')
    .description('run a local EVM chain with a USDC-like token, the x402 facilitator and a faucet, on 127.0.0.1')
    .option('--port <n>', `port for JSON-RPC, facilitator and faucet (default ${DEVCHAIN_PORT}); 0 picks a free one`, parsePort)
    .option('--json', 'print one JSON ready line instead of the banner')
    .addHelpText(
      'after',
      `
Examples:
  agora devchain                   # JSON-RPC on http://127.0.0.1:${DEVCHAIN_PORT}
  agora devchain --port 0 --json   # free port, machine-readable ready line
  curl -X POST http://127.0.0.1:${DEVCHAIN_PORT}/faucet -d '{"address":"0x…","amount":"25"}'`,
    )
    .action(async (flags: DevchainFlags) => (await import('../actions/devchain.ts')).devchain(flags))
}
