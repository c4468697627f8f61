import { AgoraError } from '@agora/core/errors'
import { CONTEXTVM } from './contextvm/profile.ts'

/**
 * A Nostr dialect of MCP, as data: which kinds carry requests, responses, notifications and
 * announcements, which tags address a server, and how encrypted events are wrapped. The transport
 * reads everything wire-specific from here, so another dialect is a new profile, not a fork.
 */
export interface NostrProfile {
  /** Stable id, e.g. `dvmcp-2025-03-26-draft`. */
  readonly id: string
  readonly kinds: {
    /** Client → server requests. */
    readonly request: number
    /** Server → client responses. */
    readonly response: number
    /** Notifications, both directions (the recipient is the `p` tag). */
    readonly notification: number
    /** Envelope of the encrypted messages this side sends (gift wrap: 1059). */
    readonly giftWrap: number
    /** Announcement kinds (published by `announceNostr`, read by `discoverNostr`). */
    readonly announcements: {
      readonly server: number
      readonly tools: number
      readonly resources: number
      readonly prompts: number
      readonly resourceTemplates?: number | undefined
    }
  }
  /**
   * True when one key may run several servers told apart by a server id: requests and
   * notifications carry `s` = server id, and the `initialize` response carries `d` = server id.
   * False for dialects where one pubkey is one server (ContextVM).
   */
  readonly serverIdTags: boolean
  /** True when requests and notifications repeat the JSON-RPC method in a `method` tag. */
  readonly methodTag: boolean
  /**
   * How encrypted messages are wrapped: `nip59` (rumor → seal signed by the sender → gift wrap;
   * the sender is authenticated by the seal) or `cep4` (ContextVM: the signed inner event,
   * NIP-44-encrypted inside a gift wrap).
   */
  readonly encryption: 'nip59' | 'cep4'
  /** Value of the announcement's `k` tag: the kind requests are accepted on. */
  readonly requestKindTag: string
  /** Every envelope kind an encrypted message may arrive in. Default `[kinds.giftWrap]` (ContextVM: 1059 and 21059). */
  readonly giftWrapKinds?: readonly number[] | undefined
}

/**
 * The DVMCP draft this project implements (`docs/dvmcp-spec-2025-03-26.md`, draft rev1): requests
 * 5910, responses 6910, notifications 21316 (ephemeral), announcements 31316–31319 (addressable),
 * full JSON-RPC messages in `content`, tags `method`, `p`, `s`, `e` and `d`. Encryption uses
 * standard NIP-59 gift wraps (the draft only has a `support_encryption` tag).
 *
 * @example
 * ```ts
 * import { DVMCP_DRAFT } from '@agora/transport-nostr'
 * DVMCP_DRAFT.kinds.request // 5910
 * ```
 */
export const DVMCP_DRAFT: NostrProfile = Object.freeze({
  id: 'dvmcp-2025-03-26-draft',
  kinds: Object.freeze({
    request: 5910,
    response: 6910,
    notification: 21316,
    giftWrap: 1059,
    announcements: Object.freeze({ server: 31316, tools: 31317, resources: 31318, prompts: 31319 }),
  }),
  serverIdTags: true,
  methodTag: true,
  encryption: 'nip59',
  requestKindTag: '5910',
})

/** The profiles this package knows, by id. */
export const PROFILES: Readonly<Record<string, NostrProfile>> = Object.freeze({
  [DVMCP_DRAFT.id]: DVMCP_DRAFT,
  [CONTEXTVM.id]: CONTEXTVM,
})

/**
 * The gift wrap kinds a profile accepts.
 *
 * @example
 * ```ts
 * giftWrapKinds(DVMCP_DRAFT) // [1059]
 * ```
 */
export function giftWrapKinds(profile: NostrProfile): readonly number[] {
  return profile.giftWrapKinds ?? [profile.kinds.giftWrap]
}

/**
 * How far back (seconds) the profile's gift wraps may be dated: NIP-59 randomises up to two days,
 * CEP-4 wraps carry the current time.
 *
 * @example
 * ```ts
 * giftWrapSpreadSeconds(DVMCP_DRAFT) // 172800
 * ```
 */
export function giftWrapSpreadSeconds(profile: NostrProfile): number {
  return profile.encryption === 'nip59' ? 2 * 24 * 60 * 60 : 0
}

/**
 * Looks up a profile by id (or returns the object given), defaulting to {@link DVMCP_DRAFT}.
 *
 * @example
 * ```ts
 * resolveProfile('dvmcp-2025-03-26-draft') === DVMCP_DRAFT // true
 * resolveProfile(undefined) === DVMCP_DRAFT                // true
 * ```
 */
export function resolveProfile(profile: NostrProfile | string | undefined): NostrProfile {
  if (profile === undefined) return DVMCP_DRAFT
  if (typeof profile !== 'string') return profile
  const found = PROFILES[profile]
  if (!found) {
    throw new AgoraError('CONFIG', `unknown Nostr profile ${JSON.stringify(profile)}; known: ${Object.keys(PROFILES).join(', ')}`)
  }
  return found
}
