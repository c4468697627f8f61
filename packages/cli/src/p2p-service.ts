import type { AgoraServer, DescriptorEndpoint } from '@agora/core'
import { AgoraError, isAgoraError } from '@agora/core/errors'
import type { PrivateKey } from '@libp2p/interface'
import type { Service } from './services.ts'

/** Where and how a libp2p node joins the network (`--p2p`, `--bootstrap`, `--key-file`, `--dht-protocol`). */
export interface P2pOptions {
  /** Listen multiaddrs, e.g. `/ip4/127.0.0.1/tcp/0`. */
  readonly listen: readonly string[]
  /** DHT peers to join through. */
  readonly bootstrap?: readonly string[] | undefined
  /** Keeps the node key (so the PeerId) across restarts. */
  readonly keyFile?: string | undefined
  /** A private DHT protocol id, for networks kept apart from the default one. */
  readonly dhtProtocol?: string | undefined
}

/** What a server running on libp2p tells the banner and the `--json` ready line. */
export interface P2pServiceInfo {
  readonly name: string
  readonly version: string
  readonly p2p: { readonly peerId: string; readonly addrs: readonly string[] }
  readonly def: AgoraServer
}

/** Peers on the same host share one IP: exempt loopback from libp2p's 5-per-second inbound limit. */
export const LOOPBACK_CONNECTIONS = { allow: ['/ip4/127.0.0.1/ipcidr/8', '/ip6/::1/ipcidr/128'] }

/** Starts a libp2p node, translating a taken port into a one-line error with `busyHint`. */
export async function startP2pNode(
  options: P2pOptions & { dhtServer?: boolean | undefined; privateKey?: PrivateKey | undefined },
  busyHint: string,
) {
  // Loaded on demand: most verbs never touch libp2p.
  const { createAgoraNode } = await import('@agora/transport-libp2p')
  try {
    return await createAgoraNode({
      listen: [...options.listen],
      bootstrap: options.bootstrap ? [...options.bootstrap] : undefined,
      keyFile: options.keyFile,
      privateKey: options.privateKey,
      dhtProtocol: options.dhtProtocol,
      dhtServer: options.dhtServer,
      connectionManager: LOOPBACK_CONNECTIONS,
    })
  } catch (err) {
    if (isAgoraError(err)) throw err
    const message = (err as Error).message ?? String(err)
    const inUse = /EADDRINUSE/.test(message) || (err as { code?: unknown }).code === 'EADDRINUSE'
    throw new AgoraError(
      'CONFIG',
      inUse
        ? `cannot listen on ${options.listen.join(', ')}: the port is taken (${busyHint})`
        : `cannot start a libp2p node on ${options.listen.join(', ')}: ${message}`,
      { cause: err },
    )
  }
}

/**
 * A service serving a definition over MCP-over-libp2p (`/mcp/1.0.0`) and announcing it on the
 * DHT: by name, under `mcp-service:*` and by capability, with a signed descriptor. `endpoints` adds
 * other ways to reach the same server (e.g. its HTTP URL) to that descriptor.
 *
 * @example
 * ```ts
 * const group = await startServices([p2pService(weather, { listen: ['/ip4/127.0.0.1/tcp/0'] })])
 * console.log(group.started[0].info.p2p.addrs[0])
 * ```
 */
export function p2pService(
  def: AgoraServer,
  options: P2pOptions & { endpoints?: (() => DescriptorEndpoint[]) | undefined },
  busyHint = 'port 0 picks a free one',
): Service<P2pServiceInfo> {
  return {
    name: `${def.info.name} (libp2p)`,
    async start() {
      const { announceLibp2p, serveLibp2p } = await import('@agora/transport-libp2p')
      const node = await startP2pNode(options, busyHint)
      try {
        const served = await serveLibp2p(def, node)
        const announcement = await announceLibp2p(def, node, {
          endpoints: options.endpoints?.(),
          onError: () => {}, // a lone node has nobody to announce to yet; the next round tries again
        })
        return {
          info: { name: def.info.name, version: def.info.version, p2p: { peerId: served.peerId, addrs: served.addrs }, def },
          async stop() {
            await announcement.close()
            await served.close()
            await node.stop()
          },
        }
      } catch (err) {
        await Promise.resolve(node.stop()).catch(() => {})
        throw err
      }
    },
  }
}
