import type { AgoraServer, DescriptorEndpoint, ServerDescriptor } from '@agora/core'
import { createDescriptor } from '@agora/core'
import type { PrivateKey } from '@libp2p/interface'
import type { CID } from 'multiformats/cid'
import type { AgoraNode } from '../node.ts'
import { publishDescriptor } from './descriptor-protocol.ts'
import type { DiscoveryCapability } from './keys.ts'
import { ALL_SERVICES_KEY, capabilityKey, DISCOVERY_CAPABILITIES, serviceKey } from './keys.ts'

/** Default interval between re-announcements: 5 minutes (kad-dht also re-provides hourly on its own). */
export const DEFAULT_REPROVIDE_INTERVAL_MS = 5 * 60_000
/** Default bound on one announcement round: 30 s. */
export const DEFAULT_PROVIDE_TIMEOUT_MS = 30_000

export interface AnnounceLibp2pOptions {
  /** How often to provide the keys again. Default {@link DEFAULT_REPROVIDE_INTERVAL_MS}. */
  reprovideIntervalMs?: number | undefined
  /** Bound on each round of `provide` calls. Default {@link DEFAULT_PROVIDE_TIMEOUT_MS}. */
  provideTimeoutMs?: number | undefined
  /** More endpoints for the descriptor (e.g. the same server over HTTP); the libp2p one is added. */
  endpoints?: readonly DescriptorEndpoint[] | undefined
  /** Payment methods for the descriptor. */
  payments?: ServerDescriptor['payments'] | undefined
  /** The key that signs the descriptor. Default: the node's own key. */
  privateKey?: PrivateKey | undefined
  /** Called for each key a round failed to provide (the next round tries again). */
  onError?: ((err: unknown, key: CID) => void) | undefined
}

/** The outcome of one round of announcements. */
export interface ProvideRound {
  /** Keys (CID text) provided to the network. */
  readonly provided: readonly string[]
  /** Keys that failed (no DHT peer answered in time, the node stopped, …). */
  readonly failed: ReadonlyArray<{ readonly key: string; readonly error: unknown }>
}

/** A server being announced; `close()` stops serving its descriptor and re-providing. */
export interface Libp2pAnnouncement {
  /** The first round: resolves (never rejects) once every key was provided or failed. */
  readonly provided: Promise<ProvideRound>
  /** The descriptor as currently served (unsigned). */
  descriptor(): ServerDescriptor
  /** The DHT keys of the current descriptor. */
  keys(): CID[]
  /** Runs a round now (e.g. after joining more peers); concurrent calls share one round. */
  reprovide(): Promise<ProvideRound>
  close(): Promise<void>
}

/** How many announcements on a node use each key, so closing one keeps the others' records. */
const keyUsers = new WeakMap<AgoraNode, Map<string, number>>()

/**
 * The DHT keys a descriptor is announced under: `mcp-service:<name>`, `mcp-service:*` and
 * `mcp-capability:<cap>` for each of tools, resources and prompts it has.
 *
 * @example
 * ```ts
 * announcementKeys(createDescriptor(server)).map(String) // ['bafkrei…', …]
 * ```
 */
export function announcementKeys(descriptor: ServerDescriptor): CID[] {
  const caps = DISCOVERY_CAPABILITIES.filter((cap: DiscoveryCapability) => descriptor.capabilities[cap])
  return [serviceKey(descriptor.name), ALL_SERVICES_KEY, ...caps.map(capabilityKey)]
}

/**
 * Announces a server on the DHT (spec §5): serves its signed descriptor over
 * `/agora/descriptor/1.0.0` and provides it under its service key, `mcp-service:*` and a key per
 * capability, again every `reprovideIntervalMs`. Provider records carry no payload: finders fetch
 * the descriptor from the provider afterwards. Serve the MCP protocol itself with `serveLibp2p`.
 *
 * @example
 * ```ts
 * const node = await createAgoraNode({ bootstrap: ['/ip4/127.0.0.1/tcp/4001/p2p/12D3KooW…'] })
 * const p2p = await serveLibp2p(server, node)
 * const announcement = await announceLibp2p(server, node)
 * console.log(await announcement.provided) // { provided: ['bafkrei…', …], failed: [] }
 * await announcement.close()
 * ```
 */
export async function announceLibp2p(
  server: AgoraServer,
  node: AgoraNode,
  options: AnnounceLibp2pOptions = {},
): Promise<Libp2pAnnouncement> {
  const peerId = node.peerId.toString()
  let cache: { key: string; descriptor: ServerDescriptor } | undefined
  const descriptor = (): ServerDescriptor => {
    const addrs = node.getMultiaddrs().map(String)
    const key = `${server.revision}\n${addrs.join(' ')}`
    if (cache?.key !== key) {
      const endpoints: DescriptorEndpoint[] = [{ transport: 'libp2p', peerId, addrs }, ...(options.endpoints ?? [])]
      cache = { key, descriptor: createDescriptor(server, { endpoints, identity: { peerId }, payments: options.payments }) }
    }
    return cache.descriptor
  }
  const published = await publishDescriptor(node, descriptor, { privateKey: options.privateKey })

  const users = keyUsers.get(node) ?? new Map<string, number>()
  keyUsers.set(node, users)
  const used = new Map<string, CID>() // keys this announcement counts in `users`
  const closing = new AbortController()
  const timeoutMs = options.provideTimeoutMs ?? DEFAULT_PROVIDE_TIMEOUT_MS

  const runRound = async (): Promise<ProvideRound> => {
    const keys = announcementKeys(descriptor())
    for (const key of keys) {
      const text = key.toString()
      if (!used.has(text)) {
        used.set(text, key)
        users.set(text, (users.get(text) ?? 0) + 1)
      }
    }
    const signal = AbortSignal.any([closing.signal, AbortSignal.timeout(timeoutMs)])
    const results = await Promise.allSettled(keys.map((key) => node.contentRouting.provide(key, { signal })))
    const provided: string[] = []
    const failed: Array<{ key: string; error: unknown }> = []
    results.forEach((result, i) => {
      const key = keys[i]!
      if (result.status === 'fulfilled') provided.push(key.toString())
      else {
        failed.push({ key: key.toString(), error: result.reason })
        if (!closing.signal.aborted) options.onError?.(result.reason, key)
      }
    })
    return { provided, failed }
  }
  let current: Promise<ProvideRound> | undefined
  const reprovide = () => {
    current ??= runRound().finally(() => {
      current = undefined
    })
    return current
  }

  const provided = reprovide()
  const timer = setInterval(() => void reprovide(), options.reprovideIntervalMs ?? DEFAULT_REPROVIDE_INTERVAL_MS)
  timer.unref()

  let closed: Promise<void> | undefined
  return {
    provided,
    descriptor,
    keys: () => announcementKeys(descriptor()),
    reprovide,
    close() {
      closed ??= (async () => {
        clearInterval(timer)
        closing.abort()
        await current?.catch(() => {})
        await published.close()
        for (const [text, key] of used) {
          const left = (users.get(text) ?? 1) - 1
          if (left > 0) users.set(text, left)
          else {
            users.delete(text)
            if (node.status === 'started') await node.contentRouting.cancelReprovide(key).catch(() => {})
          }
        }
      })()
      return closed
    },
  }
}
