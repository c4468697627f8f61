import { finalizeEvent, generateSecretKey, getPublicKey, verifyEvent } from 'nostr-tools/pure'
import { describe, expect, it } from 'vitest'
import { checkEvent, signEvent, useFastSigning } from '../src/index.ts'

describe('event signing backend', () => {
  it('signs events that pure nostr-tools verifies, and rejects tampered ones, with or without WebAssembly', async () => {
    const sk = generateSecretKey()
    const template = { kind: 5910, created_at: 1_700_000_000, tags: [['p', getPublicKey(sk)]], content: '{"a":1}' }
    const before = signEvent(template, sk)
    await useFastSigning()
    const after = signEvent(template, sk)
    expect(template).not.toHaveProperty('sig')
    for (const event of [before, after]) {
      const wire = JSON.parse(JSON.stringify(event))
      expect(wire.pubkey).toBe(getPublicKey(sk))
      expect(verifyEvent(JSON.parse(JSON.stringify(event)))).toBe(true)
      expect(checkEvent(wire)).toBe(true)
      expect(checkEvent({ ...JSON.parse(JSON.stringify(event)), content: '{"a":2}' })).toBe(false)
      expect(
        checkEvent({ ...JSON.parse(JSON.stringify(event)), sig: wire.sig.replace(/^./, (c: string) => (c === '0' ? '1' : '0')) }),
      ).toBe(false)
    }
    // Same id for the same template: both backends hash alike.
    expect(after.id).toBe(before.id)
  })

  it('remembers a verdict per object only while the event is unchanged, and never trusts a copied one', async () => {
    await useFastSigning()
    const sk = generateSecretKey()
    const event = signEvent({ kind: 5910, created_at: 1_700_000_000, tags: [], content: '{"a":1}' }, sk)
    const wire = JSON.parse(JSON.stringify(event))
    expect(checkEvent(wire)).toBe(true)
    expect(checkEvent(wire)).toBe(true)
    // Changed in place after a positive verdict: checked again, and refused.
    wire.content = '{"a":2}'
    expect(checkEvent(wire)).toBe(false)
    wire.content = '{"a":1}'
    expect(checkEvent(wire)).toBe(true)
    wire.tags.push(['p', getPublicKey(sk)])
    expect(checkEvent(wire)).toBe(false)
    // nostr-tools marks the events it signs as verified; a tampered copy of one is still refused.
    const pureSigned = finalizeEvent({ kind: 1, created_at: 1_700_000_000, tags: [], content: 'x' }, sk)
    expect(checkEvent({ ...pureSigned, content: 'y' })).toBe(false)
    expect(checkEvent(null as never)).toBe(false)
  })
})
