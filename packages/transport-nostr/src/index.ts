/**
 * MCP over Nostr for Agora: the DVMCP transport (server and client), its wire profiles (DVMCP draft,
 * ContextVM), keys, relay pool and encryption.
 *
 * @example
 * ```ts
 * import { connectNostr, serveNostr } from '@agora/transport-nostr'
 * const nostr = await serveNostr(server, { relays: ['ws://127.0.0.1:7777'] })
 * const transport = await connectNostr({ relays: nostr.relays as string[], serverPubkey: nostr.pubkey })
 * ```
 *
 * @packageDocumentation
 */
export type { AnnouncedEvents, AnnounceNostrOptions, NostrAnnouncement } from './announce/announce.ts'
export { announceNostr, DEFAULT_REPUBLISH_DEBOUNCE_MS } from './announce/announce.ts'
export type { AnnouncementMetadata, AnnouncementShape, AnnouncementTemplates } from './announce/events.ts'
export { announcementTemplates } from './announce/events.ts'
export type { AnnouncementKinds } from './announce/kinds.ts'
export type { ServerSnapshot, SnapshotOptions } from './announce/snapshot.ts'
export { snapshotServer } from './announce/snapshot.ts'
export type { NostrClientTransportOptions, NostrPaymentNotice } from './client-transport.ts'
export { NostrClientTransport } from './client-transport.ts'
export type { NostrConnectOptions } from './connect.ts'
export { connectNostr, DEFAULT_NOSTR_TIMEOUT_MS } from './connect.ts'
export { contextvmAnnouncementTemplates } from './contextvm/announcements.ts'
export type { Cep4UnwrapOptions, Cep4WrapKind, Cep4WrapOptions } from './contextvm/cep4.ts'
export { isCep4WrapKind, unwrapCep4, wrapCep4 } from './contextvm/cep4.ts'
export type { ContextVmProfile } from './contextvm/profile.ts'
export { CONTEXTVM, isContextVm } from './contextvm/profile.ts'
export type { DiscoveredPrice, DiscoveredServer, DiscoverNostrOptions, DiscoveryRejection } from './discover/discover.ts'
export { discoverNostr } from './discover/discover.ts'
export type { Parsed, ParsedList, ParseOptions } from './discover/parse.ts'
export { parseListContent, parseServerContent } from './discover/parse.ts'
export type { EncryptionMode, OpenedEvent } from './encryption.ts'
export { openEvent, sealMessage } from './encryption.ts'
export { nostrAuthInfo, nostrCaller } from './identity.ts'
export type { NostrKeys } from './keys.ts'
export {
  generateSecretKey,
  keysOf,
  loadOrCreateSecretKey,
  parsePublicKey,
  parseSecretKey,
  resolveKeys,
  toNpub,
  toNsec,
} from './keys.ts'
export type { DecodedContent } from './message.ts'
export { DEFAULT_MAX_CONTENT_BYTES, decodeContent } from './message.ts'
export type { Rumor } from './nip59.ts'
export { unwrapNip59, wrapNip59 } from './nip59.ts'
export type {
  EventInfo,
  FilterBuilder,
  QueryOptions,
  RelayAnswer,
  RelayPool,
  RelayPoolOptions,
  RelaySubscription,
  SubscribeOptions,
} from './pool.ts'
export { createRelayPool } from './pool.ts'
export type { NostrProfile } from './profile.ts'
export { DVMCP_DRAFT, giftWrapKinds, giftWrapSpreadSeconds, PROFILES, resolveProfile } from './profile.ts'
export type { PublishedNostrServer, PublishNostrOptions } from './publish.ts'
export { publishNostr } from './publish.ts'
export type { NostrServeOptions, NostrServerHandle } from './serve.ts'
export { serveNostr } from './serve.ts'
export { NostrServerSession } from './server-session.ts'
export { checkEvent, signEvent, useFastSigning } from './signing.ts'
export type { Tags } from './wire.ts'
export {
  notificationTags,
  paymentRequiredTags,
  readPaymentRequired,
  requestTags,
  responseTags,
  tagValue,
} from './wire.ts'
