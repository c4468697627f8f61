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
import { AbstractRelay } from 'nostr-tools/abstract-relay'
import type { Filter } from 'nostr-tools/filter'
import type { Event } from 'nostr-tools/pure'
import { generateSecretKey, getPublicKey, verifyEvent } from 'nostr-tools/pure'
import { bytesToHex } from 'nostr-tools/utils'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { z } from 'zod'
import { announceNostr } from '../src/announce/announce.ts'
import { CONTEXTVM } from '../src/contextvm/profile.ts'
import type { RelayHandle } from '../src/relay/index.ts'
import { startRelay } from '../src/relay/index.ts'

/** Reads stored events straight from the relay with nostr-tools' relay client. */
async function fetchEvents(url: string, filter: Filter): Promise<Event[]> {
  const relay = await AbstractRelay.connect(url, { verifyEvent, websocketImplementation: WebSocket as never })
  try {
    return await new Promise<Event[]>((resolve, reject) => {
      const events: Event[] = []
      const sub = relay.subscribe([filter], {
        onevent: (e) => events.push(e),
        oneose: () => {
          resolve(events)
          sub.close()
        },
        onclose: (reason) => reject(new Error(reason)),
        eoseTimeout: 2000,
      })
    })
  } finally {
    relay.close()
  }
}

async function eventually<T>(check: () => Promise<T>, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    try {
      return await check()
    } catch (err) {
      if (Date.now() > deadline) throw err
      await new Promise((r) => setTimeout(r, 50))
    }
  }
}

const SCHEMAS: Record<number, { safeParse(v: unknown): { success: boolean } }> = {
  11316: InitializeResultSchema,
  11317: ListToolsResultSchema,
  11318: ListResourcesResultSchema,
  11319: ListResourceTemplatesResultSchema,
  11320: ListPromptsResultSchema,
}
const KINDS = Object.keys(SCHEMAS).map(Number)

let relay: RelayHandle
beforeAll(async () => {
  relay = await startRelay({ port: 0, logger: silentLogger })
})
afterAll(async () => {
  await relay?.close()
})

describe('ContextVM announcements (CEP-6)', () => {
  it('announceNostr with the CONTEXTVM profile publishes what @contextvm/sdk publishes for the same server', async () => {
    // Theirs: McpServer + NostrServerTransport with isAnnouncedServer.
    const theirKey = generateSecretKey()
    const theirServer = new McpServer({ name: 'calc', version: '1.0.0' })
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
    const ourKey = generateSecretKey()
    const ours = createServer({ name: 'calc', version: '1.0.0' })
      .tool('add', { description: 'Adds', input: z.object({ a: z.number() }), price: '5 sats' }, () => 'ok')
      .resource('calc://readme', { name: 'readme', description: 'Docs' }, () => 'hi')
      .prompt('explain', { description: 'Explains' }, () => 'Explain')
    const announcement = await announceNostr(ours, {
      relays: [relay.url],
      secretKey: ourKey,
      profile: CONTEXTVM,
      name: 'Calc',
      about: 'Adds numbers',
      supportEncryption: true,
      logger: silentLogger,
    })

    try {
      const theirs = await eventually(async () => {
        const events = await fetchEvents(relay.url, { kinds: KINDS, authors: [getPublicKey(theirKey)] })
        expect(events.map((e) => e.kind).sort()).toEqual(KINDS)
        return events
      })
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
    } finally {
      await announcement.close()
      await theirServer.close()
    }
  })
})
