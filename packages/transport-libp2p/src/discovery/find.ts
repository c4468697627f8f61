import type { ServerDescriptor } from '@agora/core'
import { AgoraError } from '@agora/core/errors'
import type { PeerId } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'
import type { AgoraNode } from '../node.ts'
import { DEFAULT_DESCRIPTOR_TIMEOUT_MS, fetchDescriptors } from './descriptor-protocol.ts'
import type { DiscoveryCapability } from './keys.ts'
import { ALL_SERVICES_KEY, capabilityKey, serviceKey } from './keys.ts'

/** Default bound on a whole discovery (DHT search and descriptor fetches): 10 s. */
export const DEFAULT_DISCOVERY_TIMEOUT_MS = 10_000

export interface DiscoverLibp2pOptions {
  /** Find servers with this name (key `mcp-service:<name>`). */
  service?: string | undefined
  /** Find servers with this capability (key `mcp-capability:<cap>`, or a filter when `service` is set). */
  capability?: DiscoveryCapability | undefined
  signal?: AbortSignal | undefined
  /** Bound on the whole discovery; what was found by then is returned. Default {@link DEFAULT_DISCOVERY_TIMEOUT_MS}. */
  timeoutMs?: number | undefined
  /** Stop after this many servers. */
  limit?: number | undefined
  /** Bound on each descriptor fetch. Default 10 s (and never past `timeoutMs`). */
  fetchTimeoutMs?: number | undefined
  /** Bound on each descriptor answer, in bytes. Default 1 MiB. */
  maxDescriptorBytes?: number | undefined
  /** Descriptor fetches in parallel. Default 8. */
  concurrency?: number | undefined
  /**
   * Called for each provider skipped: unreachable (gone), or whose answer failed verification. The
   * error is an `AgoraError` with `data.reason` and `data.peerId`.
   */
  onError?: ((err: AgoraError, peerId: string) => void) | undefined
}

/** A server found on the DHT, with its verified descriptor. */
export interface DiscoveredServer {
  /** The provider's PeerId (the descriptor's signer). */
  readonly peerId: string
  /** Where to reach it, each ending in `/p2p/<PeerId>`: usable as `p2p:<addr>` targets. */
  readonly addrs: readonly string[]
  /** Signed by `peerId` and schema-checked. */
  readonly descriptor: ServerDescriptor
}

function withPeer(addr: string, peerId: string): string {
  return addr.includes('/p2p/') ? addr : `${addr}/p2p/${peerId}`
}

function matches(d: ServerDescriptor, options: DiscoverLibp2pOptions): boolean {
  if (options.service !== undefined && d.name !== options.service) return false
  if (options.capability !== undefined && !d.capabilities[options.capability]) return false
  return true
}

/**
 * Finds servers on the DHT and yields each as soon as its descriptor is fetched and verified
 * (see {@link discoverLibp2p} for the whole list). Providers are asked once each (deduplicated by
 * PeerId); those that are gone or answer with anything unverifiable are skipped and reported to
 * `onError`. A peer serving several matching servers yields one result per server.
 *
 * @example
 * ```ts
 * for await (const found of findLibp2pServers(node, { capability: 'tools', timeoutMs: 5_000 })) {
 *   console.log(found.descriptor.name, found.addrs[0])
 * }
 * ```
 */
export async function* findLibp2pServers(
  node: AgoraNode,
  options: DiscoverLibp2pOptions = {},
): AsyncGenerator<DiscoveredServer, void, undefined> {
  if (options.signal?.aborted) throw new AgoraError('CANCELLED', 'discovery cancelled before it started')
  const key =
    options.service !== undefined
      ? serviceKey(options.service)
      : options.capability !== undefined
        ? capabilityKey(options.capability)
        : ALL_SERVICES_KEY
  const limit = options.limit ?? Number.POSITIVE_INFINITY
  const concurrency = Math.max(1, options.concurrency ?? 8)
  const stop = new AbortController()
  const signals = [stop.signal, AbortSignal.timeout(options.timeoutMs ?? DEFAULT_DISCOVERY_TIMEOUT_MS)]
  if (options.signal) signals.push(options.signal)
  const signal = AbortSignal.any(signals)

  const found: DiscoveredServer[] = []
  let searching = true
  let inflight = 0
  let searchError: unknown
  let wake: (() => void) | undefined
  const notify = () => {
    const w = wake
    wake = undefined
    w?.()
  }
  const until = () => new Promise<void>((resolve) => (wake = resolve))

  const fetchOne = async (peerId: PeerId, multiaddrs: readonly Multiaddr[]) => {
    const id = peerId.toString()
    try {
      const descriptors = await fetchDescriptors(node, peerId, {
        addrs: multiaddrs,
        signal,
        timeoutMs: options.fetchTimeoutMs ?? DEFAULT_DESCRIPTOR_TIMEOUT_MS,
        maxBytes: options.maxDescriptorBytes,
      })
      for (const descriptor of descriptors.filter((d) => matches(d, options))) {
        const declared = descriptor.endpoints.filter((e) => e.transport === 'libp2p').flatMap((e) => e.addrs ?? [])
        const addrs = [...new Set([...multiaddrs.map(String), ...declared].map((a) => withPeer(a, id)))]
        found.push({ peerId: id, addrs, descriptor })
      }
    } catch (err) {
      // Once the search is over (limit, timeout, abort), unfinished fetches are not failures.
      if (!signal.aborted) {
        const error = err instanceof AgoraError ? err : new AgoraError('CONNECTION', String(err), { cause: err })
        options.onError?.(error, id)
      }
    } finally {
      inflight--
      notify()
    }
  }

  const search = (async () => {
    const seen = new Set<string>([node.peerId.toString()])
    try {
      for await (const provider of node.contentRouting.findProviders(key, { signal })) {
        const id = provider.id.toString()
        if (seen.has(id)) continue
        seen.add(id)
        while (inflight >= concurrency && !signal.aborted) await until()
        if (signal.aborted) break
        inflight++
        void fetchOne(provider.id, provider.multiaddrs)
      }
    } catch (err) {
      if (!signal.aborted) searchError = err
    } finally {
      searching = false
      notify()
    }
  })()

  let yielded = 0
  try {
    while (yielded < limit) {
      const next = found.shift()
      if (next) {
        yielded++
        yield next
        continue
      }
      if (!searching && inflight === 0) break
      await until()
    }
    if (searchError !== undefined && yielded === 0) {
      throw new AgoraError('CONNECTION', `DHT search failed: ${(searchError as Error).message ?? String(searchError)}`, {
        cause: searchError,
      })
    }
  } finally {
    stop.abort()
    await search
  }
}

/**
 * Finds servers on the DHT by name or capability (or all of them), fetches each provider's
 * signed descriptor and returns the verified ones, at most one entry per server. Stops at
 * `limit`, when the search is exhausted, or at `timeoutMs` (returning what was found).
 *
 * @example
 * ```ts
 * const node = await createAgoraNode({ listen: [], dhtServer: false, bootstrap: [BOOTSTRAP] })
 * const [weather] = await discoverLibp2p(node, { service: 'weather', timeoutMs: 5_000 })
 * const transport = await connectLibp2p(node, weather.addrs[0]!)
 * ```
 */
export async function discoverLibp2p(node: AgoraNode, options: DiscoverLibp2pOptions = {}): Promise<DiscoveredServer[]> {
  const servers: DiscoveredServer[] = []
  for await (const server of findLibp2pServers(node, options)) servers.push(server)
  return servers
}
