import { randomUUID } from 'node:crypto'
import type { LegacyHttpHandler, McpHandlerRequestOptions, McpServerFactory } from '@modelcontextprotocol/server'
import {
  isInitializeRequest,
  legacyStatelessFallback,
  WebStandardStreamableHTTPServerTransport,
} from '@modelcontextprotocol/server'

/** Sessions idle this long are closed: 30 minutes. */
export const DEFAULT_SESSION_IDLE_MS = 30 * 60_000
/** At most this many live sessions; the least recently used is closed to admit a new one. */
export const DEFAULT_MAX_SESSIONS = 1000

export interface LegacySessionsOptions {
  idleMs?: number | undefined
  maxSessions?: number | undefined
  maxBodyBytes?: number | undefined
  onerror?: ((error: Error) => void) | undefined
}

/** Sessionful 2025-era Streamable HTTP serving: what `createHttpApp` routes legacy traffic to. */
export interface LegacySessions {
  /** Serves one 2025-era request (POST, GET or DELETE). */
  readonly fetch: LegacyHttpHandler
  /** Number of live sessions. */
  readonly size: number
  close(): Promise<void>
}

interface Session {
  readonly transport: WebStandardStreamableHTTPServerTransport
  readonly server: { close(): Promise<void> }
  lastSeen: number
}

const jsonRpcError = (status: number, code: number, message: string) =>
  Response.json({ jsonrpc: '2.0', id: null, error: { code, message } }, { status })

async function readJson(request: Request): Promise<unknown> {
  try {
    return await request.clone().json()
  } catch {
    return undefined
  }
}

/**
 * 2025-era serving with `Mcp-Session-Id` sessions (one SDK server instance per session), so what
 * 2025 clients expect of a session works: server-to-client requests (sampling, elicitation, roots,
 * the SDK's shim for `inputRequired(...)` results), `logging/setLevel`, `resources/subscribe`
 * notifications, and the GET stream. An `initialize` opens a session; requests without a session id
 * that are not `initialize` are answered statelessly, one fresh instance per request.
 */
export function createLegacySessions(factory: McpServerFactory, options: LegacySessionsOptions = {}): LegacySessions {
  const idleMs = options.idleMs ?? DEFAULT_SESSION_IDLE_MS
  const maxSessions = options.maxSessions ?? DEFAULT_MAX_SESSIONS
  const maxRequestBodySize = options.maxBodyBytes
  const sessions = new Map<string, Session>()
  const stateless = legacyStatelessFallback(factory, options.onerror, maxRequestBodySize ? { maxRequestBodySize } : undefined)

  const drop = (id: string) => {
    const session = sessions.get(id)
    if (!session) return
    sessions.delete(id)
    session.transport.close().catch(() => {})
    session.server.close().catch(() => {})
  }
  const sweep = setInterval(
    () => {
      const cutoff = Date.now() - idleMs
      for (const [id, s] of sessions) if (s.lastSeen < cutoff) drop(id)
    },
    Math.min(idleMs, 60_000),
  )
  sweep.unref()

  async function open(request: Request, opts: McpHandlerRequestOptions | undefined): Promise<Response> {
    while (sessions.size >= maxSessions) {
      const oldest = [...sessions].sort((a, b) => a[1].lastSeen - b[1].lastSeen)[0]
      if (!oldest) break
      drop(oldest[0])
    }
    const server = await factory({
      era: 'legacy',
      ...(opts?.authInfo ? { authInfo: opts.authInfo } : {}),
      requestInfo: request,
    })
    let session: Session | undefined
    const transport = new WebStandardStreamableHTTPServerTransport({
      sessionIdGenerator: randomUUID,
      onsessioninitialized: (id) => {
        session = { transport, server, lastSeen: Date.now() }
        sessions.set(id, session)
      },
      onsessionclosed: (id) => drop(id),
      ...(maxRequestBodySize ? { maxRequestBodySize } : {}),
    })
    transport.onerror = (err) => options.onerror?.(err)
    await server.connect(transport)
    const response = await transport.handleRequest(request, opts)
    if (!session) {
      transport.close().catch(() => {})
      server.close().catch(() => {})
    }
    return response
  }

  return {
    get size() {
      return sessions.size
    },
    async fetch(request, opts) {
      const id = request.headers.get('mcp-session-id')
      if (id) {
        const session = sessions.get(id)
        if (!session) return jsonRpcError(404, -32001, 'Session not found: initialize a new session')
        session.lastSeen = Date.now()
        return session.transport.handleRequest(request, opts)
      }
      if (request.method === 'POST' && isInitializeRequest(opts?.parsedBody ?? (await readJson(request)))) {
        return open(request, opts)
      }
      return stateless(request, opts)
    },
    async close() {
      clearInterval(sweep)
      for (const id of [...sessions.keys()]) drop(id)
    },
  }
}
