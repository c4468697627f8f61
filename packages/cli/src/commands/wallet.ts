import { Command } from 'commander'
import { DEVCHAIN_URL } from '../defaults.ts'
import { parseAddress, parseAmount, parseHttpUrl } from '../payment-options.ts'

export interface WalletFlags {
  json?: boolean
  force?: boolean
  rpc?: string
  token?: string
  faucet?: string
}

const run =
  (action: 'create' | 'address' | 'balance' | 'fund') =>
  async (...args: unknown[]) => {
    const actions = await import('../actions/wallet.ts')
    if (action === 'fund') return actions.fund(args[0] as string | undefined, args[1] as WalletFlags)
    return actions[action](args[0] as WalletFlags)
  }

/** `agora wallet …`: the paying client's EVM wallet ($AGORA_HOME/wallet.json, default ~/.agora). */
export function walletCommand(): Command {
  const wallet = new Command('wallet')
    .description('the EVM wallet `agora call --max-price` pays with ($AGORA_HOME/wallet.json, default ~/.agora)')
    .addHelpText(
      'after',
      `
Examples:
  agora wallet create && agora wallet fund      # a wallet with 10 USDC on the dev chain of agora dev
  agora wallet balance --json
  agora call http://127.0.0.1:3000/mcp forecast --args '{"city":"Oslo"}' --max-price 0.05`,
    )
  wallet
    .command('create')
    .description('create a wallet with a fresh key (the keystore file is readable by you only)')
    .option('--force', 'replace an existing wallet: its key, and any funds, are lost')
    .option('--json', 'print {address, path, createdAt} as JSON on stdout')
    .action(run('create'))
  wallet
    .command('address')
    .description("print the wallet's address")
    .option('--json', 'print {address, path} as JSON on stdout')
    .action(run('address'))
  wallet
    .command('balance')
    .description("print the wallet's token balance")
    .option('--rpc <url>', `JSON-RPC of the chain (default ${DEVCHAIN_URL}, the dev chain)`, (v) => parseHttpUrl(v, '--rpc'))
    .option('--token <address>', 'the token contract (default: the dev chain token, asked from the --rpc URL)', (v) =>
      parseAddress(v),
    )
    .option('--json', 'print the balance as JSON on stdout')
    .action(run('balance'))
  wallet
    .command('fund')
    .description("get dev tokens from the dev chain's faucet (dev chain only)")
    .argument('[amount]', 'whole tokens to mint', (v) => parseAmount(v), '10')
    .option('--faucet <url>', `the faucet (default ${DEVCHAIN_URL}/faucet)`, (v) => parseHttpUrl(v, '--faucet'))
    .option('--json', "print the faucet's answer as JSON on stdout")
    .action(run('fund'))
  for (const sub of wallet.commands) sub.exitOverride().showHelpAfterError('(run with --help for usage)')
  return wallet
}
