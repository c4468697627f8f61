import { createHash } from 'node:crypto'
import type { PrivateKey } from '@libp2p/interface'
import type { P2pOptions } from './p2p-service.ts'
import { startP2pNode } from './p2p-service.ts'
import type { Service } from './services.ts'

/** What a running DHT bootstrap node tells the banner and the `--json` ready line. */
export interface BootstrapInfo {
  readonly peerId: string
  /** The address others pass as `--bootstrap` (ends in `/p2p/<PeerId>`). */
  readonly bootstrap: string
  readonly addrs: readonly string[]
}

/**
 * The fixed key of the `agora dev` bootstrap node, derived from a public seed: its PeerId (and so
 * `/ip4/127.0.0.1/tcp/4001/p2p/<PeerId>`) is the same on every machine and every run, which lets
 * `agora discover --p2p` find the dev network without flags. Anyone can derive it: dev only.
 */
export async function devBootstrapKey(): Promise<PrivateKey> {
  const { generateKeyPairFromSeed } = await import('@libp2p/crypto/keys')
  return generateKeyPairFromSeed('Ed25519', createHash('sha256').update('agora dev bootstrap node v1').digest())
}

/** The multiaddr of the `agora dev` bootstrap node on `port` (default 4001). */
export async function devBootstrapAddr(port = 4001): Promise<string> {
  const { peerIdFromPrivateKey } = await import('@libp2p/peer-id')
  return `/ip4/127.0.0.1/tcp/${port}/p2p/${peerIdFromPrivateKey(await devBootstrapKey()).toString()}`
}

/**
 * A DHT bootstrap node: a plain Kademlia server that others join through. It serves no MCP.
 *
 * @example
 * ```ts
 * const group = await startServices([bootstrapService({ listen: ['/ip4/127.0.0.1/tcp/4001'] })])
 * console.log(group.started[0].info.bootstrap) // /ip4/127.0.0.1/tcp/4001/p2p/12D3KooW…
 * ```
 */
export function bootstrapService(
  options: P2pOptions & { privateKey?: PrivateKey | undefined },
  busyHint = 'port 0 picks a free one',
): Service<BootstrapInfo> {
  return {
    name: 'dht-bootstrap',
    async start() {
      const node = await startP2pNode(options, busyHint)
      const addrs = node.getMultiaddrs().map(String)
      return {
        info: { peerId: node.peerId.toString(), bootstrap: addrs[0] ?? '', addrs },
        stop: async () => {
          await node.stop()
        },
      }
    },
  }
}
