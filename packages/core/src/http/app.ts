import type { HttpBindings } from '@hono/node-server'
import type { AuthInfo, McpHttpHandler } from '@modelcontextprotocol/server'
import {
  createMcpHandler,
  hostHeaderValidationResponse,
  isLegacyRequest,
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
import { createInflightRegistry } from './inflight.ts'
import { createLegacySessions } from './sessions.ts'

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
  /**
   * How 2025-era clients (no per-request `_meta` envelope) are served:
   * - `'sessions'` (default): `Mcp-Session-Id` sessions opened by `initialize`, so sampling,
   *   elicitation, `inputRequired(...)` results, `logging/setLevel`, resource subscriptions and the
   *   GET stream work; requests without a session are answered statelessly.
   * - `'stateless'`: one fresh instance per request, no sessions (GET and DELETE answer 405).
   * - `'reject'`: 2026-07-28 clients only.
   */
  legacy?: 'sessions' | 'stateless' | 'reject' | undefined
  /** `'sessions'` mode: close sessions idle this long (ms). Default 30 minutes. */
  sessionIdleMs?: number | undefined
  /** `'sessions'` mode: at most this many live sessions (the least recently used is closed). Default 1000. */
  maxSessions?: number | undefined
  /** Key (at least 32 bytes) that signs multi round-trip `requestState`; default: random per process. */
  requestStateKey?: string | Uint8Array | undefined
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

  const legacy = options.legacy ?? 'sessions'
  const factory = sdkServerFactory(def, { transport: 'http', logger, requestStateKey: options.requestStateKey })
  const onerror = (err: Error) => logger.debug('mcp handler error', { error: err.message })
  const handler = createMcpHandler(factory, {
    maxRequestBodySize: maxBodyBytes,
    legacy: legacy === 'sessions' ? 'reject' : legacy,
    onerror,
  })
  const sessions =
    legacy === 'sessions'
      ? createLegacySessions(factory, { idleMs: options.sessionIdleMs, maxSessions: options.maxSessions, maxBodyBytes, onerror })
      : undefined
  // 2026-07-28 clients hear about resource and list changes on their `subscriptions/listen` streams.
  const stopListening = def.onChange((change) => {
    if (change.kind === 'resource-updated') handler.notify.resourceUpdated(change.uri)
    else if (change.list === 'tools') handler.notify.toolsChanged()
    else if (change.list === 'resources') handler.notify.resourcesChanged()
    else handler.notify.promptsChanged()
  })

  const inflight = createInflightRegistry()
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
    async (c) => {
      const req = c.req.raw
      let body: unknown
      try {
        body = JSON.parse(await c.req.text())
      } catch {
        return c.json(jsonRpcError(-32700, 'Parse error: the request body is not valid JSON'), 400)
      }
      const remote = c.env?.incoming?.socket?.remoteAddress
      const callerKey = `${remote}|${req.headers.get('authorization') ?? ''}|${req.headers.get('x-api-key') ?? ''}`
      const message = body as { id?: unknown; method?: unknown; params?: { requestId?: unknown } } | null
      if (message?.method === 'notifications/cancelled' && message.params?.requestId !== undefined) {
        inflight.cancel(callerKey, message.params.requestId, 'cancelled by the client')
      }
      const tracked = message?.id !== undefined && typeof message?.method === 'string'
      const entry = tracked ? inflight.begin(callerKey, message?.id, req.signal) : undefined
      // The response may stream (SSE) after fetch() returns: forget the request when the socket response closes.
      const outgoing = c.env?.outgoing
      if (entry && outgoing) outgoing.once('close', entry.end)
      // Not an authentication: carries the transport's view of the caller (and its cancel signal) to the gates.
      const transport = { kind: 'http', remote, signal: entry?.signal ?? req.signal }
      const authInfo: AuthInfo = { token: '', clientId: '', scopes: [], extra: { [TRANSPORT_EXTRA_KEY]: transport } }
      try {
        if (sessions && (await isLegacyRequest(req, body))) return await sessions.fetch(req, { authInfo, parsedBody: body })
        return await handler.fetch(req, { authInfo, parsedBody: body })
      } finally {
        if (entry && !outgoing) entry.end()
      }
    },
  )
  // Streamable HTTP without sessions has no GET stream or DELETE: say so (Inspector needs the 405).
  // A 2025 session has a GET stream and ends with DELETE (`legacy: 'sessions'`).
  app.on(['GET', 'DELETE', 'PUT', 'PATCH'], path, (c) => {
    const req = c.req.raw
    if (sessions && (req.method === 'GET' || req.method === 'DELETE') && req.headers.has('mcp-session-id')) {
      return sessions.fetch(req)
    }
    return c.json(jsonRpcError(-32000, 'Method not allowed: use POST'), 405, { Allow: 'POST' })
  })
  app.notFound((c) => c.json({ error: `Not found: ${c.req.path}. The MCP endpoint is POST ${path}` }, 404))
  app.onError((err, c) => {
    logger.error('http error', { error: err.stack ?? err.message })
    return c.json(jsonRpcError(-32603, 'Internal error'), 500)
  })
  return {
    app,
    handler,
    close: async () => {
      stopListening()
      await sessions?.close()
      await handler.close()
    },
  }
}
