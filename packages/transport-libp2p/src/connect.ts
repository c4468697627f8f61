import type { Logger } from '@agora/core'
import { AgoraError } from '@agora/core/errors'
import type { Connection, PeerId } from '@libp2p/interface'
import { isPeerId } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import type { Multiaddr } from '@multiformats/multiaddr'
import { isMultiaddr, multiaddr } from '@multiformats/multiaddr'
import type { AgoraNode } from './node.ts'
import { MCP_PROTOCOL } from './protocol.ts'
import { Libp2pStreamTransport } from './stream-transport.ts'

export interface ConnectLibp2pOptions {
  /** Protocol ids to offer, newest first; the first one the server supports is used. Default `['/mcp/1.0.0']`. */
  protocols?: string[] | undefined
  signal?: AbortSignal | undefined
  /** Largest message sent or accepted, in bytes. Default 16 MiB. */
  maxMessageBytes?: number | undefined
  /** How long `close()` waits for answers to in-flight requests and for the server (ms). Default 5000. */
  closeTimeoutMs?: number | undefined
  logger?: Logger | undefined
}

/**
 * Opens an MCP stream to a peer and returns the transport for an SDK `Client`. The peer is a
 * multiaddr ending in `/p2p/<PeerId>` (so Noise checks who answers), or a PeerId whose addresses
 * the node already knows (from the DHT, identify or an earlier dial). Protocol versions are offered
 * newest first (spec Appendix A); `transport.protocol` says which one was agreed.
 *
 * @example
 * ```ts
 * const client = new Client({ name: 'me', version: '1.0.0' })
 * await client.connect(await connectLibp2p(node, '/ip4/127.0.0.1/tcp/4001/p2p/12D3KooW…'))
 * console.log(await client.listTools())
 * ```
 */
export async function connectLibp2p(
  node: AgoraNode,
  peer: string | PeerId | Multiaddr,
  options: ConnectLibp2pOptions = {},
): Promise<Libp2pStreamTransport> {
  options.signal?.throwIfAborted()
  const target = dialTarget(peer)
  const protocols = options.protocols ?? [MCP_PROTOCOL]
  if (protocols.length === 0) throw new AgoraError('CONFIG', 'connectLibp2p: no protocol to offer')
  const signal = options.signal
  let connection: Connection
  try {
    connection = await node.dial(target, { signal })
  } catch (err) {
    throw new AgoraError('CONNECTION', `cannot reach ${String(peer)}: ${(err as Error).message}`, { cause: err })
  }
  // Noise checks the key on most transports; check again, so no transport can hand us another peer.
  const expected = expectedPeer(target)
  if (expected !== undefined && !connection.remotePeer.equals(expected)) {
    throw new AgoraError('CONNECTION', `expected peer ${expected} at ${String(peer)} but reached ${connection.remotePeer}`)
  }
  try {
    const stream = await connection.newStream(protocols, { signal })
    return new Libp2pStreamTransport(stream, connection, {
      role: 'client',
      maxMessageBytes: options.maxMessageBytes,
      closeTimeoutMs: options.closeTimeoutMs,
      logger: options.logger,
    })
  } catch (err) {
    const who = connection.remotePeer.toString()
    if ((err as Error).name === 'UnsupportedProtocolError') {
      throw new AgoraError('CONNECTION', `peer ${who} speaks none of the offered MCP versions (${protocols.join(', ')})`, {
        cause: err,
        data: { peer: who, protocols },
      })
    }
    throw new AgoraError('CONNECTION', `cannot open an MCP stream to ${who}: ${(err as Error).message}`, { cause: err })
  }
}

function dialTarget(peer: string | PeerId | Multiaddr): PeerId | Multiaddr {
  if (isPeerId(peer)) return peer
  if (isMultiaddr(peer)) return withPeerId(peer)
  if (typeof peer !== 'string' || peer.length === 0) throw new AgoraError('TARGET', 'connectLibp2p: the peer is empty')
  try {
    return peer.startsWith('/') ? withPeerId(multiaddr(peer)) : peerIdFromString(peer)
  } catch (err) {
    if (err instanceof AgoraError) throw err
    throw new AgoraError('TARGET', `not a PeerId or a multiaddr: ${peer} (${(err as Error).message})`, { cause: err })
  }
}

function expectedPeer(target: PeerId | Multiaddr): string | undefined {
  if (isPeerId(target)) return target.toString()
  return target.getComponents().findLast((c) => c.name === 'p2p')?.value
}

function withPeerId(addr: Multiaddr): Multiaddr {
  if (addr.getComponents().some((c) => c.name === 'p2p')) return addr
  throw new AgoraError('TARGET', `${addr.toString()} names no peer: add /p2p/<PeerId> so the peer's identity is checked`)
}
