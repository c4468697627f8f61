/**
 * The `agora` command: wiring of `@agora/core` and `@agora/client` into verbs. Conventions:
 * stdout carries only protocol or `--json` output, everything for people goes to stderr; exit
 * code 0 on success, 1 on failure, 2 on a usage error; failures print one line, no stack.
 *
 * @example
 * ```ts
 * import { main } from '@agora/cli'
 * process.exitCode = await main(['node', 'agora', 'tools', 'http://127.0.0.1:3000/mcp'])
 * ```
 */
import { Command, CommanderError } from 'commander'
import { bridgeCommand } from './commands/bridge.ts'
import { callCommand } from './commands/call.ts'
import { devCommand } from './commands/dev.ts'
import { devchainCommand } from './commands/devchain.ts'
import { discoverCommand } from './commands/discover.ts'
import { gatewayCommand } from './commands/gateway.ts'
import { initCommand } from './commands/init.ts'
import { relayCommand } from './commands/relay.ts'
import { serveCommand } from './commands/serve.ts'
import { toolsCommand } from './commands/tools.ts'
import { walletCommand } from './commands/wallet.ts'
import { EXIT, reportError } from './errors.ts'
import { VERSION } from './paths.ts'

/** Builds the `agora` program with every verb. */
export function createProgram(): Command {
  const program = new Command('agora')
    .description('Agora: build, serve and call MCP servers that anyone can find, trust and pay')
    .version(VERSION, '-v, --version')
    .showHelpAfterError('(run with --help for usage)')
    .enablePositionalOptions()
  for (const command of [
    initCommand(),
    serveCommand(),
    devCommand(),
    devchainCommand(),
    toolsCommand(),
    callCommand(),
    discoverCommand(),
    walletCommand(),
    relayCommand(),
    bridgeCommand(),
    gatewayCommand(),
  ]) {
    program.addCommand(command)
  }
  program.commands.forEach((c) => {
    c.showHelpAfterError('(run with --help for usage)')
  })
  return program
}

/** Runs the CLI with `argv` (as `process.argv`) and resolves with the exit code. */
export async function main(argv: readonly string[] = process.argv): Promise<number> {
  delete process.env.AGORA_RELAUNCHED
  const program = createProgram().exitOverride()
  for (const c of program.commands) c.exitOverride()
  try {
    await program.parseAsync([...argv])
    return typeof process.exitCode === 'number' ? process.exitCode : EXIT.ok
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help and version are not failures; commander has already printed its message.
      if (err.exitCode === 0) return EXIT.ok
      return EXIT.usage
    }
    return reportError(err)
  }
}
