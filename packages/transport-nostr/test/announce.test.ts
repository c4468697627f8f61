import type { AgoraServer } from '@agora/core'
import { createSdkServer, createServer, silentLogger } from '@agora/core'
import { AgoraError } from '@agora/core/errors'
import { Client, InMemoryTransport } from '@modelcontextprotocol/client'
import type { Event } from 'nostr-tools/pure'
import { generateSecretKey, getPublicKey, verifyEvent } from 'nostr-tools/pure'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { z } from 'zod'
import type { NostrAnnouncement } from '../src/announce/announce.ts'
import { announceNostr } from '../src/announce/announce.ts'
import type { RelayHandle } from '../src/relay/index.ts'
import { startRelay } from '../src/relay/index.ts'
import { eventually, fetchEvents } from './nostr-helpers.ts'

/** What a real SDK client sees of the server: the reference the announcement must equal. */
async function clientView(server: AgoraServer) {
  const [a, b] = InMemoryTransport.createLinkedPair()
  const sdk = createSdkServer(server, { transport: 'memory', logger: silentLogger })
  await sdk.connect(a)
  const client = new Client({ name: 'reference', version: '1.0.0' })
  await client.connect(b)
  const view = {
    protocolVersion: client.getNegotiatedProtocolVersion(),
    capabilities: client.getServerCapabilities(),
    serverInfo: client.getServerVersion(),
    instructions: client.getInstructions(),
    tools: (await client.listTools()).tools,
    resources: (await client.listResources()).resources,
    resourceTemplates: (await client.listResourceTemplates()).resourceTemplates,
    prompts: (await client.listPrompts()).prompts,
  }
  await client.close()
  await sdk.close()
  return view
}

function weatherServer(): AgoraServer {
  return createServer({ name: 'weather', version: '1.2.0', instructions: 'Ask for a city.' })
    .tool(
      'forecast',
      { description: 'Forecast for a city', input: z.object({ city: z.string() }), price: '0.01 USDC' },
      ({ city }) => `sunny in ${city}`,
    )
    .tool('alerts', { description: 'Weather alerts' }, () => 'none')
    .resource('weather://stations', { name: 'stations', description: 'All stations', mimeType: 'application/json' }, () => '[]')
    .resourceTemplate(
      'weather://station/{id}',
      { name: 'station', description: 'One station' },
      (_uri, { id }) => `station ${String(id)}`,
    )
    .prompt(
      'plan-trip',
      { description: 'Plans a trip', args: z.object({ city: z.string() }) },
      ({ city }) => `Plan a trip to ${city}`,
    )
}

const parse = (event: Event | undefined) => JSON.parse(event?.content ?? 'null')
const byKind = (events: Event[], kind: number) => events.filter((e) => e.kind === kind)

let relay: RelayHandle
const open: NostrAnnouncement[] = []
/** Deletion requests (kind 5) the relay received. */
const deleted: Event[] = []
beforeAll(async () => {
  const recordDeletions = {
    beforeHandleEvent(event: Event) {
      if (event.kind === 5) deleted.push(event)
      return { canHandle: true }
    },
  }
  relay = await startRelay({ port: 0, logger: silentLogger, plugins: [recordDeletions] })
})
afterEach(async () => {
  for (const a of open.splice(0)) await a.close()
})
afterAll(async () => {
  await relay.close()
})

describe('announceNostr', () => {
  it('publishes 31316–31319 in the DVMCP shape, with content equal to what the real server answers', async () => {
    const server = weatherServer()
    const sk = generateSecretKey()
    const announcement = await announceNostr(server, {
      relays: [relay.url],
      secretKey: sk,
      serverId: 'weather-1',
      name: 'Weather',
      about: 'Forecasts for any city',
      picture: 'https://example.com/w.png',
      website: 'https://example.com',
      supportEncryption: true,
      logger: silentLogger,
    })
    open.push(announcement)
    const pubkey = getPublicKey(sk)
    expect(announcement.pubkey).toBe(pubkey)
    expect(announcement.serverId).toBe('weather-1')

    const stored = await fetchEvents(relay.url, { authors: [pubkey], kinds: [31316, 31317, 31318, 31319] })
    expect(stored.map((e) => e.kind).sort()).toEqual([31316, 31317, 31318, 31318, 31319])
    for (const event of stored) expect(verifyEvent({ ...event })).toBe(true)
    const reference = await clientView(server)

    const [serverEvent] = byKind(stored, 31316)
    expect(serverEvent?.tags).toEqual([
      ['d', 'weather-1'],
      ['k', '5910'],
      ['name', 'Weather'],
      ['about', 'Forecasts for any city'],
      ['picture', 'https://example.com/w.png'],
      ['website', 'https://example.com'],
      ['support_encryption', 'true'],
    ])
    const init = parse(serverEvent)
    expect(init).toEqual({
      jsonrpc: '2.0',
      id: 1,
      result: {
        protocolVersion: reference.protocolVersion,
        capabilities: reference.capabilities,
        serverInfo: reference.serverInfo,
        instructions: 'Ask for a city.',
      },
    })

    const [tools] = byKind(stored, 31317)
    expect(tools?.tags).toEqual([
      ['d', 'weather-1/tools/list'],
      ['s', 'weather-1'],
      ['t', 'forecast'],
      ['t', 'alerts'],
      ['cap', 'forecast', '0.01', 'USDC'],
    ])
    expect(parse(tools)).toEqual({ jsonrpc: '2.0', id: 1, result: { tools: reference.tools } })

    const resourceLists = byKind(stored, 31318)
    const resources = resourceLists.find((e) => e.tags[0]?.[1] === 'weather-1/resources/list')
    const templates = resourceLists.find((e) => e.tags[0]?.[1] === 'weather-1/resources/templates/list')
    expect(resources?.tags).toEqual([
      ['d', 'weather-1/resources/list'],
      ['s', 'weather-1'],
      ['t', 'stations'],
    ])
    expect(parse(resources)).toEqual({ jsonrpc: '2.0', id: 1, result: { resources: reference.resources } })
    expect(templates?.tags).toEqual([
      ['d', 'weather-1/resources/templates/list'],
      ['s', 'weather-1'],
      ['t', 'station'],
    ])
    expect(parse(templates)).toEqual({ jsonrpc: '2.0', id: 1, result: { resourceTemplates: reference.resourceTemplates } })

    const [prompts] = byKind(stored, 31319)
    expect(prompts?.tags).toEqual([
      ['d', 'weather-1/prompts/list'],
      ['s', 'weather-1'],
      ['t', 'plan-trip'],
    ])
    expect(parse(prompts)).toEqual({ jsonrpc: '2.0', id: 1, result: { prompts: reference.prompts } })

    // The handle reports exactly what was stored.
    expect(announcement.events.server.id).toBe(serverEvent?.id)
    expect(announcement.events.tools?.id).toBe(tools?.id)
  })

  it('publishes only the lists the server has, with the default server id and a custom request kind', async () => {
    const server = createServer({ name: 'Only Tools!', version: '1.0.0' }).tool('ping', {}, () => 'pong')
    const sk = generateSecretKey()
    open.push(await announceNostr(server, { relays: [relay.url], secretKey: sk, requestKind: 25910, logger: silentLogger }))
    const stored = await fetchEvents(relay.url, { authors: [getPublicKey(sk)] })
    expect(stored.map((e) => e.kind).sort()).toEqual([31316, 31317])
    const serverEvent = byKind(stored, 31316)[0]
    expect(serverEvent?.tags).toEqual([
      ['d', 'only-tools'],
      ['k', '25910'],
    ])
    expect(Object.keys(parse(serverEvent).result.capabilities).sort()).toEqual(['logging', 'tools'])
  })

  it('republishes changed lists after a definition change; the relay keeps only the newest version', async () => {
    const server = createServer({ name: 'grow', version: '1.0.0' }).tool('one', {}, () => '1')
    const sk = generateSecretKey()
    const pubkey = getPublicKey(sk)
    const announcement = await announceNostr(server, { relays: [relay.url], secretKey: sk, logger: silentLogger, debounceMs: 20 })
    open.push(announcement)
    const first = announcement.events

    server.tool('two', {}, () => '2').tool('three', {}, () => '3')
    server.prompt('hello', {}, () => 'hi')

    const stored = await eventually(async () => {
      const events = await fetchEvents(relay.url, { authors: [pubkey] })
      expect(byKind(events, 31319)).toHaveLength(1)
      expect(
        byKind(events, 31317)[0]
          ?.tags.filter((t) => t[0] === 't')
          .map((t) => t[1]),
      ).toEqual(['one', 'two', 'three'])
      return events
    })
    // One version per address: the relay replaced the old tools list and server announcement.
    expect(byKind(stored, 31317)).toHaveLength(1)
    expect(byKind(stored, 31316)).toHaveLength(1)
    const tools = byKind(stored, 31317)[0] as Event
    expect(tools.id).not.toBe(first.tools?.id)
    expect(tools.created_at).toBeGreaterThan(first.tools?.created_at ?? Infinity)
    expect(parse(tools).result.tools.map((t: { name: string }) => t.name)).toEqual(['one', 'two', 'three'])
    // The capabilities grew a `prompts` entry, so the server announcement changed too.
    const serverEvent = byKind(stored, 31316)[0] as Event
    expect(serverEvent.id).not.toBe(first.server.id)
    expect(parse(serverEvent).result.capabilities.prompts).toBeDefined()
    expect(announcement.events.tools?.id).toBe(tools.id)
  })

  it('republish() publishes every event again with a newer timestamp, replacing the old ones', async () => {
    const server = weatherServer()
    const sk = generateSecretKey()
    const announcement = await announceNostr(server, { relays: [relay.url], secretKey: sk, logger: silentLogger })
    open.push(announcement)
    const before = announcement.events
    const after = await announcement.republish()
    expect(after.server.created_at).toBeGreaterThan(before.server.created_at)
    expect(after.tools?.created_at).toBe(after.server.created_at)
    const stored = await fetchEvents(relay.url, { authors: [getPublicKey(sk)] })
    expect(stored.map((e) => e.id).sort()).toEqual(
      [after.server, after.tools, after.resources, after.resourceTemplates, after.prompts].map((e) => e?.id).sort(),
    )
  })

  it('close() stops following changes, and with delete withdraws every event (NIP-09)', async () => {
    const server = createServer({ name: 'gone', version: '1.0.0' })
      .tool('a', {}, () => 'a')
      .prompt('p', {}, () => 'p')
    const sk = generateSecretKey()
    const pubkey = getPublicKey(sk)
    const kept = await announceNostr(server, {
      relays: [relay.url],
      secretKey: sk,
      serverId: 'kept',
      logger: silentLogger,
      debounceMs: 10,
    })
    const withdrawn = await announceNostr(server, {
      relays: [relay.url],
      secretKey: sk,
      serverId: 'withdrawn',
      deleteOnClose: true,
      logger: silentLogger,
    })
    await kept.close()
    const keptTools = kept.events.tools?.id
    server.tool('b', {}, () => 'b')
    await new Promise((r) => setTimeout(r, 100))

    await withdrawn.close()
    // @nostr-relay applies deletions without storing or forwarding them: the plugin saw it arrive.
    const deletions = deleted.filter((e) => e.pubkey === pubkey)
    expect(deletions).toHaveLength(1)

    const stored = await fetchEvents(relay.url, { authors: [pubkey], kinds: [31316, 31317, 31318, 31319] })
    expect(stored.length).toBeGreaterThan(0)
    expect(stored.every((e) => e.tags.some((t) => t[0] === 'd' && t[1]?.startsWith('kept')))).toBe(true)
    expect(byKind(stored, 31317).map((e) => e.id)).toEqual([keptTools])
    expect(deletions[0]?.tags).toEqual([
      ['a', `31316:${pubkey}:withdrawn`],
      ['a', `31317:${pubkey}:withdrawn/tools/list`],
      ['a', `31319:${pubkey}:withdrawn/prompts/list`],
      ['k', '31316'],
      ['k', '31317'],
      ['k', '31319'],
    ])
    expect(deletions[0]?.created_at).toBeGreaterThanOrEqual(withdrawn.events.server.created_at)
  })

  it('tolerates a dead relay among several, and fails with CONNECTION when none takes the events', async () => {
    const dead = await startRelay({ port: 0, logger: silentLogger })
    await dead.close()
    const server = createServer({ name: 'resilient', version: '1.0.0' }).tool('a', {}, () => 'a')
    const sk = generateSecretKey()
    open.push(await announceNostr(server, { relays: [dead.url, relay.url], secretKey: sk, logger: silentLogger }))
    expect(await fetchEvents(relay.url, { authors: [getPublicKey(sk)] })).toHaveLength(2)

    const err = await announceNostr(server, { relays: [dead.url], secretKey: sk, logger: silentLogger }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(AgoraError)
    expect((err as AgoraError).code).toBe('CONNECTION')
  })

  it('rejects bad options with CONFIG, and an aborted signal with CANCELLED', async () => {
    const server = createServer({ name: 'x', version: '1.0.0' })
    const cases = [
      announceNostr(server, { relays: [], secretKey: generateSecretKey() }),
      announceNostr(server, { relays: [relay.url], secretKey: 'not a key' }),
      announceNostr(server, { relays: [relay.url], secretKey: generateSecretKey(), requestKind: 'abc' }),
    ]
    for (const c of cases) {
      const err = await c.catch((e: unknown) => e)
      expect((err as AgoraError).code).toBe('CONFIG')
    }
    const aborted = await announceNostr(server, {
      relays: [relay.url],
      secretKey: generateSecretKey(),
      signal: AbortSignal.abort(),
      logger: silentLogger,
    }).catch((e: unknown) => e)
    expect((aborted as AgoraError).code).toBe('CANCELLED')
  })
})
