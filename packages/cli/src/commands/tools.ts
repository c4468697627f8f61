import { Command } from 'commander'
import type { ConnectionFlags } from '../options.ts'
import { withConnectionOptions } from '../options.ts'

/** `agora tools <target>`: list a server's tools with their arguments and prices. */
export function toolsCommand(): Command {
  return withConnectionOptions(
    new Command('tools')
      .description("list a server's tools, their arguments and prices")
      .argument('<target>', 'http(s)://host:port/mcp or stdio:<command line>'),
  )
    .addHelpText(
      'after',
      `
Examples:
  agora tools http://127.0.0.1:3000/mcp
  agora tools 'stdio:agora serve src/server.ts --stdio' --json`,
    )
    .action(async (target: string, flags: ConnectionFlags) => (await import('../actions/tools.ts')).tools(target, flags))
}
