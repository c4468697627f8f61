import { Command } from 'commander'
import { DEV_BASE_PORT } from '../defaults.ts'
import { parsePort } from '../options.ts'

export interface DevFlags {
  json?: boolean
  port?: number
}

/** `agora dev`: the local network for development. Today: the example servers over HTTP. */
export function devCommand(): Command {
  return new Command('dev')
    .description('run the local development network: the example servers over HTTP on 127.0.0.1')
    .option('--port <n>', `first port (weather ${DEV_BASE_PORT}, everything ${DEV_BASE_PORT + 1}); 0 picks free ports`, parsePort)
    .option('--json', 'print one JSON ready line instead of the banner')
    .addHelpText(
      'after',
      `
Examples:
  agora dev                    # or: npm start
  agora dev --port 0 --json    # free ports, machine-readable ready line`,
    )
    .action(async (flags: DevFlags) => (await import('../actions/dev.ts')).dev(flags))
}
