import type { JSONRPCMessage, MessageExtraInfo, Server, Transport, TransportSendOptions } from '@modelcontextprotocol/server'
import { serveStdio } from '@modelcontextprotocol/server/stdio'
import type { AgoraServer } from '../definition/server.ts'
import type { SdkServerOptions } from './sdk-server.ts'
import { sdkServerFactory } from './sdk-server.ts'

export interface ServeConnectionOptions extends SdkServerOptions {
  /** How 2025-era clients are handled: served (default) or refused with the supported revisions. */
  legacy?: 'serve' | 'reject' | undefined
}

/** A connection served by {@link serveConnection}. */
export interface ConnectionHandle {
  /** Closes the pinned SDK server and the transport. */
  close(): Promise<void>
}

/**
 * Serves a definition on one message connection (a libp2p stream, a Nostr session, a socket) to
 * 2026-07-28 and 2025-era clients alike: the opening message picks the era (a `server/discover`
 * or an enveloped request, or `initialize`), and one SDK server is pinned for the connection.
 * The era decision is the SDK's stdio entry (`serveStdio` with the transport brought along); what
 * this adds is the per-message `MessageExtraInfo` (the caller identity a transport vouches for,
 * its payment channel), which that entry does not pass on.
 *
 * `transport`'s `onclose` and `onerror`, when set before this call, keep being called.
 *
 * @example
 * ```ts
 * await node.handle('/mcp/1.0.0', (stream, connection) => {
 *   serveConnection(server, new Libp2pStreamTransport(stream, connection), { transport: 'libp2p' })
 * })
 * ```
 */
export function serveConnection(def: AgoraServer, transport: Transport, options: ServeConnectionOptions = {}): ConnectionHandle {
  const wire = new ExtraKeepingTransport(transport)
  const factory = sdkServerFactory(def, options)
  return serveStdio((ctx) => wire.attach(factory(ctx) as Server), {
    transport: wire,
    legacy: options.legacy ?? 'serve',
    onerror: (err) => options.logger?.debug('MCP connection error', { error: err.message }),
  })
}

/**
 * Passes a transport through unchanged, remembering the `MessageExtraInfo` each inbound message
 * came with, and hands it back to the SDK server that message reaches (the messages are the same
 * objects on the way). Written here because the SDK's era entry forwards messages without it.
 */
class ExtraKeepingTransport implements Transport {
  onclose?: (() => void) | undefined
  onerror?: ((error: Error) => void) | undefined
  onmessage?: (<T extends JSONRPCMessage>(message: T, extra?: MessageExtraInfo) => void) | undefined
  readonly #inner: Transport
  readonly #extras = new WeakMap<object, MessageExtraInfo>()

  constructor(inner: Transport) {
    this.#inner = inner
  }

  get sessionId(): string | undefined {
    return this.#inner.sessionId
  }

  setProtocolVersion(version: string): void {
    this.#inner.setProtocolVersion?.(version)
  }

  async start(): Promise<void> {
    const inner = this.#inner
    const [onclose, onerror] = [inner.onclose, inner.onerror]
    inner.onclose = () => {
      onclose?.()
      this.onclose?.()
    }
    inner.onerror = (err) => {
      onerror?.(err)
      this.onerror?.(err)
    }
    inner.onmessage = (message, extra) => {
      if (extra) this.#extras.set(message, extra)
      this.onmessage?.(message, extra)
    }
    await inner.start()
  }

  send(message: JSONRPCMessage, options?: TransportSendOptions): Promise<void> {
    return this.#inner.send(message, options)
  }

  close(): Promise<void> {
    return this.#inner.close()
  }

  /** Makes `sdk`, once connected (to the entry's channel), see each message's extra again. */
  attach(sdk: Server): Server {
    const connect = sdk.connect.bind(sdk)
    sdk.connect = async (channel: Transport) => {
      await connect(channel)
      const deliver = channel.onmessage
      channel.onmessage = (message, extra) => {
        const kept = this.#extras.get(message)
        deliver?.(message, kept ? { ...extra, ...kept } : extra)
      }
    }
    return sdk
  }
}
