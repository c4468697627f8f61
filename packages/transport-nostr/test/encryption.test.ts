import { createServer } from '@agora/core'
import { createRumor, createSeal, createWrap } from 'nostr-tools/nip59'
import { generateSecretKey, getPublicKey } from 'nostr-tools/pure'
import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import { DVMCP_DRAFT, openEvent, sealMessage } from '../src/index.ts'
import { contentOf, nostrTestbed } from './nostr-helpers.ts'

const { request: REQ, response: RES, notification: NOTE, giftWrap: WRAP } = DVMCP_DRAFT.kinds
const now = () => Math.floor(Date.now() / 1000)

function whoServer() {
  const calls: string[] = []
  const server = createServer({ name: 'secret', version: '1.0.0' }).tool(
    'whoami',
    { description: 'Echoes the caller', input: z.object({ note: z.string() }) },
    ({ note }, ctx) => {
      calls.push(ctx.caller.id)
      return `${ctx.caller.id}: ${note}`
    },
  )
  return { server, calls }
}

const requestContent = (id: number, note: string) =>
  JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'whoami', arguments: { note } } })

const bed = nostrTestbed()
const { h } = bed

describe('NIP-59 encryption', () => {
  it('round-trips a call entirely inside gift wraps: nothing readable on the relay', async () => {
    const { server } = whoServer()
    const nostr = await h.serve(server, { relays: [bed.relay.url] })
    const sk = generateSecretKey()
    // No `since`: gift wraps are dated up to two days back (fresh keys, so nothing older shows up).
    const spy = await h.spy(bed.relay.url, { kinds: [REQ, RES, NOTE, WRAP], '#p': [nostr.pubkey, getPublicKey(sk)] })
    const { client, transport } = await h.client({
      relays: [bed.relay.url],
      serverPubkey: nostr.pubkey,
      encryption: 'required',
      secretKey: sk,
    })
    expect(transport.serverId).toBe('secret')
    const r = await client.callTool({ name: 'whoami', arguments: { note: 'top secret note' } })
    expect(r.content).toEqual([{ type: 'text', text: `nostr:${transport.pubkey}: top secret note` }])

    const mine = [...spy.events]
    expect(mine.length).toBeGreaterThanOrEqual(4) // initialize, initialized, call, and the answers
    expect(new Set(mine.map((e) => e.kind))).toEqual(new Set([WRAP]))
    for (const wrap of mine) {
      // Only the recipient is visible: no method, no e, no sender, no content in clear.
      expect(wrap.tags.map((t) => t[0])).toEqual(['p'])
      expect(wrap.pubkey).not.toBe(transport.pubkey)
      expect(wrap.pubkey).not.toBe(nostr.pubkey)
      expect(wrap.content).not.toContain('top secret')
      expect(wrap.content).not.toContain('whoami')
    }
    const toServer = mine.filter((e) => e.tags[0]?.[1] === nostr.pubkey)
    const toClient = mine.filter((e) => e.tags[0]?.[1] === transport.pubkey)
    expect(toServer.length).toBeGreaterThanOrEqual(3)
    expect(toClient.length).toBeGreaterThanOrEqual(2)
  })

  it('answers a plaintext client in plaintext and an encrypted one encrypted (optional mode)', async () => {
    const nostr = await h.serve(whoServer().server, { relays: [bed.relay.url] })
    const plain = await h.client({ relays: [bed.relay.url], serverPubkey: nostr.pubkey })
    const wrapped = await h.client({ relays: [bed.relay.url], serverPubkey: nostr.pubkey, encryption: 'required' })
    const spy = await h.spy(bed.relay.url, [
      { kinds: [RES, WRAP], '#p': [plain.transport.pubkey] },
      { kinds: [RES, WRAP], '#p': [wrapped.transport.pubkey] },
    ])
    await plain.client.callTool({ name: 'whoami', arguments: { note: 'a' } })
    await wrapped.client.callTool({ name: 'whoami', arguments: { note: 'b' } })
    const to = (pk: string) => spy.events.filter((e) => e.tags.some((t) => t[0] === 'p' && t[1] === pk)).map((e) => e.kind)
    expect(new Set(to(plain.transport.pubkey))).toEqual(new Set([RES]))
    expect(new Set(to(wrapped.transport.pubkey))).toEqual(new Set([WRAP]))
  })

  it('a server with encryption required refuses plaintext requests', async () => {
    const { server, calls } = whoServer()
    const nostr = await h.serve(server, { relays: [bed.relay.url], encryption: 'required' })
    const err = await h.client({ relays: [bed.relay.url], serverPubkey: nostr.pubkey }).catch((e: unknown) => e)
    expect(err).toMatchObject({ code: -31403, message: expect.stringContaining('only accepts encrypted') })
    expect(calls).toEqual([])
  })

  it('rejects a wrap whose inner event claims another pubkey than the seal signer', async () => {
    const { server, calls } = whoServer()
    const nostr = await h.serve(server, { relays: [bed.relay.url] })
    const victim = generateSecretKey()
    const attacker = generateSecretKey()
    const spy = await h.spy(bed.relay.url, [
      { kinds: [RES, WRAP], '#p': [getPublicKey(victim)] },
      { kinds: [RES, WRAP], '#p': [getPublicKey(attacker)] },
    ])
    const template = {
      kind: REQ,
      created_at: now(),
      tags: [
        ['method', 'tools/call'],
        ['p', nostr.pubkey],
      ],
      content: requestContent(1, 'spoofed'),
    }
    // A rumor authored by the victim, sealed (signed) by the attacker.
    const rumor = createRumor(template, victim)
    const seal = createSeal(rumor, attacker, nostr.pubkey)
    await nostr.pool.publish(createWrap(seal, nostr.pubkey))
    // A proper one from the attacker, as a control: it is answered, so the forged one had its chance.
    const honest = sealMessage(DVMCP_DRAFT, { ...template, content: requestContent(2, 'honest') }, attacker, nostr.pubkey, true)
    await nostr.pool.publish(honest.event)
    await expect.poll(() => calls).toEqual([`nostr:${getPublicKey(attacker)}`])
    const answer = await spy.waitFor((e) => e.kind === WRAP && e.tags[0]?.[1] === getPublicKey(attacker))
    const opened = openEvent(DVMCP_DRAFT, answer, attacker)
    expect(opened).toMatchObject({ pubkey: nostr.pubkey, kind: RES, encrypted: true })
    expect(opened.tags).toEqual([
      ['e', honest.id],
      ['p', getPublicKey(attacker)],
    ])
    expect(contentOf(opened as never)).toMatchObject({
      id: 2,
      result: { content: [{ text: `nostr:${getPublicKey(attacker)}: honest` }] },
    })
    await new Promise((r) => setTimeout(r, 100))
    expect(spy.events.filter((e) => e.tags[0]?.[1] === getPublicKey(victim))).toEqual([])
  })

  it('openEvent refuses a wrap for someone else and a wrap with a tampered inner event', async () => {
    const sender = generateSecretKey()
    const recipient = generateSecretKey()
    const template = { kind: REQ, created_at: now(), tags: [['p', getPublicKey(recipient)]], content: '{}' }
    const { event, id } = sealMessage(DVMCP_DRAFT, template, sender, getPublicKey(recipient), true)
    expect(openEvent(DVMCP_DRAFT, event, recipient)).toMatchObject({ id, pubkey: getPublicKey(sender), encrypted: true })
    expect(() => openEvent(DVMCP_DRAFT, event, generateSecretKey())).toThrow(/cannot open gift wrap/)
    // A rumor whose id does not match its content.
    const rumor = { ...createRumor(template, sender), content: '{"changed":true}' }
    const wrap = createWrap(createSeal(rumor, sender, getPublicKey(recipient)), getPublicKey(recipient))
    expect(() => openEvent(DVMCP_DRAFT, wrap, recipient)).toThrow(/malformed event/)
  })
})
