/**
 * MCP over libp2p for Agora: the `/mcp/1.0.0` transport (u32 big-endian framed JSON-RPC), a node
 * factory with the recommended stack, DHT discovery and per-peer limits.
 *
 * @example
 * ```ts
 * import { connectLibp2p, createAgoraNode, serveLibp2p } from '@agora/transport-libp2p'
 *
 * const serverNode = await createAgoraNode()
 * const p2p = await serveLibp2p(server, serverNode)
 * const clientNode = await createAgoraNode()
 * await client.connect(await connectLibp2p(clientNode, p2p.addrs[0]!))
 * ```
 *
 * @packageDocumentation
 */
export type { ConnectLibp2pOptions } from './connect.ts'
export { connectLibp2p } from './connect.ts'
export type { AnnounceLibp2pOptions, Libp2pAnnouncement, ProvideRound } from './discovery/announce.ts'
export {
  announceLibp2p,
  announcementKeys,
  DEFAULT_PROVIDE_TIMEOUT_MS,
  DEFAULT_REPROVIDE_INTERVAL_MS,
} from './discovery/announce.ts'
export { canonicalJson } from './discovery/canonical-json.ts'
export type {
  DescriptorSource,
  FetchDescriptorsOptions,
  PeerTarget,
  PublishDescriptorOptions,
  PublishedDescriptor,
} from './discovery/descriptor-protocol.ts'
export {
  DEFAULT_DESCRIPTOR_TIMEOUT_MS,
  DEFAULT_MAX_DESCRIPTOR_BYTES,
  DESCRIPTOR_PROTOCOL,
  fetchDescriptors,
  MAX_DESCRIPTORS_PER_PEER,
  publishDescriptor,
  resolvePeerTarget,
} from './discovery/descriptor-protocol.ts'
export type { DescriptorRejection, PeerDescriptorSignature } from './discovery/descriptor-signature.ts'
export {
  DESCRIPTOR_SIGNING_DOMAIN,
  PEER_SIGNATURE_TYPE,
  signPeerDescriptor,
  verifyPeerDescriptor,
} from './discovery/descriptor-signature.ts'
export type { DiscoveredServer, DiscoverLibp2pOptions } from './discovery/find.ts'
export { DEFAULT_DISCOVERY_TIMEOUT_MS, discoverLibp2p, findLibp2pServers } from './discovery/find.ts'
export type { DiscoveryCapability } from './discovery/keys.ts'
export { ALL_SERVICES_KEY, capabilityKey, DISCOVERY_CAPABILITIES, serviceKey, textKey } from './discovery/keys.ts'
export type { InvalidMessageReason } from './frame-errors.ts'
export { FrameTooLargeError, InvalidMessageError, TruncatedFrameError } from './frame-errors.ts'
export type { Chunk } from './framing.ts'
export { decodeMessage, encodeFrame, FrameDecoder } from './framing.ts'
export { loadOrCreateKey } from './keys.ts'
export type { Libp2pLimits } from './limits.ts'
export { DEFAULT_LIMITS } from './limits.ts'
export type { AgoraNode, AgoraNodeOptions } from './node.ts'
export { createAgoraNode, DEFAULT_DHT_PROTOCOL, nodePrivateKey } from './node.ts'
export { peerAuthInfo, peerCaller } from './peer-identity.ts'
export { LENGTH_PREFIX_BYTES, MAX_MESSAGE_BYTES, MCP_PROTOCOL } from './protocol.ts'
export type { Libp2pServeOptions, Libp2pServerHandle } from './serve.ts'
export { serveLibp2p } from './serve.ts'
export type { Libp2pStreamTransportOptions } from './stream-transport.ts'
export { Libp2pStreamTransport } from './stream-transport.ts'
