import { AgoraError } from '@agora/core/errors'
import { v2 as nip44 } from 'nostr-tools/nip44'
import type { Event } from 'nostr-tools/pure'
import { conversationKeys, throwawayKey } from '../conversation-keys.ts'
import { checkEvent, isSignedEvent, signEvent } from '../signing.ts'
import { EPHEMERAL_GIFT_WRAP_KIND, GIFT_WRAP_KIND } from './profile.ts'

/** The envelope kinds of CEP-4: 1059 (persistent) and 21059 (ephemeral, CEP-19). */
export type Cep4WrapKind = typeof GIFT_WRAP_KIND | typeof EPHEMERAL_GIFT_WRAP_KIND

export interface Cep4WrapOptions {
  /** Envelope kind. Default 1059. */
  kind?: Cep4WrapKind | undefined
  /** The envelope's `created_at` (Unix seconds). Default now; see {@link wrapCep4} for why not randomized. */
  createdAt?: number | undefined
}

/**
 * True for the kinds a CEP-4 envelope comes in (1059 and 21059).
 *
 * @example
 * ```ts
 * isCep4WrapKind(21059) // true
 * ```
 */
export function isCep4WrapKind(kind: number): kind is Cep4WrapKind {
  return kind === GIFT_WRAP_KIND || kind === EPHEMERAL_GIFT_WRAP_KIND
}

/**
 * Wraps a signed event for `recipient` the ContextVM way (CEP-4, "simplified NIP-17"): the whole
 * signed event, as JSON, NIP-44-encrypted with a throwaway key to the recipient, inside a gift wrap
 * signed by that throwaway key and tagged `p` = recipient. There is no seal: the sender is
 * authenticated by the inner event's own signature.
 *
 * Written here rather than with `nostr-tools/nip59`, which always adds a seal layer (CEP-4 has
 * none). The envelope's `created_at` is now, not randomized as NIP-59 does, because
 * `@contextvm/sdk` subscribes with `since: now` and would drop a back-dated wrap.
 *
 * @example
 * ```ts
 * const inner = finalizeEvent({ kind: 25910, created_at: now, tags: [['p', server]], content: JSON.stringify(request) }, sk)
 * const wrap = wrapCep4(inner, server) // kind 1059, tags [['p', server]]
 * ```
 */
export function wrapCep4(inner: Event, recipient: string, options: Cep4WrapOptions = {}): Event {
  const kind = options.kind ?? GIFT_WRAP_KIND
  if (!isCep4WrapKind(kind)) throw new AgoraError('INVALID_PARAMS', `CEP-4 wraps are kind 1059 or 21059, not ${kind}`)
  const throwaway = throwawayKey(recipient)
  const content = nip44.encrypt(JSON.stringify(inner), throwaway.conversationKey)
  return signEvent(
    {
      kind,
      created_at: options.createdAt ?? Math.floor(Date.now() / 1000),
      tags: [['p', recipient]],
      content,
    },
    throwaway.secretKey,
  )
}

export interface Cep4UnwrapOptions {
  /**
   * Require the inner event to name the unwrapping key in a `p` tag (default true). It stops a
   * signed message meant for someone else from being re-wrapped and replayed to us; events made by
   * `@contextvm/sdk` always carry it.
   */
  requireAddressed?: boolean | undefined
}

/**
 * Opens a CEP-4 gift wrap addressed to `secretKey`: decrypts it, checks that it holds a well-formed
 * event with a valid signature (the only proof of who sent it) and, by default, that the inner
 * event is addressed to us. Returns the inner event; throws `UNAUTHENTICATED` otherwise.
 *
 * @example
 * ```ts
 * const inner = unwrapCep4(wrap, sk)
 * inner.pubkey // the authenticated sender
 * JSON.parse(inner.content) // the JSON-RPC message
 * ```
 */
export function unwrapCep4(wrap: Event, secretKey: Uint8Array, options: Cep4UnwrapOptions = {}): Event {
  if (!isCep4WrapKind(wrap.kind)) {
    throw new AgoraError('UNAUTHENTICATED', `event ${wrap.id} is kind ${wrap.kind}, not a CEP-4 gift wrap`)
  }
  const keys = conversationKeys(secretKey)
  let inner: unknown
  try {
    // The wrap's signer is a throwaway key: its conversation key is not worth caching.
    const plaintext = nip44.decrypt(wrap.content, keys.oneOff(wrap.pubkey))
    inner = JSON.parse(plaintext)
  } catch (err) {
    throw new AgoraError('UNAUTHENTICATED', `cannot open gift wrap ${wrap.id}: ${(err as Error).message}`, { cause: err })
  }
  if (!isSignedEvent(inner)) throw new AgoraError('UNAUTHENTICATED', `gift wrap ${wrap.id} holds no Nostr event`)
  // Recomputes the id from the fields and checks the signature against `pubkey`.
  if (!checkEvent(inner)) {
    throw new AgoraError('UNAUTHENTICATED', `gift wrap ${wrap.id} holds an event with an invalid id or signature`)
  }
  if (options.requireAddressed ?? true) {
    if (!inner.tags.some((tag) => tag[0] === 'p' && tag[1] === keys.pubkey)) {
      throw new AgoraError('UNAUTHENTICATED', `gift wrap ${wrap.id} holds an event addressed to someone else`)
    }
  }
  return inner
}
