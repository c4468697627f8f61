import { v2 as nip44 } from 'nostr-tools/nip44'
import { createRumor, createSeal, createWrap, unwrapEvent, wrapEvent } from 'nostr-tools/nip59'
import { finalizeEvent, generateSecretKey, getPublicKey, verifyEvent } from 'nostr-tools/pure'
import { beforeAll, describe, expect, it } from 'vitest'
import { conversationKeys, throwawayKey } from '../src/conversation-keys.ts'
import { unwrapNip59, useFastSigning, wrapNip59 } from '../src/index.ts'

const sender = generateSecretKey()
const recipient = generateSecretKey()
const recipientPk = getPublicKey(recipient)
const now = () => Math.floor(Date.now() / 1000)
const TWO_DAYS = 2 * 24 * 60 * 60
const template = () => ({ kind: 5910, created_at: now(), tags: [['p', recipientPk]], content: '{"jsonrpc":"2.0","id":1}' })
/** The event's JSON fields only (nostr-tools marks events it verified with a symbol). */
const plain = (e: unknown): unknown => JSON.parse(JSON.stringify(e))

beforeAll(() => useFastSigning())

describe('NIP-44 conversation keys', () => {
  it('equal nostr-tools’ for long-lived peers, one-off keys and throwaway keys', () => {
    const keys = conversationKeys(sender)
    expect(keys.pubkey).toBe(getPublicKey(sender))
    const expected = nip44.utils.getConversationKey(sender, recipientPk)
    expect(keys.peer(recipientPk)).toEqual(expected)
    expect(keys.peer(recipientPk)).toBe(keys.peer(recipientPk)) // cached
    expect(keys.oneOff(recipientPk)).toEqual(expected)
    for (let i = 0; i < 5; i++) {
      const { secretKey, conversationKey } = throwawayKey(recipientPk)
      expect(secretKey).toHaveLength(32)
      expect(conversationKey).toEqual(nip44.utils.getConversationKey(secretKey, recipientPk))
    }
    expect(throwawayKey(recipientPk).secretKey).not.toEqual(throwawayKey(recipientPk).secretKey)
  })

  it('refuses what is not a public key, and notices a secret key changed in place', () => {
    const keys = conversationKeys(generateSecretKey())
    expect(() => keys.oneOff('zz')).toThrow(/not a Nostr public key/)
    // 64 hex digits, but no point on the curve has this x.
    expect(() => keys.oneOff('f'.repeat(64))).toThrow()
    const mutable = generateSecretKey()
    const before = conversationKeys(mutable).pubkey
    mutable.set(generateSecretKey())
    expect(conversationKeys(mutable).pubkey).not.toBe(before)
    expect(conversationKeys(mutable).pubkey).toBe(getPublicKey(mutable))
  })
})

describe('NIP-59 gift wraps', () => {
  it('makes wraps nostr-tools opens: seal signed by the sender, throwaway wrap key, only `p`, dates spread back', () => {
    const wraps = Array.from({ length: 12 }, () => wrapNip59(template(), sender, recipientPk))
    for (const { wrap, rumor } of wraps) {
      expect(wrap.kind).toBe(1059)
      expect(wrap.tags).toEqual([['p', recipientPk]])
      expect(wrap.pubkey).not.toBe(getPublicKey(sender))
      expect(verifyEvent(plain(wrap) as never)).toBe(true)
      expect(wrap.created_at).toBeLessThanOrEqual(now())
      expect(wrap.created_at).toBeGreaterThanOrEqual(now() - TWO_DAYS - 1)
      const opened = unwrapEvent(plain(wrap) as never, recipient)
      expect(opened).toEqual({ ...template(), created_at: opened.created_at, pubkey: getPublicKey(sender), id: rumor.id })
    }
    // Randomised: twelve wraps do not share one date.
    expect(new Set(wraps.map((w) => w.wrap.created_at)).size).toBeGreaterThan(1)
    // Every wrap is signed by a key of its own.
    expect(new Set(wraps.map((w) => w.wrap.pubkey)).size).toBe(wraps.length)
  })

  it('opens wraps nostr-tools makes, authenticating the sender', () => {
    const wrap = wrapEvent(template(), sender, recipientPk)
    const rumor = unwrapNip59(plain(wrap) as never, recipient)
    expect(rumor.pubkey).toBe(getPublicKey(sender))
    expect(rumor.content).toBe(template().content)
    expect(() => unwrapNip59(plain(wrap) as never, generateSecretKey())).toThrow(/cannot open gift wrap/)
  })

  it('refuses a seal with a bad signature, a seal of another kind, and a rumor claiming another author', () => {
    const rumor = createRumor(template(), sender)
    const seal = plain(createSeal(rumor, sender, recipientPk)) as ReturnType<typeof createSeal>
    const badSig = { ...seal, sig: seal.sig.replace(/^./, (c) => (c === '0' ? '1' : '0')) }
    expect(() => unwrapNip59(createWrap(badSig, recipientPk), recipient)).toThrow(/seal signature is invalid/)

    const content = nip44.encrypt(JSON.stringify(rumor), nip44.utils.getConversationKey(sender, recipientPk))
    const kind14 = finalizeEvent({ kind: 14, created_at: now(), tags: [], content }, sender)
    expect(() => unwrapNip59(createWrap(kind14, recipientPk), recipient)).toThrow(/unexpected seal kind 14/)

    const impostor = generateSecretKey()
    const spoofed = createWrap(createSeal(rumor, impostor, recipientPk), recipientPk)
    expect(() => unwrapNip59(spoofed, recipient)).toThrow(/does not match seal pubkey/)
    // The untampered wrap opens.
    expect(unwrapNip59(createWrap(seal, recipientPk), recipient).id).toBe(rumor.id)
  })
})
