import { serveStdio as sdkServeStdio } from '@modelcontextprotocol/server/stdio'
import type { AgoraServer } from '../definition/server.ts'
import { sdkServerFactory } from '../dispatch/sdk-server.ts'
import type { Logger } from '../logger.ts'

export interface ServeStdioOptions {
  logger?: Logger | undefined
}

/**
 * Serves a definition over stdio (stdin/stdout), answering 2026-07-28 and 2025-era clients.
 * Logs go to stderr. Returns a handle whose `close()` ends serving.
 *
 * @example
 * ```ts
 * import server from './server.ts'
 * serveStdio(server)
 * ```
 */
export function serveStdio(def: AgoraServer, options: ServeStdioOptions = {}): { close(): Promise<void> } {
  return sdkServeStdio(sdkServerFactory(def, { transport: 'stdio', logger: options.logger }), {
    onerror: (err) => options.logger?.debug('stdio error', { error: err.message }),
  })
}
