import type { AgoraServer, Logger } from '@agora/core'
import { createLogger, serveConnection } from '@agora/core'
import { AgoraError } from '@agora/core/errors'
import type { Connection, Stream } from '@libp2p/interface'
import type { Libp2pLimits } from './limits.ts'
import { PeerLimits } from './limits.ts'
import type { AgoraNode } from './node.ts'
import { MCP_PROTOCOL } from './protocol.ts'
import { Libp2pStreamTransport } from './stream-transport.ts'

export interface Libp2pServeOptions extends Libp2pLimits {
  /** Protocol ids to serve, newest first (spec Appendix A). Default `['/mcp/1.0.0']`. */
  protocols?: string[] | undefined
  /** How long closing waits for in-flight requests and for the peer, per stream (ms). Default 5000. */
  closeTimeoutMs?: number | undefined
  /** Key (at least 32 bytes) that signs multi round-trip `requestState`; default: random per process. */
  requestStateKey?: string | Uint8Array | undefined
  logger?: Logger | undefined
}

/** A server answering MCP streams on a libp2p node. */
export interface Libp2pServerHandle {
  /** The protocol ids handled, newest first. */
  readonly protocols: string[]
  /** The node's PeerId, which clients dial. */
  readonly peerId: string
  /** The node's addresses, each ending in `/p2p/<PeerId>`. */
  readonly addrs: string[]
  /** Stops accepting streams and closes the live ones gracefully (in-flight requests are answered). */
  close(): Promise<void>
}

const REFUSALS = {
  blocked: ['FORBIDDEN', 'peer is blocked'],
  'not-allowed': ['FORBIDDEN', 'peer is not in the allowlist'],
  'too-many-streams': ['RATE_LIMITED', 'too many streams from this peer'],
  closing: ['CONNECTION', 'server is closing'],
} as const

/**
 * Serves a definition over MCP-over-libp2p on `node`: every inbound stream on one of `protocols`
 * gets its own SDK server, with the caller identified as `peer:<PeerId>` (authenticated by Noise),
 * and the limits of spec §6.3 per peer: streams, message size, request rate, idle time, allow and
 * block lists.
 *
 * @example
 * ```ts
 * const node = await createAgoraNode({ listen: ['/ip4/127.0.0.1/tcp/4001'] })
 * const p2p = await serveLibp2p(server, node, { maxStreamsPerPeer: 8, requestsPerSecond: 20 })
 * console.log(p2p.addrs) // ['/ip4/127.0.0.1/tcp/4001/p2p/12D3KooW…']
 * ```
 */
export async function serveLibp2p(
  server: AgoraServer,
  node: AgoraNode,
  options: Libp2pServeOptions = {},
): Promise<Libp2pServerHandle> {
  const protocols = [...(options.protocols ?? [MCP_PROTOCOL])]
  if (protocols.length === 0 || protocols.some((p) => !p.startsWith('/'))) {
    throw new AgoraError('CONFIG', `libp2p protocols must be non-empty ids starting with "/", got ${JSON.stringify(protocols)}`)
  }
  const limits = new PeerLimits(options)
  const logger = options.logger ?? createLogger({ component: `agora:${server.info.name}:libp2p` })
  const sdkOptions = { transport: 'libp2p', logger, requestStateKey: options.requestStateKey }
  const live = new Set<Libp2pStreamTransport>()
  let closing = false

  const onStream = (stream: Stream, connection: Connection): void => {
    const peer = connection.remotePeer.toString()
    const refusal = closing ? 'closing' : limits.admit(peer)
    if (refusal !== undefined) {
      const [code, why] = REFUSALS[refusal]
      logger.warn('refused a libp2p stream', { peer, protocol: stream.protocol, reason: why })
      stream.abort(new AgoraError(code, `stream refused: ${why}`))
      return
    }
    const transport = new Libp2pStreamTransport(stream, connection, {
      role: 'server',
      maxMessageBytes: limits.maxMessageBytes,
      inactivityTimeoutMs: limits.inactivityTimeoutMs,
      closeTimeoutMs: options.closeTimeoutMs,
      screen: limits.screenFor(peer),
      logger,
    })
    live.add(transport)
    // serveConnection keeps calling these.
    transport.onclose = () => {
      live.delete(transport)
      limits.release(peer)
    }
    transport.onerror = (err) => logger.debug('libp2p stream error', { peer, error: err.message })
    // Both eras: the opening message pins a 2026-07-28 or a 2025 server for the stream.
    serveConnection(server, transport, sdkOptions)
  }

  try {
    // Above our own per-peer cap, so that refusals are ours (and logged); libp2p counts per connection.
    await node.handle(protocols, onStream, { maxInboundStreams: limits.maxStreamsPerPeer + 1 })
  } catch (err) {
    throw new AgoraError('CONFIG', `cannot serve ${protocols.join(', ')} on this node: ${(err as Error).message}`, { cause: err })
  }
  const peerId = node.peerId.toString()
  logger.debug('serving MCP over libp2p', { peerId, protocols })

  let closed: Promise<void> | undefined
  return {
    protocols,
    peerId,
    addrs: node.getMultiaddrs().map(String),
    close() {
      closed ??= (async () => {
        closing = true
        await node.unhandle(protocols).catch(() => {})
        await Promise.all([...live].map((t) => t.close().catch(() => {})))
      })()
      return closed
    },
  }
}
