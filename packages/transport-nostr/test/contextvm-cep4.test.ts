import { decryptMessage, encryptMessage } from '@contextvm/sdk/core'
import { PrivateKeySigner } from '@contextvm/sdk/signer'
import { v2 as nip44 } from 'nostr-tools/nip44'
import type { Event } from 'nostr-tools/pure'
import { finalizeEvent, generateSecretKey, getPublicKey, verifyEvent } from 'nostr-tools/pure'
import { bytesToHex } from 'nostr-tools/utils'
import { describe, expect, it } from 'vitest'
import { isCep4WrapKind, unwrapCep4, wrapCep4 } from '../src/contextvm/cep4.ts'
import { CONTEXTVM } from '../src/contextvm/profile.ts'

const sender = generateSecretKey()
const recipient = generateSecretKey()
const recipientPk = getPublicKey(recipient)
const now = () => Math.floor(Date.now() / 1000)
/** The event's JSON fields only (nostr-tools marks verified events with a symbol). */
const plain = (e: unknown): unknown => JSON.parse(JSON.stringify(e))

/** A signed kind-25910 request, as a ContextVM client sends it. */
function request(to = recipientPk, sk = sender): Event {
  return finalizeEvent(
    {
      kind: 25910,
      created_at: now(),
      tags: [['p', to]],
      content: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
    },
    sk,
  )
}

/** A CEP-4 envelope around any JSON, to build wraps our own `wrapCep4` would refuse to make. */
function wrapRaw(inner: unknown, to = recipientPk, kind = 1059): Event {
  const key = generateSecretKey()
  const content = nip44.encrypt(JSON.stringify(inner), nip44.utils.getConversationKey(key, to))
  return finalizeEvent({ kind, created_at: now(), tags: [['p', to]], content }, key)
}

describe('CEP-4 encryption', () => {
  it('round-trips a signed event through a 1059 wrap from a throwaway key, dated now', () => {
    const inner = request()
    const wrap = wrapCep4(inner, recipientPk)
    expect(wrap.kind).toBe(1059)
    expect(wrap.tags).toEqual([['p', recipientPk]])
    expect(wrap.pubkey).not.toBe(inner.pubkey)
    expect(verifyEvent(wrap)).toBe(true)
    expect(Math.abs(wrap.created_at - now())).toBeLessThanOrEqual(2)
    expect(wrap.content).not.toContain('tools/list')
    expect(plain(unwrapCep4(wrap, recipient))).toEqual(plain(inner))
  })

  it('makes ephemeral 21059 wraps and refuses other kinds', () => {
    const inner = request()
    const wrap = wrapCep4(inner, recipientPk, { kind: 21059 })
    expect(wrap.kind).toBe(21059)
    expect(unwrapCep4(wrap, recipient).id).toBe(inner.id)
    expect(() => wrapCep4(request(), recipientPk, { kind: 1060 as 1059 })).toThrow(/1059 or 21059/)
    expect(isCep4WrapKind(1059) && isCep4WrapKind(21059) && !isCep4WrapKind(25910)).toBe(true)
    expect(CONTEXTVM.giftWrapKinds).toEqual([1059, 21059])
  })

  it('rejects an inner event whose content, signature or author was tampered with', () => {
    const inner = request()
    const tamperedContent = { ...inner, content: inner.content.replace('tools/list', 'tools/call') }
    const tamperedSig = { ...inner, sig: inner.sig.replace(/^./, (c) => (c === '0' ? '1' : '0')) }
    // A forged author: a valid event of someone else, claimed for another pubkey.
    const forgedAuthor = { ...inner, pubkey: getPublicKey(generateSecretKey()) }
    for (const bad of [tamperedContent, tamperedSig, forgedAuthor]) {
      expect(() => unwrapCep4(wrapRaw(bad), recipient)).toThrow(expect.objectContaining({ code: 'UNAUTHENTICATED' }))
    }
    // The untampered event in the same kind of envelope opens.
    expect(unwrapCep4(wrapRaw(inner), recipient).id).toBe(inner.id)
  })

  it('rejects wraps that are not for us, hold no event, or are not wraps', () => {
    const other = generateSecretKey()
    expect(() => unwrapCep4(wrapCep4(request(), recipientPk), other)).toThrow(/cannot open gift wrap/)
    expect(() => unwrapCep4(wrapRaw({ hello: 'world' }), recipient)).toThrow(/holds no Nostr event/)
    expect(() => unwrapCep4(wrapRaw('just a string'), recipient)).toThrow(/holds no Nostr event/)
    expect(() => unwrapCep4(request(), recipient)).toThrow(/not a CEP-4 gift wrap/)
  })

  it('rejects a signed event addressed to someone else and re-wrapped to us, unless told not to check', () => {
    const third = getPublicKey(generateSecretKey())
    const meantForThird = request(third)
    const replay = wrapCep4(meantForThird, recipientPk)
    expect(() => unwrapCep4(replay, recipient)).toThrow(/addressed to someone else/)
    expect(unwrapCep4(replay, recipient, { requireAddressed: false }).id).toBe(meantForThird.id)
  })

  it('opens wraps made by @contextvm/sdk (both wrap kinds)', () => {
    const inner = request()
    for (const kind of [1059, 21059]) {
      const theirs = encryptMessage(JSON.stringify(inner), recipientPk, kind) as unknown as Event
      expect(theirs.kind).toBe(kind)
      expect(plain(unwrapCep4(theirs, recipient))).toEqual(plain(inner))
    }
  })

  it('makes wraps @contextvm/sdk opens', async () => {
    const inner = request()
    const signer = new PrivateKeySigner(bytesToHex(recipient))
    for (const kind of [1059, 21059] as const) {
      const ours = wrapCep4(inner, recipientPk, { kind })
      const plaintext = await decryptMessage(ours as Parameters<typeof decryptMessage>[0], signer)
      const opened = JSON.parse(plaintext) as Event
      expect(opened).toEqual(plain(inner))
      expect(verifyEvent(opened)).toBe(true)
    }
  })
})
