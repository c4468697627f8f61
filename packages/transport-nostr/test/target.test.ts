import { connect, parseTarget } from '@agora/client'
import { createFixtureServer } from '@agora/testing'
import { npubEncode } from 'nostr-tools/nip19'
import { generateSecretKey, getPublicKey } from 'nostr-tools/pure'
import { afterEach, describe, expect, it } from 'vitest'
import { NostrHarness } from './nostr-helpers.ts'

const PK = getPublicKey(generateSecretKey())

describe('nostr: targets', () => {
  const h = new NostrHarness()
  afterEach(() => h.closeAll())

  it('parses hex or npub pubkeys, an optional server id and one or more relays', () => {
    expect(parseTarget(`nostr:${PK}?relay=ws://127.0.0.1:7777`)).toEqual({
      kind: 'nostr',
      pubkey: PK,
      serverId: undefined,
      relays: ['ws://127.0.0.1:7777'],
    })
    const npub = npubEncode(PK)
    expect(parseTarget(`NOSTR:${npub}/weather?relay=ws://127.0.0.1:1&relay=wss://relay.example.com/path`)).toEqual({
      kind: 'nostr',
      pubkey: npub,
      serverId: 'weather',
      relays: ['ws://127.0.0.1:1', 'wss://relay.example.com/path'],
    })
  })

  it('refuses malformed targets with TARGET errors saying what is wrong', () => {
    expect(() => parseTarget('nostr:abc?relay=ws://x')).toThrow(/pubkey must be 64 hex/)
    expect(() => parseTarget(`nostr:${PK}`)).toThrow(/at least one relay/)
    expect(() => parseTarget(`nostr:${PK}?relay=http://x`)).toThrow(/not a ws:\/\/ or wss:\/\/ URL/)
    expect(() => parseTarget(`nostr:${PK}/?relay=ws://x`)).toThrow(/server id is empty/)
    expect(() => parseTarget('nostr:')).toThrow(expect.objectContaining({ code: 'TARGET' }))
  })

  it('connects and calls through connect("nostr:…")', async () => {
    const relay = await h.relay()
    const nostr = await h.serve(createFixtureServer().server, { relays: [relay.url], serverId: 'fixture' })
    const client = await connect(`nostr:${npubEncode(nostr.pubkey)}/fixture?relay=${relay.url}`)
    h.add(() => client.close())
    expect(client.server?.name).toBe('fixture')
    const result = await client.callTool('echo', { text: 'over nostr' })
    expect(result.content).toEqual([{ type: 'text', text: 'over nostr' }])
    const who = await client.callTool('whoami', {})
    expect(who.structuredContent).toMatchObject({
      kind: 'nostr',
      transport: 'nostr',
      id: expect.stringMatching(/^nostr:[0-9a-f]{64}$/),
    })
  })
})
