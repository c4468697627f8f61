import type { AgoraServer } from '@agora/core'
import { AgoraError, isAgoraError } from '@agora/core'
import { serveHttp } from '@agora/core/http'
import type { Service } from './services.ts'

/** What a running HTTP server tells the banner and the `--json` ready line. */
export interface HttpServiceInfo {
  readonly name: string
  readonly version: string
  /** The MCP endpoint URL. */
  readonly http: string
  readonly def: AgoraServer
}

/**
 * A service serving a definition over Streamable HTTP. `busyHint` is added to the error when the
 * port is taken.
 *
 * @example
 * ```ts
 * const group = await startServices([httpService(weather, { host: '127.0.0.1', port: 0 })])
 * console.log(group.started[0].info.http)
 * ```
 */
export function httpService(
  def: AgoraServer,
  listen: { host: string; port: number },
  busyHint = 'port 0 picks a free one',
): Service<HttpServiceInfo> {
  return {
    name: def.info.name,
    async start() {
      const handle = await serveHttp(def, listen).catch((err: unknown) => {
        const inUse = isAgoraError(err) && (err.cause as { code?: unknown } | undefined)?.code === 'EADDRINUSE'
        throw inUse ? new AgoraError(err.code, `${err.message}: the port is taken (${busyHint})`, { cause: err }) : err
      })
      return {
        info: { name: def.info.name, version: def.info.version, http: handle.mcpUrl, def },
        stop: () => handle.close(),
      }
    },
  }
}
