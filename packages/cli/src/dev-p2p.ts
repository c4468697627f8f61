import type { AgoraServer, DescriptorEndpoint } from '@agora/core'
import type { BootstrapInfo } from './bootstrap-service.ts'
import { bootstrapService, devBootstrapKey } from './bootstrap-service.ts'
import type { P2pServiceInfo } from './p2p-service.ts'
import { p2pService } from './p2p-service.ts'
import type { Service } from './services.ts'
import { onStarted } from './services.ts'

/** What `agora dev` reports about its libp2p side. */
export interface DevP2pInfo {
  /** The bootstrap node's address (`--bootstrap` for everything else). */
  readonly bootstrap: string
  /** Each example's libp2p identity, by server name. */
  readonly servers: ReadonlyMap<string, P2pServiceInfo['p2p']>
}

/**
 * The libp2p part of `agora dev`: a DHT bootstrap node with the well-known dev key (on `port`,
 * default 4001, or a free one for 0), then each example served over `/mcp/1.0.0` from its own node
 * that joins through it and announces the example (with `endpoints(name)` — its HTTP URL — in the
 * signed descriptor). Start `services` in order; read `info()` once they have started.
 *
 * @example
 * ```ts
 * const p2p = await devP2p([weather], { port: 0, endpoints: () => [] })
 * await startServices(p2p.services)
 * console.log(p2p.info().bootstrap)
 * ```
 */
export async function devP2p(
  defs: readonly AgoraServer[],
  options: { port: number; busyHint: string; endpoints: (name: string) => DescriptorEndpoint[] },
): Promise<{ services: Service<unknown>[]; info(): DevP2pInfo }> {
  let bootstrap: BootstrapInfo | undefined
  const servers = new Map<string, P2pServiceInfo['p2p']>()
  const boot = onStarted(
    bootstrapService(
      { listen: [`/ip4/127.0.0.1/tcp/${options.port}`], privateKey: await devBootstrapKey() },
      `is agora dev already running? ${options.busyHint}`,
    ),
    (info) => {
      bootstrap = info
    },
  )
  const examples = defs.map(
    (def): Service<P2pServiceInfo> => ({
      name: `${def.info.name} (libp2p)`,
      start() {
        // Built at start: the bootstrap address is known only once that node listens.
        const service = p2pService(def, {
          listen: ['/ip4/127.0.0.1/tcp/0'],
          bootstrap: bootstrap ? [bootstrap.bootstrap] : [],
          endpoints: () => options.endpoints(def.info.name),
        })
        return onStarted(service, (info) => servers.set(info.name, info.p2p)).start()
      },
    }),
  )
  return {
    services: [boot, ...examples] as Service<unknown>[],
    info: () => ({ bootstrap: bootstrap?.bootstrap ?? '', servers }),
  }
}
