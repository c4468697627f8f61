import type { HttpBindings } from '@hono/node-server'
import type { AuthInfo, McpHttpHandler } from '@modelcontextprotocol/server'
import {
  createMcpHandler,
  hostHeaderValidationResponse,
  localhostAllowedHostnames,
  localhostAllowedOrigins,
  originValidationResponse,
} from '@modelcontextprotocol/server'
import { Hono } from 'hono'
import { bodyLimit } from 'hono/body-limit'
import { TRANSPORT_EXTRA_KEY } from '../caller.ts'
import type { AgoraServer } from '../definition/server.ts'
import type { DescriptorOptions } from '../descriptor/create.ts'
import { createDescriptor } from '../descriptor/create.ts'
import { sdkServerFactory } from '../dispatch/sdk-server.ts'
import type { Logger } from '../logger.ts'
import { createLogger } from '../logger.ts'

/** Default request body limit: 4 MiB, as the MCP SDK. */
export const DEFAULT_MAX_BODY_BYTES = 4 * 1024 * 1024

export interface HttpAppOptions {
  /** Path of the MCP endpoint. Default `/mcp`. */
  path?: string | undefined
  /** Largest accepted request body in bytes; larger gets HTTP 413. Default 4 MiB. */
  maxBodyBytes?: number | undefined
  /**
   * Host names accepted in the `Host` header (DNS-rebinding protection). Default: localhost names
   * when `localOnly` is true, anything otherwise.
   */
  allowedHosts?: string[] | undefined
  /** Origins (host names) accepted in the `Origin` header. Defaults as `allowedHosts`. */
  allowedOrigins?: string[] | undefined
  /** True when serving on a loopback address: arms host and origin validation. Default true. */
  localOnly?: boolean | undefined
  /** What the descriptor served at `/.well-known/agora.json` says about endpoints and identity. */
  descriptor?: (() => DescriptorOptions) | undefined
  logger?: Logger | undefined
}

export interface HttpApp {
  /** The Hono app: mount it, or call `app.request()` in tests. */
  readonly app: Hono<{ Bindings: Partial<HttpBindings> }>
  readonly handler: McpHttpHandler
  close(): Promise<void>
}

const jsonRpcError = (code: number, message: string, data?: unknown) => ({
  jsonrpc: '2.0' as const,
  id: null,
  error: { code, message, ...(data === undefined ? {} : { data }) },
})

/**
 * The HTTP face of a server: Streamable HTTP at `path` (2026-07-28 and 2025-era clients through
 * the SDK's `createMcpHandler`), `/health`, and the descriptor at `/.well-known/agora.json`.
 *
 * @example
 * ```ts
 * const { app } = createHttpApp(server)
 * const res = await app.request('/health')
 * ```
 */
export function createHttpApp(def: AgoraServer, options: HttpAppOptions = {}): HttpApp {
  const path = options.path ?? '/mcp'
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES
  const localOnly = options.localOnly ?? true
  const hosts = options.allowedHosts ?? (localOnly ? localhostAllowedHostnames() : undefined)
  const origins = options.allowedOrigins ?? (localOnly ? localhostAllowedOrigins() : undefined)
  const logger = options.logger ?? createLogger({ component: `agora:${def.info.name}` })
  const started = Date.now()

  const handler = createMcpHandler(sdkServerFactory(def, { transport: 'http', logger }), {
    maxRequestBodySize: maxBodyBytes,
    onerror: (err) => logger.debug('mcp handler error', { error: err.message }),
  })

  const app = new Hono<{ Bindings: Partial<HttpBindings> }>()
  app.get('/health', (c) =>
    c.json({ status: 'ok', name: def.info.name, version: def.info.version, uptimeMs: Date.now() - started }),
  )
  app.get('/.well-known/agora.json', (c) => c.json(createDescriptor(def, options.descriptor?.())))

  app.use(path, async (c, next) => {
    const req = c.req.raw
    const badHost = hosts ? hostHeaderValidationResponse(req, hosts) : undefined
    if (badHost) return badHost
    const badOrigin = origins ? originValidationResponse(req, origins) : undefined
    if (badOrigin) return badOrigin
    await next()
  })
  app.post(
    path,
    bodyLimit({
      maxSize: maxBodyBytes,
      onError: (c) => c.json(jsonRpcError(-32600, `Request body too large: the limit is ${maxBodyBytes} bytes`), 413),
    }),
    (c) => {
      const remote = c.env?.incoming?.socket?.remoteAddress
      // Not an authentication: carries the transport's view of the caller to the gates.
      const authInfo: AuthInfo = {
        token: '',
        clientId: '',
        scopes: [],
        extra: { [TRANSPORT_EXTRA_KEY]: { kind: 'http', remote } },
      }
      return handler.fetch(c.req.raw, { authInfo })
    },
  )
  // Streamable HTTP without sessions has no GET stream or DELETE: say so (Inspector needs the 405).
  app.on(['GET', 'DELETE', 'PUT', 'PATCH'], path, (c) =>
    c.json(jsonRpcError(-32000, 'Method not allowed: use POST'), 405, { Allow: 'POST' }),
  )
  app.notFound((c) => c.json({ error: `Not found: ${c.req.path}. The MCP endpoint is POST ${path}` }, 404))
  app.onError((err, c) => {
    logger.error('http error', { error: err.stack ?? err.message })
    return c.json(jsonRpcError(-32603, 'Internal error'), 500)
  })
  return { app, handler, close: () => handler.close() }
}
