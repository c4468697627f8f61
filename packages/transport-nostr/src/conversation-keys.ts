import type { KeyObject } from 'node:crypto'
import { createHmac, createPrivateKey, createPublicKey, diffieHellman, generateKeyPairSync, getCurves } from 'node:crypto'
import { AgoraError } from '@agora/core/errors'
import { v2 as nip44 } from 'nostr-tools/nip44'
import { generateSecretKey, getPublicKey } from 'nostr-tools/pure'

/**
 * NIP-44 v2 conversation keys (ECDH, then HKDF-extract with salt `nip44-v2`), fast.
 *
 * Why not `nip44.utils.getConversationKey` alone: it is noble's pure-JS secp256k1, about 2–4 ms
 * per call, and a gift-wrapped call needs several. Here:
 * - the shared point comes from Node's native secp256k1 (OpenSSL, `crypto.diffieHellman`, about
 *   8× faster), with nostr-tools' function as the fallback where OpenSSL lacks the curve;
 * - keys with long-lived peers (the NIP-59 seal layer) are cached per secret key;
 * - keys with one-off peers (a gift wrap's throwaway signer) cannot be cached and are computed.
 *
 * The HKDF-extract step is one HMAC-SHA256 (RFC 5869: extract = HMAC(salt, ikm)). nostr-wasm has no
 * ECDH, and noble's precomputed tables would need `@noble/curves` as a direct dependency.
 */
export interface ConversationKeys {
  /** The public key (hex) of the secret key these are for. */
  readonly pubkey: string
  /** The conversation key with a long-lived peer: cached (the most recent peers are kept). */
  peer(pubkey: string): Uint8Array
  /** The conversation key with a one-off key (a gift wrap's signer): computed every time. */
  oneOff(pubkey: string): Uint8Array
}

/** Peers whose conversation key is kept, per secret key. */
const MAX_CACHED_PEERS = 4096
const HEX64 = /^[0-9a-f]{64}$/
const NATIVE = getCurves().includes('secp256k1')
/** DER prefixes of a secp256k1 SPKI public key (compressed point) and a PKCS#8 private key without its public part. */
const SPKI_PREFIX = Buffer.from('3036301006072a8648ce3d020106052b8104000a032200', 'hex')
const PKCS8_PREFIX = Buffer.from('303e020100301006072a8648ce3d020106052b8104000a042730250201010420', 'hex')
const SALT = 'nip44-v2'

const contexts = new WeakMap<Uint8Array, Context>()

/**
 * The conversation keys of `secretKey`, built once per key object (the same bytes are expected on
 * each call; a key changed in place is noticed and rebuilt).
 *
 * @example
 * ```ts
 * const keys = conversationKeys(sk)
 * const content = nip44.encrypt(JSON.stringify(rumor), keys.peer(recipient))
 * ```
 */
export function conversationKeys(secretKey: Uint8Array): ConversationKeys {
  let context = contexts.get(secretKey)
  if (!context?.holds(secretKey)) {
    context = new Context(secretKey)
    contexts.set(secretKey, context)
  }
  return context
}

/**
 * A fresh random secret key and its conversation key with `recipient`: what signs and encrypts a
 * gift wrap (a new key per message, so nothing links two wraps to one sender).
 *
 * @example
 * ```ts
 * const { secretKey, conversationKey } = throwawayKey(recipient)
 * const wrap = signEvent({ kind: 1059, content: nip44.encrypt(seal, conversationKey), tags, created_at }, secretKey)
 * ```
 */
export function throwawayKey(recipient: string): { secretKey: Uint8Array; conversationKey: Uint8Array } {
  if (!NATIVE) {
    const secretKey = generateSecretKey()
    return { secretKey, conversationKey: nip44.utils.getConversationKey(secretKey, recipient) }
  }
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'secp256k1' })
  const d = Buffer.from(privateKey.export({ format: 'jwk' }).d ?? '', 'base64url')
  const secretKey = new Uint8Array(32)
  secretKey.set(d, 32 - d.length)
  return { secretKey, conversationKey: derive(privateKey, recipient) }
}

class Context implements ConversationKeys {
  readonly pubkey: string
  readonly #secretKey: Uint8Array
  readonly #private: KeyObject | undefined
  readonly #peers = new Map<string, Uint8Array>()

  constructor(secretKey: Uint8Array) {
    this.#secretKey = Uint8Array.from(secretKey)
    this.pubkey = getPublicKey(secretKey)
    this.#private = NATIVE
      ? createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, secretKey]), format: 'der', type: 'pkcs8' })
      : undefined
  }

  holds(secretKey: Uint8Array): boolean {
    return Buffer.compare(this.#secretKey, secretKey) === 0
  }

  peer(pubkey: string): Uint8Array {
    const cached = this.#peers.get(pubkey)
    if (cached) {
      // Most recently used last: the first entry is the one to evict.
      this.#peers.delete(pubkey)
      this.#peers.set(pubkey, cached)
      return cached
    }
    const key = this.oneOff(pubkey)
    this.#peers.set(pubkey, key)
    if (this.#peers.size > MAX_CACHED_PEERS) this.#peers.delete(this.#peers.keys().next().value as string)
    return key
  }

  oneOff(pubkey: string): Uint8Array {
    return this.#private ? derive(this.#private, pubkey) : nip44.utils.getConversationKey(this.#secretKey, pubkey)
  }
}

/** ECDH x-coordinate with the even-y point of `pubkey` (as NIP-44 lifts it), then HKDF-extract. */
function derive(privateKey: KeyObject, pubkey: string): Uint8Array {
  if (!HEX64.test(pubkey)) throw new AgoraError('INVALID_PARAMS', `not a Nostr public key: ${JSON.stringify(pubkey)}`)
  // Throws for an x that is not on the curve, as noble does.
  const publicKey = createPublicKey({
    key: Buffer.concat([SPKI_PREFIX, Buffer.from(`02${pubkey}`, 'hex')]),
    format: 'der',
    type: 'spki',
  })
  const sharedX = diffieHellman({ privateKey, publicKey })
  return new Uint8Array(createHmac('sha256', SALT).update(sharedX).digest())
}
