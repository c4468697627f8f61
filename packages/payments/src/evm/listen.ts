import type { AddressInfo } from 'node:net'
import { AgoraError } from '@agora/core/errors'
import { serve } from '@hono/node-server'
import type { Hono } from 'hono'

export interface ListenOptions {
  /** Interface to bind. Default `127.0.0.1` (loopback only). */
  host?: string | undefined
  /** Port; 0 (the default) picks a free one. */
  port?: number | undefined
  /** Closes the server when aborted. */
  signal?: AbortSignal | undefined
}

/** A running HTTP server. */
export interface Listening {
  /** Base URL without a trailing slash, e.g. `http://127.0.0.1:8545`. */
  readonly url: string
  readonly port: number
  close(): Promise<void>
}

/**
 * Serves a Hono app with `@hono/node-server`; resolves once it listens.
 *
 * @example
 * ```ts
 * const server = await listen(app, { port: 0 })
 * console.log(server.url)
 * await server.close()
 * ```
 */
export async function listen(app: Hono, options: ListenOptions = {}): Promise<Listening> {
  options.signal?.throwIfAborted()
  const host = options.host ?? '127.0.0.1'
  const port = options.port ?? 0
  const server = await new Promise<ReturnType<typeof serve>>((resolve, reject) => {
    const s = serve({ fetch: app.fetch, hostname: host, port }, () => resolve(s))
    s.once('error', (err: NodeJS.ErrnoException) =>
      reject(new AgoraError('CONFIG', `cannot listen on ${host}:${port}: ${err.code ?? err.message}`, { cause: err })),
    )
  })
  const bound = (server.address() as AddressInfo).port
  let closed: Promise<void> | undefined
  const close = () => {
    closed ??= new Promise<void>((resolve) => {
      server.close(() => resolve())
      ;(server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.()
    })
    return closed
  }
  options.signal?.addEventListener('abort', () => void close(), { once: true })
  const hostPart = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host
  return { url: `http://${hostPart}:${bound}`, port: bound, close }
}
