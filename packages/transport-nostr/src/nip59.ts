import { randomInt } from 'node:crypto'
import { AgoraError } from '@agora/core/errors'
import { v2 as nip44 } from 'nostr-tools/nip44'
import type { Event, EventTemplate } from 'nostr-tools/pure'
import { getEventHash, validateEvent } from 'nostr-tools/pure'
import { conversationKeys, throwawayKey } from './conversation-keys.ts'
import { checkEvent, isSignedEvent, signEvent } from './signing.ts'

/** An unsigned event with its id (NIP-59's rumor): deniable, authenticated only by the seal around it. */
export interface Rumor {
  readonly id: string
  readonly pubkey: string
  readonly kind: number
  readonly tags: string[][]
  readonly content: string
  readonly created_at: number
}

const SEAL_KIND = 13
const GIFT_WRAP_KIND = 1059
/** NIP-59: seals and wraps are dated up to two days back, so their time says nothing of the message's. */
const SPREAD_SECONDS = 2 * 24 * 60 * 60

/**
 * Gift-wraps `template` from `secretKey` to `recipient` (NIP-59): the rumor (the event, unsigned,
 * with its id), NIP-44-encrypted in a seal (kind 13) signed by the sender, NIP-44-encrypted in a
 * gift wrap (kind 1059) signed by a throwaway key and tagged only `p` = recipient. Seal and wrap
 * are dated at random up to two days back.
 *
 * Written with nostr-tools' `nip44` primitives rather than `nip59.wrapEvent`, whose helpers sign
 * with the pure-JS schnorr code and compute both ECDH conversation keys per message (≈ 25 ms a
 * message on a loaded 2-core machine): here seal and wrap are signed with the WebAssembly signer
 * when loaded, the seal's conversation key is cached for the sender–recipient pair, and the
 * wrap's comes from Node's native secp256k1 (see `conversation-keys.ts`). The events are the same
 * as nostr-tools makes (its `unwrapEvent` opens them; tests check both ways).
 *
 * @example
 * ```ts
 * const { wrap, rumor } = wrapNip59({ kind: 5910, created_at: now, tags: [['p', server]], content }, sk, server)
 * await pool.publish(wrap) // responses reference rumor.id
 * ```
 */
export function wrapNip59(template: EventTemplate, secretKey: Uint8Array, recipient: string): { wrap: Event; rumor: Rumor } {
  const keys = conversationKeys(secretKey)
  const fields = { kind: template.kind, tags: template.tags, content: template.content, created_at: template.created_at }
  const unhashed = { ...fields, pubkey: keys.pubkey }
  const rumor: Rumor = { ...unhashed, id: getEventHash(unhashed) }
  const seal = signEvent(
    { kind: SEAL_KIND, content: nip44.encrypt(JSON.stringify(rumor), keys.peer(recipient)), created_at: randomPast(), tags: [] },
    secretKey,
  )
  const throwaway = throwawayKey(recipient)
  const wrap = signEvent(
    {
      kind: GIFT_WRAP_KIND,
      content: nip44.encrypt(JSON.stringify(seal), throwaway.conversationKey),
      created_at: randomPast(),
      tags: [['p', recipient]],
    },
    throwaway.secretKey,
  )
  return { wrap, rumor }
}

/**
 * Opens a NIP-59 gift wrap addressed to `secretKey` (its own signature is the caller's to check):
 * decrypts the seal, checks it is a kind-13 event with a valid signature, decrypts the rumor,
 * checks that its author is the seal's signer and that its id matches its content. Returns the
 * rumor, whose `pubkey` is thereby authenticated; throws `UNAUTHENTICATED` otherwise.
 *
 * @example
 * ```ts
 * const rumor = unwrapNip59(wrap, sk)
 * rumor.pubkey // the sender, proven by the seal's signature
 * ```
 */
export function unwrapNip59(wrap: Event, secretKey: Uint8Array): Rumor {
  const refuse = (reason: string, cause?: unknown) =>
    new AgoraError('UNAUTHENTICATED', `cannot open gift wrap ${wrap.id}: ${reason}`, cause === undefined ? {} : { cause })
  const keys = conversationKeys(secretKey)
  let seal: unknown
  try {
    seal = JSON.parse(nip44.decrypt(wrap.content, keys.oneOff(wrap.pubkey)))
  } catch (err) {
    throw refuse((err as Error).message, err)
  }
  if (!isSignedEvent(seal)) throw refuse('it holds no seal')
  if (seal.kind !== SEAL_KIND) throw refuse(`unexpected seal kind ${seal.kind}, expected ${SEAL_KIND}`)
  if (!checkEvent(seal)) throw refuse('seal signature is invalid')
  let rumor: unknown
  try {
    rumor = JSON.parse(nip44.decrypt(seal.content, keys.peer(seal.pubkey)))
  } catch (err) {
    throw refuse((err as Error).message, err)
  }
  const malformed = () => new AgoraError('UNAUTHENTICATED', `gift wrap ${wrap.id} holds a malformed event`)
  if (!validateEvent(rumor)) throw malformed()
  const { id, pubkey, kind, tags, content, created_at } = rumor as Rumor
  if (typeof id !== 'string' || !Number.isInteger(kind) || !Number.isInteger(created_at)) throw malformed()
  if (pubkey !== seal.pubkey) throw refuse(`rumor pubkey ${pubkey} does not match seal pubkey ${seal.pubkey}`)
  if (getEventHash({ pubkey, kind, tags, content, created_at }) !== id) throw malformed()
  return { id, pubkey, kind, tags, content, created_at }
}

/** A time up to two days back (seconds), from a CSPRNG. */
const randomPast = (): number => Math.floor(Date.now() / 1000) - randomInt(0, SPREAD_SECONDS + 1)
