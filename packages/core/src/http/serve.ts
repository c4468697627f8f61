import type { AddressInfo } from 'node:net'
import { serve } from '@hono/node-server'
import type { AgoraServer } from '../definition/server.ts'
import { AgoraError } from '../errors.ts'
import type { HttpAppOptions } from './app.ts'
import { createHttpApp } from './app.ts'

export interface ServeHttpOptions extends HttpAppOptions {
  /** Interface to bind. Default `127.0.0.1`. */
  host?: string | undefined
  /** Port; 0 picks a free one. Default 3000. */
  port?: number | undefined
  /** Stops the server when aborted. */
  signal?: AbortSignal | undefined
}

/** A running HTTP server. */
export interface HttpServerHandle {
  /** Base URL, e.g. `http://127.0.0.1:3000`. */
  readonly url: string
  /** The MCP endpoint URL, e.g. `http://127.0.0.1:3000/mcp`. */
  readonly mcpUrl: string
  readonly port: number
  close(): Promise<void>
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1', '[::1]'])

/**
 * Serves a definition over Streamable HTTP.
 *
 * @example
 * ```ts
 * const http = await serveHttp(server, { port: 0 })
 * console.log(`MCP endpoint: ${http.mcpUrl}`)
 * await http.close()
 * ```
 */
export async function serveHttp(def: AgoraServer, options: ServeHttpOptions = {}): Promise<HttpServerHandle> {
  options.signal?.throwIfAborted()
  const host = options.host ?? '127.0.0.1'
  const path = options.path ?? '/mcp'
  const localOnly = options.localOnly ?? LOOPBACK.has(host)
  let base = ''
  const { app, close: closeApp } = createHttpApp(def, {
    ...options,
    localOnly,
    descriptor: options.descriptor ?? (() => ({ endpoints: [{ transport: 'streamable-http', url: `${base}${path}` }] })),
  })
  const server = await new Promise<ReturnType<typeof serve>>((resolve, reject) => {
    const s = serve({ fetch: app.fetch, hostname: host, port: options.port ?? 3000 }, () => resolve(s))
    s.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        new AgoraError('CONFIG', `cannot listen on ${host}:${options.port ?? 3000}: ${err.code ?? err.message}`, { cause: err }),
      ),
    )
  })
  const port = (server.address() as AddressInfo).port
  base = `http://${host.includes(':') && !host.startsWith('[') ? `[${host}]` : host}:${port}`
  let closed: Promise<void> | undefined
  const close = () => {
    closed ??= (async () => {
      await closeApp()
      await new Promise<void>((resolve) => {
        server.close(() => resolve())
        ;(server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.()
      })
    })()
    return closed
  }
  options.signal?.addEventListener('abort', () => void close(), { once: true })
  return { url: base, mcpUrl: `${base}${path}`, port, close }
}
