import { AgoraError } from '@agora/core/errors'
import { API_KEY_META } from './stdio.ts'
import type { P2pTarget, TargetScheme } from './types.ts'

/** `…/p2p/<PeerId>` at the end of a multiaddr (base58btc `12D3Koo…`/`Qm…`, or a base32 CID). */
const PEER_SUFFIX = /\/p2p\/([1-9A-HJ-NP-Za-km-z]{40,}|b[a-z2-7]{50,})$/

/**
 * MCP over libp2p targets: `p2p:<multiaddr>` where the multiaddr ends in `/p2p/<PeerId>`, e.g.
 * `p2p:/ip4/127.0.0.1/tcp/4001/p2p/12D3KooW…`. Opening one starts a private, ephemeral libp2p
 * node (no listening address, DHT client mode), dials the peer — Noise proves it is that PeerId —
 * and speaks `/mcp/1.0.0` on a stream; closing the client stops the node. The libp2p stack is
 * loaded on first use only. An API key travels as `_meta["agora/api-key"]`.
 *
 * @example
 * ```ts
 * const client = await connect('p2p:/ip4/127.0.0.1/tcp/4001/p2p/12D3KooW…')
 * console.log(await client.listTools())
 * await client.close()
 * ```
 */
export const p2pScheme: TargetScheme<'p2p'> = {
  kind: 'p2p',
  prefixes: ['p2p:'],
  usage: 'p2p:<multiaddr>/p2p/<PeerId>',
  parse(text): P2pTarget {
    const addr = text.slice('p2p:'.length).trim()
    const peer = PEER_SUFFIX.exec(addr)?.[1]
    if (!addr.startsWith('/') || !peer) {
      throw new AgoraError(
        'TARGET',
        `invalid p2p target ${JSON.stringify(text)}: expected p2p:<multiaddr>/p2p/<PeerId>, e.g. p2p:/ip4/127.0.0.1/tcp/4001/p2p/12D3KooW…`,
      )
    }
    return { kind: 'p2p', multiaddr: addr, peerId: peer }
  },
  format: (target) => `p2p:${target.multiaddr}`,
  async open(target, options) {
    const { connectLibp2p, createAgoraNode } = await import('@agora/transport-libp2p')
    const node = await createAgoraNode({ listen: [], dhtServer: false, signal: options.signal })
    try {
      const transport = await connectLibp2p(node, target.multiaddr, { signal: options.signal })
      return {
        transport,
        dispose: async () => {
          await node.stop()
        },
        meta: options.apiKey ? { [API_KEY_META]: options.apiKey } : undefined,
      }
    } catch (err) {
      await Promise.resolve(node.stop()).catch(() => {})
      throw err
    }
  },
}
