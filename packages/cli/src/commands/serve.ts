import { Command } from 'commander'
import { DEFAULT_HTTP } from '../defaults.ts'

export interface ServeFlags {
  http?: string | true
  stdio?: boolean
  json?: boolean
}

/** `agora serve <module>`: serve a module's default-exported Agora server. */
export function serveCommand(): Command {
  return new Command('serve')
    .description('serve the Agora server a module exports by default, over HTTP and/or stdio')
    .argument('<module>', 'a .ts or .js file whose default export is createServer(...)')
    .option('--http [host:port]', `serve Streamable HTTP (default ${DEFAULT_HTTP}; port 0 picks a free one)`)
    .option('--stdio', 'serve on stdin/stdout (stdout then carries the protocol only)')
    .option('--json', 'print one JSON ready line instead of the banner')
    .addHelpText(
      'after',
      `
Examples:
  agora serve src/server.ts                       # HTTP on ${DEFAULT_HTTP}
  agora serve src/server.ts --http 127.0.0.1:0 --json
  agora serve src/server.ts --stdio               # for MCP clients that spawn servers`,
    )
    .action(async (module: string, flags: ServeFlags) => (await import('../actions/serve.ts')).serve(module, flags))
}
