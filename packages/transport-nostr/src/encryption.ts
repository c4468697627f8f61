import type { Event, EventTemplate } from 'nostr-tools/pure'
import type { Cep4WrapKind } from './contextvm/cep4.ts'
import { unwrapCep4, wrapCep4 } from './contextvm/cep4.ts'
import type { Rumor } from './nip59.ts'
import { unwrapNip59, wrapNip59 } from './nip59.ts'
import type { NostrProfile } from './profile.ts'
import { giftWrapKinds } from './profile.ts'
import { signEvent } from './signing.ts'

/** `disabled`: plaintext only. `optional`: both, replies mirror the request. `required`: encrypted only. */
export type EncryptionMode = 'disabled' | 'optional' | 'required'

/**
 * A message as the transport handles it: the event itself, or for a gift wrap the event inside
 * (whose `id` is what responses reference in `e`). `pubkey` is always authenticated (the event
 * signature, the NIP-59 seal signature, or the CEP-4 inner event's signature).
 */
export interface OpenedEvent extends Rumor {
  /** True when it arrived gift-wrapped. */
  readonly encrypted: boolean
  /** The gift wrap's kind when it arrived wrapped (replies use the same, e.g. ContextVM's 21059). */
  readonly wrapKind?: number | undefined
}

/**
 * Signs `template` as the sender, encrypted to `recipient` when `encrypt` is set: a NIP-59 gift
 * wrap whose rumor is the event, or for the `cep4` profiles the signed event NIP-44-encrypted in a
 * gift wrap; either way the wrap is tagged only `p` = recipient. Returns the event to publish and
 * the id responses will reference.
 *
 * @example
 * ```ts
 * const { event, id } = sealMessage(DVMCP_DRAFT, template, sk, serverPubkey, true)
 * await pool.publish(event) // kind 1059; `id` is the inner request's id
 * ```
 */
export function sealMessage(
  profile: NostrProfile,
  template: EventTemplate,
  secretKey: Uint8Array,
  recipient: string,
  encrypt: boolean,
  /** Envelope kind for `cep4` profiles (1059 or 21059). Default `profile.kinds.giftWrap`. */
  wrapKind?: number,
): { event: Event; id: string } {
  if (!encrypt) {
    const event = signEvent(template, secretKey)
    return { event, id: event.id }
  }
  if (profile.encryption === 'cep4') {
    // CEP-4: the signed event, NIP-44-encrypted with a throwaway key, in a gift wrap dated now.
    const inner = signEvent(template, secretKey)
    return { event: wrapCep4(inner, recipient, { kind: (wrapKind ?? profile.kinds.giftWrap) as Cep4WrapKind }), id: inner.id }
  }
  // The rumor's id is what the answer's `e` tag references.
  const { wrap, rumor } = wrapNip59(template, secretKey, recipient)
  return { event: wrap, id: rumor.id }
}

/**
 * Opens an event whose signature has been checked: returns it as is, or unwraps a gift wrap
 * addressed to `secretKey`. NIP-59: checks the seal's signature, that the inner event's author is
 * the seal's signer, and the inner event's id. CEP-4: checks the inner event's own signature.
 * Throws `UNAUTHENTICATED` when a wrap does not open.
 *
 * @example
 * ```ts
 * const message = openEvent(DVMCP_DRAFT, event, sk) // message.pubkey is the authenticated sender
 * ```
 */
export function openEvent(profile: NostrProfile, event: Event, secretKey: Uint8Array): OpenedEvent {
  if (!giftWrapKinds(profile).includes(event.kind)) return { ...pick(event), encrypted: false }
  if (profile.encryption === 'cep4') {
    // The inner event's own signature authenticates the sender (no seal in CEP-4).
    const inner = unwrapCep4(event, secretKey, { requireAddressed: false })
    return { ...pick(inner), encrypted: true, wrapKind: event.kind }
  }
  // Decrypts the seal, verifies its signature, decrypts the rumor, checks rumor.pubkey === seal.pubkey and its id.
  return { ...pick(unwrapNip59(event, secretKey)), encrypted: true }
}

const pick = (e: Omit<Event, 'sig'>) => ({
  id: e.id,
  pubkey: e.pubkey,
  kind: e.kind,
  tags: e.tags,
  content: e.content,
  created_at: e.created_at,
})
