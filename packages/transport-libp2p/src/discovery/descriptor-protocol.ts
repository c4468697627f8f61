import type { ServerDescriptor } from '@agora/core'
import { AgoraError } from '@agora/core/errors'
import type { PeerId, PrivateKey, Stream } from '@libp2p/interface'
import { peerIdFromPrivateKey, peerIdFromString } from '@libp2p/peer-id'
import type { Multiaddr } from '@multiformats/multiaddr'
import { isMultiaddr, multiaddr } from '@multiformats/multiaddr'
import type { AgoraNode } from '../node.ts'
import { nodePrivateKey } from '../node.ts'
import { canonicalJson } from './canonical-json.ts'
import { descriptorError, signPeerDescriptor, verifyPeerDescriptor } from './descriptor-signature.ts'
import { readStreamToEnd, StreamTooLargeError } from './read-stream.ts'

/**
 * The descriptor exchange: the dialer opens a stream and sends nothing; the peer answers with one
 * UTF-8 JSON document `{"descriptors": [<signed server descriptor>, …]}` and closes. DHT provider
 * records carry no payload, so this is how a discovered provider says what it serves.
 */
export const DESCRIPTOR_PROTOCOL = '/agora/descriptor/1.0.0'

/** Default bound on an answer: 1 MiB. */
export const DEFAULT_MAX_DESCRIPTOR_BYTES = 1024 * 1024
/** Default bound on one exchange (dial, answer, checks): 10 s. */
export const DEFAULT_DESCRIPTOR_TIMEOUT_MS = 10_000
/** At most this many descriptors in one answer. */
export const MAX_DESCRIPTORS_PER_PEER = 64

/** Produces the current descriptor of one server (endpoints and all); called on each request. */
export type DescriptorSource = () => ServerDescriptor | Promise<ServerDescriptor>

export interface PublishDescriptorOptions {
  /** The key to sign with. Default: the node's own key (nodes from `createAgoraNode`). Must be the node's key. */
  privateKey?: PrivateKey | undefined
}

/** A descriptor being served; `close()` stops serving it (and the protocol, when it was the last). */
export interface PublishedDescriptor {
  close(): Promise<void>
}

interface Entry {
  readonly source: DescriptorSource
  readonly privateKey: PrivateKey
  cache?: { readonly unsigned: string; readonly signed: ServerDescriptor } | undefined
}

interface Registry {
  readonly entries: Set<Entry>
  /** Resolves once the protocol handler is registered. */
  readonly handled: Promise<void>
}

const registries = new WeakMap<AgoraNode, Registry>()
const encoder = new TextEncoder()

/**
 * Serves a server descriptor on `node` over {@link DESCRIPTOR_PROTOCOL}, signed with the node's
 * key (so a fetcher can prove it came from this PeerId). Several servers on one node share the
 * protocol; each answer lists them all. The descriptor is re-signed only when it changes.
 *
 * @example
 * ```ts
 * const published = await publishDescriptor(node, () =>
 *   createDescriptor(server, { endpoints: [{ transport: 'libp2p', peerId: node.peerId.toString(), addrs: [] }] }))
 * await published.close()
 * ```
 */
export async function publishDescriptor(
  node: AgoraNode,
  source: DescriptorSource,
  options: PublishDescriptorOptions = {},
): Promise<PublishedDescriptor> {
  const privateKey = options.privateKey ?? nodePrivateKey(node)
  if (!privateKey) {
    throw new AgoraError(
      'CONFIG',
      'publishDescriptor: the node key is unknown; pass privateKey (or make the node with createAgoraNode)',
    )
  }
  if (!peerIdFromPrivateKey(privateKey).equals(node.peerId)) {
    throw new AgoraError('CONFIG', 'publishDescriptor: privateKey is not the key of this node')
  }
  let registry = registries.get(node)
  if (!registry) {
    const entries = new Set<Entry>()
    const handled = node.handle(DESCRIPTOR_PROTOCOL, (stream) => answer(stream, entries), {
      maxInboundStreams: 8,
      maxOutboundStreams: 1,
    })
    registry = { entries, handled }
    registries.set(node, registry)
  }
  const entry: Entry = { source, privateKey }
  registry.entries.add(entry)
  const { entries, handled } = registry
  await handled
  let closed = false
  return {
    async close() {
      if (closed) return
      closed = true
      entries.delete(entry)
      if (entries.size === 0 && registries.get(node) === registry) {
        registries.delete(node)
        if (node.status === 'started') await node.unhandle(DESCRIPTOR_PROTOCOL).catch(() => {})
      }
    },
  }
}

async function signed(entry: Entry): Promise<ServerDescriptor> {
  const descriptor = await entry.source()
  const { signature: _ignored, ...unsignedValue } = descriptor
  const unsigned = canonicalJson(unsignedValue)
  if (entry.cache?.unsigned !== unsigned) {
    entry.cache = { unsigned, signed: await signPeerDescriptor(descriptor, entry.privateKey) }
  }
  return entry.cache.signed
}

async function answer(stream: Stream, entries: ReadonlySet<Entry>): Promise<void> {
  const signal = AbortSignal.timeout(DEFAULT_DESCRIPTOR_TIMEOUT_MS)
  try {
    const descriptors = await Promise.all([...entries].slice(0, MAX_DESCRIPTORS_PER_PEER).map(signed))
    const bytes = encoder.encode(JSON.stringify({ descriptors }))
    if (!stream.send(bytes)) await stream.onDrain({ signal })
    await stream.close({ signal })
  } catch (err) {
    stream.abort(err instanceof Error ? err : new Error(String(err)))
  }
}

/** Whom to ask: a PeerId (dialed via the peer store / routing) or a multiaddr ending in `/p2p/<PeerId>`. */
export type PeerTarget = PeerId | Multiaddr | string

/** The PeerId a target names, and what to dial. */
export function resolvePeerTarget(peer: PeerTarget): { peerId: PeerId; dial: PeerId | Multiaddr } {
  if (typeof peer === 'string' && !peer.startsWith('/')) {
    try {
      const peerId = peerIdFromString(peer)
      return { peerId, dial: peerId }
    } catch (err) {
      throw new AgoraError('TARGET', `${JSON.stringify(peer)} is neither a PeerId nor a multiaddr`, { cause: err })
    }
  }
  let addr: Multiaddr
  if (isMultiaddr(peer)) addr = peer
  else if (typeof peer === 'string') {
    try {
      addr = multiaddr(peer)
    } catch (err) {
      throw new AgoraError('TARGET', `${JSON.stringify(peer)} is not a multiaddr`, { cause: err })
    }
  } else return { peerId: peer, dial: peer }
  const id = addr
    .getComponents()
    .filter((c) => c.name === 'p2p')
    .at(-1)?.value
  if (!id) throw new AgoraError('TARGET', `${addr.toString()} does not end in /p2p/<PeerId>, so the peer cannot be verified`)
  return { peerId: peerIdFromString(id), dial: addr }
}

export interface FetchDescriptorsOptions {
  /** Addresses to try (e.g. from a provider record), added to the peer store before dialing. */
  addrs?: readonly Multiaddr[] | undefined
  signal?: AbortSignal | undefined
  /** Bound on the whole exchange. Default {@link DEFAULT_DESCRIPTOR_TIMEOUT_MS}. */
  timeoutMs?: number | undefined
  /** Bound on the answer. Default {@link DEFAULT_MAX_DESCRIPTOR_BYTES}. */
  maxBytes?: number | undefined
}

/**
 * Asks a peer for its server descriptors over {@link DESCRIPTOR_PROTOCOL} and returns them once
 * every one is verified: signed by that very peer (the PeerId dialed), valid per the descriptor
 * schema. Anything else — unreachable, slow, oversized, malformed, forged, signed by another peer —
 * throws an `AgoraError` with `data.reason` (see `DescriptorRejection`).
 *
 * @example
 * ```ts
 * const [descriptor] = await fetchDescriptors(node, '/ip4/127.0.0.1/tcp/4001/p2p/12D3KooW…', {
 *   signal: AbortSignal.timeout(5_000),
 * })
 * console.log(descriptor.name, descriptor.tools.map((t) => t.name))
 * ```
 */
export async function fetchDescriptors(
  node: AgoraNode,
  peer: PeerTarget,
  options: FetchDescriptorsOptions = {},
): Promise<ServerDescriptor[]> {
  const { peerId, dial } = resolvePeerTarget(peer)
  const who = peerId.toString()
  if (options.signal?.aborted) throw descriptorError('cancelled', who, 'cancelled before asking for descriptors')
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_DESCRIPTOR_BYTES
  const timeoutMs = options.timeoutMs ?? DEFAULT_DESCRIPTOR_TIMEOUT_MS
  const timeout = AbortSignal.timeout(timeoutMs)
  const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout
  const failure = (err: unknown) => {
    if (options.signal?.aborted) return descriptorError('cancelled', who, 'cancelled while fetching descriptors', err)
    if (timeout.aborted) return descriptorError('timeout', who, `no descriptors within ${timeoutMs} ms`, err)
    return descriptorError('unreachable', who, `cannot fetch descriptors: ${(err as Error)?.message ?? String(err)}`, err)
  }

  let bytes: Uint8Array
  try {
    if (options.addrs?.length) await node.peerStore.merge(peerId, { multiaddrs: [...options.addrs] }).catch(() => {})
    const stream = await node.dialProtocol(dial, DESCRIPTOR_PROTOCOL, { signal, negotiateFully: true })
    const reading = readStreamToEnd(stream, { maxBytes, signal }) // listen before anything else can arrive
    await stream.close({ signal }).catch(() => {}) // nothing to send: half-close our side (reading reports failures)
    bytes = await reading
  } catch (err) {
    if (err instanceof StreamTooLargeError)
      throw descriptorError('too_large', who, `the descriptor answer exceeds ${maxBytes} bytes`)
    throw failure(err)
  }

  let body: unknown
  try {
    body = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes))
  } catch (err) {
    throw descriptorError('malformed', who, `the descriptor answer is not UTF-8 JSON: ${(err as Error).message}`, err)
  }
  const list = (body as { descriptors?: unknown } | null)?.descriptors
  if (!Array.isArray(list)) throw descriptorError('malformed', who, 'the descriptor answer has no "descriptors" array')
  if (list.length > MAX_DESCRIPTORS_PER_PEER) {
    throw descriptorError('too_large', who, `the answer lists ${list.length} descriptors (at most ${MAX_DESCRIPTORS_PER_PEER})`)
  }
  const verified: ServerDescriptor[] = []
  for (const item of list) verified.push(await verifyPeerDescriptor(item, { expectedPeer: peerId }))
  return verified
}
