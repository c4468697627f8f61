import { createServer, silentLogger } from '@agora/core'
import { EncryptionMode, NostrServerTransport, PrivateKeySigner } from '@contextvm/sdk'
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js'
import {
  InitializeResultSchema,
  ListPromptsResultSchema,
  ListResourcesResultSchema,
  ListResourceTemplatesResultSchema,
  ListToolsResultSchema,
} from '@modelcontextprotocol/sdk/types.js'
import type { Event } from 'nostr-tools/pure'
import { generateSecretKey, getPublicKey } from 'nostr-tools/pure'
import { bytesToHex, normalizeURL } from 'nostr-tools/utils'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { z } from 'zod'
import type { NostrAnnouncement } from '../src/announce/announce.ts'
import { announceNostr } from '../src/announce/announce.ts'
import { CONTEXTVM } from '../src/contextvm/profile.ts'
import type { DiscoveryRejection } from '../src/discover/discover.ts'
import { discoverNostr } from '../src/discover/discover.ts'
import type { RelayHandle } from '../src/relay/index.ts'
import { startRelay } from '../src/relay/index.ts'
import { eventually, fetchEvents } from './nostr-helpers.ts'

const SCHEMAS: Record<number, { safeParse(v: unknown): { success: boolean } }> = {
  11316: InitializeResultSchema,
  11317: ListToolsResultSchema,
  11318: ListResourcesResultSchema,
  11319: ListResourceTemplatesResultSchema,
  11320: ListPromptsResultSchema,
}
const KINDS = Object.keys(SCHEMAS).map(Number)

let relay: RelayHandle
let theirServer: McpServer
let announcement: NostrAnnouncement
const theirKey = generateSecretKey()
const ourKey = generateSecretKey()

/** The same capabilities announced twice on one relay: by @contextvm/sdk, and by announceNostr with CONTEXTVM. */
beforeAll(async () => {
  relay = await startRelay({ port: 0, logger: silentLogger })
  // Theirs: McpServer + NostrServerTransport with isAnnouncedServer.
  theirServer = new McpServer({ name: 'calc', version: '1.0.0' })
  theirServer.registerTool('add', { description: 'Adds', inputSchema: { a: z.number() } }, async () => ({ content: [] }))
  theirServer.registerResource('readme', 'calc://readme', { description: 'Docs' }, async (uri) => ({
    contents: [{ uri: uri.href, text: 'hi' }],
  }))
  theirServer.registerPrompt('explain', { description: 'Explains' }, async () => ({ messages: [] }))
  await theirServer.connect(
    new NostrServerTransport({
      signer: new PrivateKeySigner(bytesToHex(theirKey)),
      relayHandler: [relay.url],
      encryptionMode: EncryptionMode.OPTIONAL,
      isAnnouncedServer: true,
      serverInfo: { name: 'Calc', about: 'Adds numbers' },
      bootstrapRelayUrls: [],
      publishRelayList: false,
      logLevel: 'silent',
    }),
  )
  // Ours: the same capabilities on an Agora definition.
  const ours = createServer({ name: 'calc', version: '1.0.0' })
    .tool('add', { description: 'Adds', input: z.object({ a: z.number() }), price: '5 sats' }, () => 'ok')
    .resource('calc://readme', { name: 'readme', description: 'Docs' }, () => 'hi')
    .prompt('explain', { description: 'Explains' }, () => 'Explain')
  announcement = await announceNostr(ours, {
    relays: [relay.url],
    secretKey: ourKey,
    profile: CONTEXTVM,
    name: 'Calc',
    about: 'Adds numbers',
    supportEncryption: true,
    logger: silentLogger,
  })
})
afterAll(async () => {
  await announcement?.close()
  await theirServer?.close()
  await relay?.close()
})

describe('ContextVM announcements (CEP-6)', () => {
  it('announceNostr with the CONTEXTVM profile publishes what @contextvm/sdk publishes for the same server', async () => {
    {
      const theirs = await eventually(async () => {
        const events = await fetchEvents(relay.url, { kinds: KINDS, authors: [getPublicKey(theirKey)] })
        expect(events.map((e) => e.kind).sort()).toEqual(KINDS)
        return events
      }, 5000)
      const mine = await fetchEvents(relay.url, { kinds: KINDS, authors: [getPublicKey(ourKey)] })
      expect(mine.map((e) => e.kind).sort()).toEqual(KINDS)

      for (const kind of KINDS) {
        const a = theirs.find((e) => e.kind === kind) as Event
        const b = mine.find((e) => e.kind === kind) as Event
        const [ca, cb] = [JSON.parse(a.content), JSON.parse(b.content)]
        // Bare results, no JSON-RPC envelope, valid for the SDK's own schemas.
        expect(cb).not.toHaveProperty('jsonrpc')
        expect(SCHEMAS[kind]?.safeParse(cb).success).toBe(true)
        expect(Object.keys(cb).sort()).toEqual(expect.arrayContaining(Object.keys(ca).filter((k) => k !== 'instructions')))
        // Replaceable events: no `d`, `s`, `k` or `t` tags; our tags are ones the SDK uses (plus CEP-8 `cap`).
        const theirTagNames = new Set([...a.tags.map((t) => t[0]), 'cap'])
        for (const tag of b.tags) expect(theirTagNames).toContain(tag[0])
      }
      const server = mine.find((e) => e.kind === 11316) as Event
      expect(server.tags).toEqual(
        expect.arrayContaining([
          ['name', 'Calc'],
          ['about', 'Adds numbers'],
          ['support_encryption'],
          ['cap', 'tool:add', '5', 'sats'],
        ]),
      )
      const tools = JSON.parse((mine.find((e) => e.kind === 11317) as Event).content)
      const theirTools = JSON.parse((theirs.find((e) => e.kind === 11317) as Event).content)
      expect(tools.tools.map((t: { name: string }) => t.name)).toEqual(theirTools.tools.map((t: { name: string }) => t.name))
    }
  })

  it('discoverNostr with the CONTEXTVM profile finds both servers, joined with their lists', async () => {
    const theirPubkey = getPublicKey(theirKey)
    const ourPubkey = getPublicKey(ourKey)
    // The SDK announces in the background: wait until its lists are all there.
    const found = await eventually(async () => {
      const servers = await discoverNostr({ relays: [relay.url], profile: CONTEXTVM, logger: silentLogger })
      expect(servers.find((s) => s.pubkey === theirPubkey)?.prompts).toHaveLength(1)
      return servers
    }, 5000)
    expect(found.map((s) => s.pubkey).sort()).toEqual([theirPubkey, ourPubkey].sort())
    for (const server of found) {
      expect(server).toMatchObject({
        serverId: '',
        profile: 'contextvm',
        name: 'Calc',
        about: 'Adds numbers',
        supportEncryption: true,
      })
      expect(server.initialize.serverInfo.name).toBe('calc')
      expect(server.tools.map((t) => t.name)).toEqual(['add'])
      expect(server.resources.map((r) => r.uri)).toEqual(['calc://readme'])
      expect(server.prompts.map((p) => p.name)).toEqual(['explain'])
      expect(server.relays).toEqual([normalizeURL(relay.url)])
    }
    expect(found.find((s) => s.pubkey === ourPubkey)?.prices).toEqual({ add: { amount: '5', asset: 'sats' } })
    expect(found.find((s) => s.pubkey === theirPubkey)?.prices).toBeUndefined()

    // Filters work on the bare lists (no `t` tags to query by).
    const rejections: DiscoveryRejection[] = []
    const options = {
      relays: [relay.url],
      profile: CONTEXTVM,
      logger: silentLogger,
      onReject: (r: DiscoveryRejection) => rejections.push(r),
    }
    expect((await discoverNostr({ ...options, tool: 'add', authors: [ourPubkey] })).map((s) => s.pubkey)).toEqual([ourPubkey])
    expect(await discoverNostr({ ...options, tool: 'subtract' })).toEqual([])
    expect(await discoverNostr({ ...options, capability: 'prompts', authors: [theirPubkey] })).toHaveLength(1)
    expect(rejections).toEqual([])
    // The DVMCP dialect reads other kinds: none of these.
    expect(await discoverNostr({ relays: [relay.url], logger: silentLogger })).toEqual([])
  })
})
