import type { AddressInfo } from 'node:net'
import type { Logger } from '@agora/core'
import { createLogger } from '@agora/core'
import { AgoraError } from '@agora/core/errors'
import type { EventRepository, IncomingMessage, NostrRelayPlugin } from '@nostr-relay/common'
import { createOutgoingNoticeMessage, EventUtils } from '@nostr-relay/common'
import { NostrRelay } from '@nostr-relay/core'
import { type WebSocket, WebSocketServer } from 'ws'
import { checkEvent, useFastSigning } from '../signing.ts'
import { MemoryEventRepository } from './memory-repository.ts'
import { SqliteEventRepository } from './sqlite-repository.ts'

export interface RelayOptions {
  /** Interface to listen on. Default `127.0.0.1`. */
  host?: string | undefined
  /** Port; `0` (the default) picks a free one. */
  port?: number | undefined
  /** SQLite file that keeps events across restarts; default in memory. */
  db?: string | undefined
  /** Largest WebSocket message accepted, in bytes (bigger ones close the connection). Default 1 MiB. */
  maxMessageBytes?: number | undefined
  /** `@nostr-relay` plugins (`beforeHandleEvent`, `broadcast`, …), e.g. to inject faults in tests. */
  plugins?: NostrRelayPlugin[] | undefined
  logger?: Logger | undefined
  /** Closes the relay when aborted. */
  signal?: AbortSignal | undefined
}

/** A running relay. */
export interface RelayHandle {
  /** `ws://<host>:<port>` */
  readonly url: string
  readonly host: string
  readonly port: number
  /** Whether events survive a restart (`db` given). */
  readonly persistent: boolean
  /** Number of connected clients. */
  readonly connections: number
  /** Cuts every client connection (the relay keeps running): simulates a network drop. */
  dropConnections(): void
  close(): Promise<void>
}

const DEFAULT_MAX_MESSAGE_BYTES = 1024 * 1024

/**
 * Starts a Nostr relay (NIP-01, NIP-09 deletions, NIP-40 expiration) on `@nostr-relay/core`: the
 * relay Agora embeds for `agora dev`, `agora relay` and tests. Events are kept in memory unless
 * `db` names a SQLite file. Signatures and ids are checked by the relay core; ephemeral kinds are
 * forwarded, never stored.
 *
 * @example
 * ```ts
 * const relay = await startRelay({ port: 0 })
 * console.log(relay.url) // ws://127.0.0.1:40123
 * await relay.close()
 * ```
 */
export async function startRelay(options: RelayOptions = {}): Promise<RelayHandle> {
  await fastSignatureChecks()
  const host = options.host ?? '127.0.0.1'
  const logger = options.logger ?? createLogger({ component: 'agora:relay' })
  const repository: EventRepository = options.db ? openSqlite(options.db) : new MemoryEventRepository()
  // No filter-result cache: a query right after a publish must see it (the default caches for 1 s).
  const relay = new NostrRelay(repository, { logger: relayLogger(logger), filterResultCacheTtl: 0 })
  for (const plugin of options.plugins ?? []) relay.register(plugin)

  const wss = new WebSocketServer({
    host,
    port: options.port ?? 0,
    maxPayload: options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES,
  })
  try {
    await new Promise<void>((resolve, reject) => {
      wss.once('listening', resolve)
      wss.once('error', reject)
    })
  } catch (err) {
    await repository.destroy().catch(() => {})
    const inUse = (err as { code?: unknown }).code === 'EADDRINUSE'
    throw new AgoraError(
      'CONFIG',
      inUse ? `cannot listen on ${host}:${options.port}: the port is taken` : `cannot start the relay: ${(err as Error).message}`,
      { cause: err },
    )
  }
  wss.on('error', (err) => logger.warn('relay server error', { error: err.message }))
  wss.on('connection', (ws: WebSocket, req) => {
    relay.handleConnection(ws, req.socket.remoteAddress)
    ws.on('message', (data) => onMessage(relay, ws, data.toString(), logger))
    ws.on('close', () => relay.handleDisconnect(ws))
    ws.on('error', (err) => logger.debug('relay client error', { error: err.message }))
  })

  const { port } = wss.address() as AddressInfo
  const url = `ws://${host.includes(':') ? `[${host}]` : host}:${port}`
  logger.debug('relay listening', { url, persistent: Boolean(options.db) })

  let closed: Promise<void> | undefined
  const close = (): Promise<void> => {
    closed ??= (async () => {
      for (const ws of wss.clients) ws.terminate()
      await new Promise<void>((resolve) => wss.close(() => resolve()))
      await relay.destroy()
    })()
    return closed
  }
  options.signal?.addEventListener('abort', () => void close(), { once: true })

  return {
    url,
    host,
    port,
    persistent: Boolean(options.db),
    get connections() {
      return wss.clients.size
    },
    dropConnections() {
      for (const ws of wss.clients) ws.terminate()
    },
    close,
  }
}

/** Parses one client message; anything that is not a Nostr message array gets a NOTICE, not a crash. */
function onMessage(relay: NostrRelay, ws: WebSocket, text: string, logger: Logger): void {
  let message: unknown
  try {
    message = JSON.parse(text)
  } catch {
    ws.send(JSON.stringify(createOutgoingNoticeMessage('invalid: message is not JSON')))
    return
  }
  if (!Array.isArray(message) || typeof message[0] !== 'string') {
    ws.send(JSON.stringify(createOutgoingNoticeMessage('invalid: message must be a JSON array starting with a type')))
    return
  }
  relay.handleMessage(ws, message as IncomingMessage).catch((err: Error) => {
    logger.debug('relay could not handle a message', { error: err.message })
    if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(createOutgoingNoticeMessage(`error: ${err.message}`)))
  })
}

/** `@nostr-relay` logs through this; its chatter goes to debug. */
function relayLogger(logger: Logger) {
  return {
    setLogLevel() {},
    debug: (message: string) => logger.debug(message),
    info: (message: string) => logger.debug(message),
    warn: (message: string) => logger.warn(message),
    error: (message: string, ...args: unknown[]) => logger.error(message, { detail: String(args[0] ?? '') }),
  }
}

let patched = false

/**
 * Makes `@nostr-relay`'s signature check use nostr-tools' WebAssembly verifier (same result, about
 * 7× faster than its pure-JS schnorr code, which dominated a relayed MCP call). The library has no
 * option for this, so its static `EventUtils.isSigValid` is replaced once per process; ids are
 * still checked by the relay itself as well.
 */
async function fastSignatureChecks(): Promise<void> {
  if (patched) return
  await useFastSigning()
  patched = true
  EventUtils.isSigValid = (event) => checkEvent(event as never)
}

/** The SQLite store, or a `CONFIG` error naming the file (a directory in the way, not a database, …). */
function openSqlite(path: string): EventRepository {
  try {
    return new SqliteEventRepository(path)
  } catch (err) {
    throw new AgoraError('CONFIG', `cannot open the relay database ${path}: ${(err as Error).message}`, { cause: err })
  }
}
