import { AgoraError } from '@agora/core/errors'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { identify } from '@libp2p/identify'
import type { Libp2p, PrivateKey } from '@libp2p/interface'
import type { KadDHT } from '@libp2p/kad-dht'
import { kadDHT, passthroughMapper } from '@libp2p/kad-dht'
import { mdns } from '@libp2p/mdns'
import { memory } from '@libp2p/memory'
import type { Ping } from '@libp2p/ping'
import { ping } from '@libp2p/ping'
import { tcp } from '@libp2p/tcp'
import { webSockets } from '@libp2p/websockets'
import { multiaddr } from '@multiformats/multiaddr'
import type { ConnectionManagerInit } from 'libp2p'
import { createLibp2p } from 'libp2p'
import { loadOrCreateKey } from './keys.ts'

/** The private DHT protocol Agora nodes speak by default (kept apart from the public IPFS DHT). */
export const DEFAULT_DHT_PROTOCOL = '/agora/kad/1.0.0'

export interface AgoraNodeOptions {
  /** Listen multiaddrs. Default `/ip4/127.0.0.1/tcp/0`. Add `/ws` addresses for WebSockets, `/memory/<name>` for tests. */
  listen?: string[] | undefined
  /** Peers to dial at start and keep in the routing table. */
  bootstrap?: string[] | undefined
  /** The node key; see `keyFile` to persist one. */
  privateKey?: PrivateKey | undefined
  /** Loads (or creates, mode 0600) the node key here, so the PeerId is stable across restarts. */
  keyFile?: string | undefined
  /** Kademlia protocol id. Default {@link DEFAULT_DHT_PROTOCOL}. */
  dhtProtocol?: string | undefined
  /** Serve DHT queries (true, default) or only ask them. */
  dhtServer?: boolean | undefined
  /** Local-network discovery by multicast. Off by default: it sends on every interface. */
  mdns?: boolean | undefined
  /**
   * libp2p connection-manager settings. Note its default `inboundConnectionThreshold` (5 inbound
   * connections per second per IP): many nodes on one host (tests, a dev network) need
   * `allow: ['/ip4/127.0.0.1/ipcidr/8']` or a higher threshold.
   */
  connectionManager?: ConnectionManagerInit | undefined
  /** Identify agent string. */
  userAgent?: string | undefined
  signal?: AbortSignal | undefined
}

export type AgoraNode = Libp2p<{ identify: unknown; ping: Ping; dht: KadDHT }>

/** The key of each node this factory made (libp2p does not expose it), for signing descriptors. */
const nodeKeys = new WeakMap<object, PrivateKey>()

/**
 * The private key of a node made by {@link createAgoraNode}, or `undefined` for other nodes.
 * Used to sign what the node publishes (its server descriptors).
 *
 * @example
 * ```ts
 * const node = await createAgoraNode()
 * const signature = await nodePrivateKey(node)!.sign(new TextEncoder().encode('hello'))
 * ```
 */
export function nodePrivateKey(node: object): PrivateKey | undefined {
  return nodeKeys.get(node)
}

/**
 * Creates and starts a libp2p node with Agora's recommended stack (spec §7.1): TCP (+ WebSockets,
 * + in-memory for tests) with Noise and Yamux, identify, ping and a private Kademlia DHT whose
 * routing keeps loopback and private addresses (so local networks and tests work).
 *
 * @example
 * ```ts
 * const node = await createAgoraNode({ listen: ['/ip4/127.0.0.1/tcp/0'] })
 * console.log(node.peerId.toString(), node.getMultiaddrs().map(String))
 * await node.stop()
 * ```
 */
export async function createAgoraNode(options: AgoraNodeOptions = {}): Promise<AgoraNode> {
  options.signal?.throwIfAborted()
  const listen = options.listen ?? ['/ip4/127.0.0.1/tcp/0']
  const privateKey =
    options.privateKey ?? (options.keyFile ? await loadOrCreateKey(options.keyFile) : await generateKeyPair('Ed25519'))
  const node = await createLibp2p({
    privateKey,
    addresses: { listen },
    ...(options.connectionManager ? { connectionManager: options.connectionManager } : {}),
    transports: [tcp(), webSockets(), memory()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    ...(options.mdns ? { peerDiscovery: [mdns()] } : {}),
    nodeInfo: { userAgent: options.userAgent ?? 'agora' },
    services: {
      identify: identify(),
      ping: ping(),
      dht: kadDHT({
        protocol: options.dhtProtocol ?? DEFAULT_DHT_PROTOCOL,
        clientMode: options.dhtServer === false,
        peerInfoMapper: passthroughMapper,
      }),
    },
  })
  nodeKeys.set(node, privateKey)
  if (options.mdns) {
    // libp2p v3 does not dial peers that discovery finds: do it, so the DHT learns them.
    node.addEventListener('peer:discovery', (evt) => {
      node.dial(evt.detail.multiaddrs).catch(() => {})
    })
  }
  for (const addr of options.bootstrap ?? []) {
    try {
      await node.dial(multiaddr(addr), { signal: options.signal ?? AbortSignal.timeout(10_000) })
    } catch (err) {
      await Promise.resolve(node.stop()).catch(() => {}) // do not leak a started node
      throw new AgoraError('CONNECTION', `cannot reach bootstrap peer ${addr}: ${(err as Error).message}`, {
        cause: err,
        data: { bootstrap: addr },
      })
    }
  }
  return node as unknown as AgoraNode
}
