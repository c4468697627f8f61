import { randomUUID } from 'node:crypto'
import type { AgoraNode, AgoraNodeOptions } from '../src/node.ts'
import { createAgoraNode } from '../src/node.ts'

/** Loopback test networks: many peers share 127.0.0.1, exempt it from the inbound rate limit. */
export const LOOPBACK_ALLOWED = { allow: ['/ip4/127.0.0.1/ipcidr/8'] }

/** A private DHT protocol per network, so parallel test files never mix. */
export const testDhtProtocol = () => `/agora-test-${randomUUID().slice(0, 8)}/kad/1.0.0`

/** The size of a node's DHT routing table. */
export const routingTableSize = (node: AgoraNode): number =>
  (node.services.dht as unknown as { routingTable: { size: number } }).routingTable.size

/**
 * Waits until every routing table holds `minPeers` peers. A node whose first self-query timed out
 * (a busy machine) would wait 5 minutes for the next one, so laggards get a refresh every 2 s.
 */
export async function fillRoutingTables(nodes: readonly AgoraNode[], minPeers: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs
  let nextNudge = Date.now() + 2000
  while (!nodes.every((n) => routingTableSize(n) >= minPeers)) {
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for routing tables: ${nodes.map(routingTableSize).join(',')}`)
    }
    if (Date.now() > nextNudge) {
      nextNudge = Date.now() + 2000
      for (const n of nodes) if (routingTableSize(n) < minPeers) n.services.dht.refreshRoutingTable().catch(() => {})
    }
    await new Promise((r) => setTimeout(r, 20))
  }
}

export interface TestNetwork {
  readonly nodes: AgoraNode[]
  readonly dhtProtocol: string
  /** The first node's first address, for bootstrapping more nodes. */
  readonly bootstrap: string
  /** Adds a node that bootstraps from the first one. */
  add(options?: AgoraNodeOptions): Promise<AgoraNode>
  stop(): Promise<void>
}

/**
 * Starts `size` loopback nodes in a private DHT: all on TCP 127.0.0.1 port 0, every fifth one on
 * an in-memory address too, each bootstrapped from the first; resolves once every routing table
 * holds at least `minPeers` peers.
 */
export async function startNetwork(size: number, options: { minPeers?: number; timeoutMs?: number } = {}): Promise<TestNetwork> {
  const dhtProtocol = testDhtProtocol()
  const nodes: AgoraNode[] = []
  // TCP everywhere (cheaper than the in-memory transport at this size); some nodes on /memory/ too.
  const listen = (i: number) => (i % 5 === 4 ? ['/ip4/127.0.0.1/tcp/0', `/memory/${randomUUID()}`] : ['/ip4/127.0.0.1/tcp/0'])
  try {
    nodes.push(await createAgoraNode({ listen: listen(0), dhtProtocol, connectionManager: LOOPBACK_ALLOWED }))
    const bootstrap = nodes[0]!.getMultiaddrs()[0]!.toString()
    const rest = await Promise.all(
      Array.from({ length: size - 1 }, (_, i) =>
        createAgoraNode({ listen: listen(i + 1), dhtProtocol, bootstrap: [bootstrap], connectionManager: LOOPBACK_ALLOWED }),
      ),
    )
    nodes.push(...rest)
    const minPeers = Math.min(options.minPeers ?? 3, size - 1)
    await fillRoutingTables(nodes, minPeers, options.timeoutMs ?? 30_000)
    return {
      nodes,
      dhtProtocol,
      bootstrap,
      async add(extra = {}) {
        const node = await createAgoraNode({
          listen: listen(nodes.length),
          dhtProtocol,
          bootstrap: [bootstrap],
          connectionManager: LOOPBACK_ALLOWED,
          ...extra,
        })
        nodes.push(node)
        return node
      },
      stop: () => stopAll(nodes),
    }
  } catch (err) {
    await stopAll(nodes)
    throw err
  }
}

async function stopAll(nodes: readonly AgoraNode[]): Promise<void> {
  await Promise.allSettled(nodes.map((n) => n.stop()))
}
