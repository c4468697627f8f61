/**
 * `node bench/libp2p-dht.ts`: DHT discovery latency on a 20-node loopback network (TCP, private
 * Kademlia, the `createAgoraNode` stack). One node announces a server (`announceLibp2p`); the
 * others look it up again and again, round-robin, and the latencies are reported as p50/p99:
 *
 * - `p50Ms` / `p99Ms` — **headline**: `findProviders(serviceKey(name))` until the provider is
 *   yielded, asked from the 19 other DHT nodes in turn. Target: p50 ≤ 100 ms. With k = 20 ≥ the
 *   network size every member stores the provider record, so this is mostly the local answer a
 *   member of a small network gets.
 * - `clientP50Ms` / `clientP99Ms` — the same from client-mode nodes that hold no records (as
 *   `agora discover` runs), so every lookup crosses the network. kad-dht asks up to `alpha` = 10
 *   peers at once, and here all of them answer on this one process's event loop, so these numbers
 *   measure the simulation's CPU as much as the protocol (on a busy 2-CPU machine, 150-300 ms).
 * - `fullQueryP50Ms` / `fullQueryP99Ms` — the whole `findProviders` walk from a client node until the
 *   query ends (what `discoverLibp2p` waits for when no `limit` is set).
 * - `discoverP50Ms` / `discoverP99Ms` — `discoverLibp2p(node, { service, limit: 1 })` from a client
 *   node: first provider, plus fetching and verifying its signed descriptor.
 *
 * `runDhtBench()` is also imported by `bench/libp2p.ts`. Flags when run alone: `--json`,
 * `--queries=<n>` (lookups per measure, default 60). Loopback only; everything is stopped at the end.
 */
import { randomUUID } from 'node:crypto'
import { availableParallelism, loadavg } from 'node:os'
import { createServer } from '@agora/core'
import type { AgoraNode } from '@agora/transport-libp2p'
import { announceLibp2p, createAgoraNode, discoverLibp2p, serviceKey } from '@agora/transport-libp2p'

export interface DhtBenchOptions {
  /** DHT member nodes, the provider included. Default 20. */
  nodes?: number | undefined
  /** Client-mode nodes the headline lookups come from. Default 4. */
  clients?: number | undefined
  /** Lookups per measure. Default 60. */
  queries?: number | undefined
  /** Progress lines (to stderr). */
  log?: ((line: string) => void) | undefined
}

export interface DhtBenchResult {
  /** Provider lookup from the other DHT nodes: median, ms. */
  p50Ms: number
  /** Provider lookup from the other DHT nodes: 99th percentile, ms. */
  p99Ms: number
  /** DHT member nodes in the network. */
  nodes: number
  clients: number
  queries: number
  clientP50Ms: number
  clientP99Ms: number
  fullQueryP50Ms: number
  fullQueryP99Ms: number
  discoverP50Ms: number
  discoverP99Ms: number
  /** Lookups that failed (not found within 30 s); excluded from the percentiles. */
  failures: number
  /** Time to start the network and announce, ms. */
  setupMs: number
}

const LOOPBACK = { allow: ['/ip4/127.0.0.1/ipcidr/8'] } // many peers share 127.0.0.1: lift the per-IP inbound limit

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN
  const at = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))
  return Math.round(sorted[at]! * 100) / 100
}

const summary = (samples: number[]) => {
  const sorted = [...samples].sort((a, b) => a - b)
  return { p50: percentile(sorted, 50), p99: percentile(sorted, 99) }
}

const routingTableSize = (node: AgoraNode) =>
  (node.services.dht as unknown as { routingTable: { size: number } }).routingTable.size

/** Waits until every routing table holds `minPeers`, refreshing laggards (a timed-out first self-query waits 5 min). */
async function fillRoutingTables(nodes: readonly AgoraNode[], minPeers: number, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs
  let nextNudge = Date.now() + 2000
  while (!nodes.every((n) => routingTableSize(n) >= minPeers)) {
    if (Date.now() > deadline) throw new Error(`routing tables still small after ${timeoutMs} ms: ${nodes.map(routingTableSize)}`)
    if (Date.now() > nextNudge) {
      nextNudge = Date.now() + 2000
      for (const n of nodes) if (routingTableSize(n) < minPeers) n.services.dht.refreshRoutingTable().catch(() => {})
    }
    await new Promise((r) => setTimeout(r, 25))
  }
}

/** Time until `findProviders` yields `provider` (or, with `full`, until the query ends). */
async function lookup(node: AgoraNode, key: ReturnType<typeof serviceKey>, provider: string, full: boolean): Promise<number> {
  const started = performance.now()
  let foundAt: number | undefined
  for await (const p of node.contentRouting.findProviders(key, { signal: AbortSignal.timeout(30_000) })) {
    if (p.id.toString() === provider && foundAt === undefined) {
      foundAt = performance.now() - started
      if (!full) break
    }
  }
  if (foundAt === undefined) throw new Error(`${node.peerId} did not find the provider`)
  return full ? performance.now() - started : foundAt
}

/**
 * Runs the DHT benchmark and resolves with latencies in milliseconds.
 *
 * @example
 * ```ts
 * const { p50Ms, p99Ms, nodes } = await runDhtBench()
 * console.log(`${nodes} nodes: p50 ${p50Ms} ms, p99 ${p99Ms} ms`)
 * ```
 */
export async function runDhtBench(options: DhtBenchOptions = {}): Promise<DhtBenchResult> {
  const size = options.nodes ?? 20
  const clientCount = options.clients ?? 4
  const queries = options.queries ?? 60
  const log = options.log ?? (() => {})
  const dhtProtocol = `/agora-bench-${randomUUID().slice(0, 8)}/kad/1.0.0`
  const all: AgoraNode[] = []
  const setupStarted = performance.now()
  try {
    const first = await createAgoraNode({ dhtProtocol, connectionManager: LOOPBACK })
    all.push(first)
    const bootstrap = [first.getMultiaddrs()[0]!.toString()]
    const members = [
      first,
      ...(await Promise.all(
        Array.from({ length: size - 1 }, () => createAgoraNode({ dhtProtocol, bootstrap, connectionManager: LOOPBACK })),
      )),
    ]
    all.push(...members.slice(1))
    await fillRoutingTables(members, Math.min(3, size - 1), 60_000)
    const clients = await Promise.all(
      Array.from({ length: clientCount }, () =>
        createAgoraNode({ listen: [], dhtServer: false, dhtProtocol, bootstrap, connectionManager: LOOPBACK }),
      ),
    )
    all.push(...clients)
    await fillRoutingTables(clients, 1, 30_000)

    const providerNode = members[Math.floor(size / 2)]!
    const provider = providerNode.peerId.toString()
    const server = createServer({ name: 'bench-weather', version: '1.0.0' }).tool('ping', {}, () => 'pong')
    const announcement = await announceLibp2p(server, providerNode)
    const round = await announcement.provided
    if (round.failed.length > 0) throw new Error(`announcing failed: ${String(round.failed[0]?.error)}`)
    const setupMs = Math.round(performance.now() - setupStarted)
    log(`network of ${size} nodes + ${clientCount} clients up and announced in ${setupMs} ms`)

    const key = serviceKey('bench-weather')
    const askers = members.filter((n) => n !== providerNode)
    let failures = 0
    const measure = async (from: readonly AgoraNode[], n: number, run: (node: AgoraNode) => Promise<number>) => {
      for (let i = 0; i < Math.min(5, n); i++) await run(from[i % from.length]!).catch(() => {}) // warm-up
      const samples: number[] = []
      for (let i = 0; i < n; i++) {
        try {
          samples.push(await run(from[i % from.length]!))
        } catch (err) {
          failures++
          log(`lookup failed: ${(err as Error).message}`)
        }
      }
      return summary(samples)
    }
    const member = await measure(askers, queries, (node) => lookup(node, key, provider, false))
    log(`member lookups: p50 ${member.p50} ms, p99 ${member.p99} ms`)
    const remote = await measure(clients, queries, (node) => lookup(node, key, provider, false))
    log(`client lookups: p50 ${remote.p50} ms, p99 ${remote.p99} ms`)
    const fullRuns = Math.max(5, Math.round(queries / 3))
    const full = await measure(clients, fullRuns, (node) => lookup(node, key, provider, true))
    log(`full queries:   p50 ${full.p50} ms, p99 ${full.p99} ms`)
    const discover = await measure(clients, fullRuns, async (node) => {
      const started = performance.now()
      const [found] = await discoverLibp2p(node, { service: 'bench-weather', limit: 1 })
      if (found?.peerId !== provider) throw new Error('discoverLibp2p did not find the provider')
      return performance.now() - started
    })
    log(`discover:       p50 ${discover.p50} ms, p99 ${discover.p99} ms`)
    await announcement.close()
    return {
      p50Ms: member.p50,
      p99Ms: member.p99,
      nodes: size,
      clients: clientCount,
      queries,
      clientP50Ms: remote.p50,
      clientP99Ms: remote.p99,
      fullQueryP50Ms: full.p50,
      fullQueryP99Ms: full.p99,
      discoverP50Ms: discover.p50,
      discoverP99Ms: discover.p99,
      failures,
      setupMs,
    }
  } finally {
    await Promise.allSettled(all.map((n) => n.stop()))
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const argv = process.argv.slice(2)
  const json = argv.includes('--json')
  const queriesFlag = argv.find((a) => a.startsWith('--queries='))
  const queries = queriesFlag ? Number(queriesFlag.split('=')[1]) || undefined : undefined
  const result = await runDhtBench({ queries, log: (line) => process.stderr.write(`${line}\n`) })
  const verdict = result.p50Ms <= 100 ? 'PASS' : 'FAIL'
  if (json) process.stdout.write(`${JSON.stringify({ ...result, target: { p50Ms: 100 }, verdict })}\n`)
  else {
    process.stdout.write(
      [
        `DHT lookup on ${result.nodes} loopback nodes (${availableParallelism()} CPUs, load ${loadavg()[0]?.toFixed(2)}):`,
        `  provider lookup from DHT members   p50 ${result.p50Ms} ms  p99 ${result.p99Ms} ms  (target p50 ≤ 100 ms: ${verdict})`,
        `  provider lookup from client nodes  p50 ${result.clientP50Ms} ms  p99 ${result.clientP99Ms} ms`,
        `  full findProviders query           p50 ${result.fullQueryP50Ms} ms  p99 ${result.fullQueryP99Ms} ms`,
        `  discoverLibp2p (limit 1)           p50 ${result.discoverP50Ms} ms  p99 ${result.discoverP99Ms} ms`,
        `  setup ${result.setupMs} ms, ${result.failures} failed lookups`,
        '',
      ].join('\n'),
    )
  }
}
