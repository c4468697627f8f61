import type { EncryptionMode } from '../encryption.ts'
import type { NostrProfile } from '../profile.ts'

/** ContextVM's one message kind: requests, responses and notifications (ephemeral range). */
export const CTXVM_MESSAGE_KIND = 25910
/** NIP-59 gift wrap kind, used by CEP-4 as a persistent envelope. */
export const GIFT_WRAP_KIND = 1059
/** CEP-19 ephemeral gift wrap (same envelope as 1059, in the ephemeral range: relays do not store it). */
export const EPHEMERAL_GIFT_WRAP_KIND = 21059

/**
 * The wire facts of ContextVM that {@link NostrProfile} has no field for yet. The transport reads
 * them from {@link CONTEXTVM} when it is given this profile (see `README.md` in this folder for
 * the captured traffic they come from).
 */
export interface ContextVmProfile extends NostrProfile {
  readonly id: 'contextvm'
  /**
   * Every envelope kind an encrypted message may arrive in: 1059 and 21059 (CEP-19). A server
   * answers in the kind the request came in, or in 21059 once the peer sent
   * `support_encryption_ephemeral`.
   */
  readonly giftWrapKinds: readonly number[]
  /**
   * How a message on the shared kind is classified: by its JSON-RPC shape (`method` + `id` is a
   * request, `method` alone a notification, `result`/`error` a response), never by kind.
   */
  readonly classifyBy: 'json-rpc-shape'
  /**
   * Announcement content is the bare MCP result (`InitializeResult`, `ListToolsResult`, …), not a
   * JSON-RPC envelope; the events are replaceable (one per kind and pubkey), with no `d`, `s`, `t`
   * or `k` tag. The server announcement carries `name`, `about`, `website`, `picture` and the
   * capability flag tags below.
   */
  readonly announcementContent: 'result'
  /** Single-element flag tags a peer uses to advertise transport features on its first message. */
  readonly capabilityTags: {
    /** Accepts CEP-4 encrypted messages. */
    readonly encryption: 'support_encryption'
    /** Accepts 21059 ephemeral gift wraps (CEP-19). */
    readonly ephemeralEncryption: 'support_encryption_ephemeral'
  }
  /**
   * Gift wraps carry `created_at` = now (NIP-59 randomizes it up to two days back): the SDK
   * subscribes with `since: now`, so a randomized wrap would never reach it.
   */
  readonly wrapCreatedAt: 'now'
  /** NIP-65 relay list (CEP-17) a server publishes so clients can find its relays. */
  readonly relayListKind: 10002
}

/**
 * The ContextVM dialect (`@contextvm/sdk`, spec `ctxvm-draft-spec`): one ephemeral kind 25910 for
 * requests, responses and notifications, whose `content` is the unmodified MCP JSON-RPC message;
 * addressing by `p` (one pubkey is one server, so no `s`/`d`/`method` tags); a response carries
 * `e` = the request event's id and keeps the JSON-RPC `id`; announcements on replaceable kinds
 * 11316 (server), 11317 (tools), 11318 (resources), 11319 (resource templates), 11320 (prompts);
 * encryption per CEP-4 (the signed inner event, NIP-44-encrypted with a throwaway key, in a 1059
 * or 21059 gift wrap tagged `p` = recipient; no seal, no rumor).
 *
 * Wire-compatible with `@contextvm/sdk` 0.11.x, both plaintext and encrypted, and not with any
 * DVMCP dialect.
 *
 * @example
 * ```ts
 * import { CONTEXTVM, serveNostr } from '@agora/transport-nostr'
 * await serveNostr(server, { relays: ['wss://relay.example'], secretKey, profile: CONTEXTVM })
 * CONTEXTVM.kinds.request === CONTEXTVM.kinds.response // true: 25910
 * ```
 */
export const CONTEXTVM: ContextVmProfile = Object.freeze({
  id: 'contextvm',
  kinds: Object.freeze({
    request: CTXVM_MESSAGE_KIND,
    response: CTXVM_MESSAGE_KIND,
    notification: CTXVM_MESSAGE_KIND,
    giftWrap: GIFT_WRAP_KIND,
    announcements: Object.freeze({
      server: 11316,
      tools: 11317,
      resources: 11318,
      resourceTemplates: 11319,
      prompts: 11320,
    }),
  }),
  serverIdTags: false,
  methodTag: false,
  encryption: 'cep4',
  requestKindTag: String(CTXVM_MESSAGE_KIND),
  giftWrapKinds: Object.freeze([GIFT_WRAP_KIND, EPHEMERAL_GIFT_WRAP_KIND]),
  classifyBy: 'json-rpc-shape',
  announcementContent: 'result',
  capabilityTags: Object.freeze({
    encryption: 'support_encryption',
    ephemeralEncryption: 'support_encryption_ephemeral',
  }),
  wrapCreatedAt: 'now',
  relayListKind: 10002,
} as const)

/**
 * True when `profile` is ContextVM's (by id), so code holding a plain {@link NostrProfile} can
 * reach the extra wire facts.
 *
 * @example
 * ```ts
 * if (isContextVm(profile)) templates = contextvmAnnouncementTemplates(snapshot, shape)
 * ```
 */
export function isContextVm(profile: NostrProfile): profile is ContextVmProfile {
  return profile.id === CONTEXTVM.id && 'announcementContent' in profile
}

/**
 * The flag tags a server adds to its `initialize` response to advertise its transport features,
 * as `@contextvm/sdk` servers do: `["support_encryption"]` and `["support_encryption_ephemeral"]`
 * when it accepts encrypted messages (replies reuse the request's wrap kind, so an SDK client
 * that sees the second flag switches to unstored 21059 wraps). Empty for other profiles.
 *
 * @example
 * ```ts
 * capabilityTags(CONTEXTVM, 'optional') // [['support_encryption'], ['support_encryption_ephemeral']]
 * capabilityTags(DVMCP_DRAFT, 'optional') // []
 * ```
 */
export function capabilityTags(profile: NostrProfile, encryption: EncryptionMode): string[][] {
  if (!isContextVm(profile) || encryption === 'disabled') return []
  return [[profile.capabilityTags.encryption], [profile.capabilityTags.ephemeralEncryption]]
}
