import { Command } from 'commander'
import type { ConnectionFlags } from '../options.ts'
import { withConnectionOptions } from '../options.ts'

export interface CallFlags extends ConnectionFlags {
  args?: string
}

/** `agora call <target> <tool>`: call one tool and print its result. */
export function callCommand(): Command {
  return withConnectionOptions(
    new Command('call')
      .description('call a tool and print its result (exit 1 when the tool or the server reports an error)')
      .argument('<target>', 'http(s)://host:port/mcp or stdio:<command line>')
      .argument('<tool>', 'tool name')
      .option('--args <json>', 'arguments as a JSON object', '{}'),
  )
    .addHelpText(
      'after',
      `
Examples:
  agora call http://127.0.0.1:3000/mcp current-weather --args '{"city":"Oslo"}'
  agora call http://127.0.0.1:3000/mcp forecast --args '{"city":"Oslo"}' --api-key sk-test --json`,
    )
    .action(async (target: string, tool: string, flags: CallFlags) =>
      (await import('../actions/call.ts')).call(target, tool, flags),
    )
}
