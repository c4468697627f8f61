import type { AgoraServer } from '@agora/core'
import { createServer, silentLogger } from '@agora/core'
import { AgoraError } from '@agora/core/errors'
import type { Event, EventTemplate } from 'nostr-tools/pure'
import { finalizeEvent, generateSecretKey, getEventHash, getPublicKey } from 'nostr-tools/pure'
import { normalizeURL } from 'nostr-tools/utils'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { z } from 'zod'
import type { NostrAnnouncement } from '../src/announce/announce.ts'
import { announceNostr } from '../src/announce/announce.ts'
import type { DiscoveryRejection } from '../src/discover/discover.ts'
import { discoverNostr } from '../src/discover/discover.ts'
import type { RelayAnswer, RelayPool } from '../src/pool.ts'
import { createRelayPool } from '../src/pool.ts'
import type { RelayHandle } from '../src/relay/index.ts'
import { startRelay } from '../src/relay/index.ts'
import { serveNostr } from '../src/serve.ts'

const now = () => Math.floor(Date.now() / 1000)

/** Publishes one event over a raw WebSocket and returns the relay's OK answer. */
async function rawPublish(url: string, event: unknown): Promise<[string, string, boolean, string]> {
  const ws = new WebSocket(url)
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve())
    ws.once('error', reject)
  })
  try {
    return await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no OK from the relay')), 2000)
      ws.on('message', (data) => {
        const message = JSON.parse(data.toString()) as [string, string, boolean, string]
        if (message[0] === 'OK') {
          clearTimeout(timer)
          resolve(message)
        }
      })
      ws.send(JSON.stringify(['EVENT', event]))
    })
  } finally {
    ws.close()
  }
}

/** A signed event with the given content, e.g. a deliberately malformed announcement. */
const signed = (sk: Uint8Array, template: Omit<EventTemplate, 'created_at'>): Event =>
  finalizeEvent({ ...template, created_at: now() }, sk)

/** A plain JSON copy: what arrives over the wire (no cached verification flag). */
const wire = (event: Event): Event => JSON.parse(JSON.stringify(event)) as Event

function weather(): AgoraServer {
  return createServer({ name: 'weather', version: '1.0.0', title: 'Weather Service' })
    .tool('forecast', { description: 'Forecast', input: z.object({ city: z.string() }), price: '0.01 USDC' }, ({ city }) => city)
    .resource('weather://stations', { name: 'stations' }, () => '[]')
}

function notes(): AgoraServer {
  return createServer({ name: 'notes', version: '2.0.0' })
    .tool('search', { description: 'Search notes' }, () => 'none')
    .prompt('summarize', { description: 'Summarize a note' }, () => 'Summarize it')
}

const weatherKey = generateSecretKey()
const notesKey = generateSecretKey()
const brokenKey = generateSecretKey()
const weatherPubkey = getPublicKey(weatherKey)
const notesPubkey = getPublicKey(notesKey)
let relayA: RelayHandle
let relayB: RelayHandle
let deadUrl: string
const announcements: NostrAnnouncement[] = []

beforeAll(async () => {
  ;[relayA, relayB] = await Promise.all([
    startRelay({ port: 0, logger: silentLogger }),
    startRelay({ port: 0, logger: silentLogger }),
  ])
  const dead = await startRelay({ port: 0, logger: silentLogger })
  deadUrl = dead.url
  await dead.close()
  announcements.push(
    await announceNostr(weather(), {
      relays: [relayA.url, relayB.url],
      secretKey: weatherKey,
      serverId: 'weather',
      name: 'Weather',
      about: 'Forecasts',
      supportEncryption: true,
      logger: silentLogger,
    }),
    await announceNostr(notes(), { relays: [relayA.url], secretKey: notesKey, serverId: 'notes', logger: silentLogger }),
  )
})
afterAll(async () => {
  for (const a of announcements) await a.close()
  await Promise.all([relayA.close(), relayB.close()])
})

const byId = (servers: { serverId: string }[]) => servers.map((s) => s.serverId).sort()

describe('discoverNostr', () => {
  it('finds every announced server with its lists, prices, tags and the relays that have it', async () => {
    const found = await discoverNostr({ relays: [relayA.url, relayB.url], logger: silentLogger })
    expect(byId(found)).toEqual(['notes', 'weather'])
    const w = found.find((s) => s.serverId === 'weather')
    expect(w).toMatchObject({
      pubkey: weatherPubkey,
      name: 'Weather',
      about: 'Forecasts',
      supportEncryption: true,
      requestKinds: ['5910'],
      prices: { forecast: { amount: '0.01', asset: 'USDC' } },
      relays: [relayA.url, relayB.url].map(normalizeURL).sort(),
    })
    expect(w?.initialize.serverInfo).toEqual({ name: 'weather', version: '1.0.0', title: 'Weather Service' })
    expect(w?.tools.map((t) => t.name)).toEqual(['forecast'])
    expect(w?.tools[0]?.inputSchema.properties).toHaveProperty('city')
    expect(w?.resources.map((r) => r.uri)).toEqual(['weather://stations'])
    expect(w?.prompts).toEqual([])
    expect(w?.updatedAt).toBe(announcements[0]?.events.server.created_at)

    const n = found.find((s) => s.serverId === 'notes')
    expect(n).toMatchObject({ pubkey: notesPubkey, supportEncryption: false, relays: [normalizeURL(relayA.url)] })
    expect(n?.prices).toBeUndefined()
    expect(n?.prompts.map((p) => p.name)).toEqual(['summarize'])
  })

  it('filters by tool name, capability, server name and author', async () => {
    const relays = [relayA.url]
    const ask = (filter: Parameters<typeof discoverNostr>[0]) => discoverNostr({ relays, logger: silentLogger, ...filter })
    expect(byId(await ask({ tool: 'forecast' }))).toEqual(['weather'])
    expect(byId(await ask({ tool: 'search' }))).toEqual(['notes'])
    expect(await ask({ tool: 'no-such-tool' })).toEqual([])
    expect(byId(await ask({ capability: 'prompts' }))).toEqual(['notes'])
    expect(byId(await ask({ capability: 'resources' }))).toEqual(['weather'])
    expect(byId(await ask({ capability: 'tools' }))).toEqual(['notes', 'weather'])
    expect(byId(await ask({ name: 'WEATHER SERV' }))).toEqual(['weather'])
    expect(byId(await ask({ name: 'note' }))).toEqual(['notes'])
    expect(byId(await ask({ authors: [notesPubkey] }))).toEqual(['notes'])
    expect(byId(await ask({ tool: 'forecast', authors: [notesPubkey] }))).toEqual([])
    expect(byId(await ask({ serverId: 'weather' }))).toEqual(['weather'])
  })

  it('does not find a private server (served, never announced) until it is announced', async () => {
    const privateKey = generateSecretKey()
    const privatePubkey = getPublicKey(privateKey)
    const server = createServer({ name: 'private-weather', version: '1.0.0' }).tool('forecast', {}, () => 'secret')
    const served = await serveNostr(server, { relays: [relayA.url], secretKey: privateKey, logger: silentLogger })
    try {
      expect(await discoverNostr({ relays: [relayA.url], logger: silentLogger, authors: [privatePubkey] })).toEqual([])
      // Control: the same key and server, once announced (through the served pool), is found. By
      // tool: another relay filter, as @nostr-relay caches a filter's results for a second.
      const announced = await announceNostr(server, { pool: served.pool, secretKey: privateKey, logger: silentLogger })
      const found = await discoverNostr({
        relays: [relayA.url],
        logger: silentLogger,
        authors: [privatePubkey],
        tool: 'forecast',
      })
      await announced.close({ delete: true })
      expect(found.map((s) => [s.pubkey, s.serverId])).toEqual([[privatePubkey, 'private-weather']])
    } finally {
      await served.close()
    }
  })

  it('tolerates a dead relay among several; fails with CONNECTION when all are dead, CANCELLED when aborted', async () => {
    const found = await discoverNostr({ relays: [deadUrl, relayA.url], logger: silentLogger })
    expect(byId(found)).toEqual(['notes', 'weather'])
    expect(found.find((s) => s.serverId === 'weather')?.relays).toEqual([normalizeURL(relayA.url)])

    const err = await discoverNostr({ relays: [deadUrl], logger: silentLogger }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(AgoraError)
    expect((err as AgoraError).code).toBe('CONNECTION')

    const aborted = await discoverNostr({ relays: [relayA.url], logger: silentLogger, signal: AbortSignal.abort() }).catch(
      (e: unknown) => e,
    )
    expect((aborted as AgoraError).code).toBe('CANCELLED')
  })

  it('skips servers with malformed content and reports why, returning the others', async () => {
    const pubkey = getPublicKey(brokenKey)
    const bad: Event[] = [
      signed(brokenKey, {
        kind: 31316,
        content: 'not json at all',
        tags: [
          ['d', 'bad-json'],
          ['k', '5910'],
        ],
      }),
      signed(brokenKey, {
        kind: 31316,
        content: JSON.stringify({ jsonrpc: '2.0', id: 1, result: { protocolVersion: '2025-03-26', serverInfo: 'nope' } }),
        tags: [
          ['d', 'bad-shape'],
          ['k', '5910'],
        ],
      }),
      // A good announcement whose tools list is broken.
      signed(brokenKey, {
        kind: 31316,
        content: JSON.stringify({
          jsonrpc: '2.0',
          id: 1,
          result: { protocolVersion: '2025-03-26', capabilities: { tools: {} }, serverInfo: { name: 'x', version: '1' } },
        }),
        tags: [
          ['d', 'bad-list'],
          ['k', '5910'],
        ],
      }),
      signed(brokenKey, {
        kind: 31317,
        content: JSON.stringify({ jsonrpc: '2.0', id: 1, result: { tools: [{ description: 'no name' }] } }),
        tags: [
          ['d', 'bad-list/tools/list'],
          ['s', 'bad-list'],
          ['t', 'x'],
        ],
      }),
    ]
    // A separate relay, so the other tests do not see these.
    const relay = await startRelay({ port: 0, logger: silentLogger })
    try {
      for (const event of bad) expect((await rawPublish(relay.url, event))[2]).toBe(true)
      const good = await announceNostr(notes(), {
        relays: [relay.url],
        secretKey: notesKey,
        serverId: 'notes',
        logger: silentLogger,
      })
      const rejections: DiscoveryRejection[] = []
      const found = await discoverNostr({ relays: [relay.url], logger: silentLogger, onReject: (r) => rejections.push(r) })
      await good.close()
      expect(byId(found)).toEqual(['notes'])
      expect(rejections.every((r) => r.kind === 'malformed' && r.pubkey === pubkey)).toBe(true)
      const reasons = Object.fromEntries(rejections.map((r) => [r.serverId, r.reason]))
      expect(Object.keys(reasons).sort()).toEqual(['bad-json', 'bad-list', 'bad-shape'])
      expect(reasons['bad-json']).toMatch(/not JSON/)
      expect(reasons['bad-shape']).toMatch(/invalid initialize result/)
      expect(reasons['bad-list']).toMatch(/bad-list\/tools\/list: invalid tools list/)
    } finally {
      await relay.close()
    }
  })

  it('drops forged announcements: the relay refuses them, and discovery verifies what a relay hands over', async () => {
    const real = announcements[0]?.events.server as Event
    const evil = real.content.replace('"weather"', '"evil"')
    // A newer "version" rewritten by someone without the key: new id, the old signature.
    const rewritten = { ...real, created_at: real.created_at + 60, content: evil }
    const tampered = wire({ ...rewritten, id: getEventHash(rewritten) })
    // The same, keeping the original id (so the id no longer matches the content).
    const staleId = wire({ ...real, content: evil })
    // A well-formed event signed by another key, then relabelled with weather's pubkey.
    const otherKey = finalizeEvent({ kind: 31316, created_at: real.created_at + 60, tags: real.tags, content: evil }, brokenKey)
    const impersonated = wire({ ...otherKey, pubkey: weatherPubkey })

    for (const event of [tampered, impersonated]) {
      const [, , accepted, message] = await rawPublish(relayA.url, event)
      expect(accepted).toBe(false)
      expect(message).toMatch(/^invalid/)
    }
    // @nostr-relay answers a known id as a duplicate before checking it (OK true), storing nothing.
    await rawPublish(relayA.url, staleId)
    const honest = createRelayPool({ relays: [relayA.url] })
    const [stored] = await honest.queryEach({ kinds: [31316], authors: [weatherPubkey], '#d': ['weather'] })
    expect(stored && 'events' in stored ? stored.events.map((e) => e.content) : []).toEqual([real.content])

    // A relay that hands over forgeries anyway (a faked `query`): they are dropped and reported.
    const lying: Pick<RelayPool, 'queryEach'> = {
      async queryEach(filter, options) {
        const answers = await honest.queryEach(filter, options)
        const forged: RelayAnswer = { relay: 'ws://liar.invalid', events: [tampered, staleId, impersonated] }
        return filter.kinds?.includes(31316) ? [forged, ...answers] : answers
      },
    }
    const rejections: DiscoveryRejection[] = []
    try {
      const found = await discoverNostr({ pool: lying, logger: silentLogger, onReject: (r) => rejections.push(r) })
      const w = found.find((s) => s.serverId === 'weather')
      expect(w?.initialize.serverInfo.name).toBe('weather')
      expect(w?.updatedAt).toBe(real.created_at)
      expect(w?.relays).toEqual([normalizeURL(relayA.url)])
      expect(rejections.map((r) => [r.kind, r.eventId])).toEqual([
        ['forged', tampered.id],
        ['forged', staleId.id],
        ['forged', impersonated.id],
      ])
    } finally {
      honest.close()
    }
  })

  it('keeps the newest version per address and joins lists by author and server id', async () => {
    // A fresh relay: @nostr-relay caches a filter's results for a second.
    const relay = await startRelay({ port: 0, logger: silentLogger })
    const copycatKey = generateSecretKey()
    const copycatPubkey = getPublicKey(copycatKey)
    const options = { relays: [relay.url], logger: silentLogger, serverId: 'weather' }
    const original = await announceNostr(weather(), { ...options, secretKey: weatherKey })
    // Another provider reusing the id "weather" gets its own entry, with its own lists only.
    const copycat = await announceNostr(notes(), { ...options, secretKey: copycatKey })
    try {
      const first = copycat.events.server
      const latest = await copycat.republish()
      const found = await discoverNostr({ relays: [relay.url], logger: silentLogger })
      expect(found.map((s) => s.pubkey).sort()).toEqual([weatherPubkey, copycatPubkey].sort())
      const theirs = found.find((s) => s.pubkey === copycatPubkey)
      expect(theirs?.tools.map((t) => t.name)).toEqual(['search'])
      expect(theirs?.prompts.map((p) => p.name)).toEqual(['summarize'])
      expect(theirs?.updatedAt).toBe(latest.server.created_at)
      expect(latest.server.created_at).toBeGreaterThan(first.created_at)
      const ours = found.find((s) => s.pubkey === weatherPubkey)
      expect(ours?.tools.map((t) => t.name)).toEqual(['forecast'])
      expect(ours?.prompts).toEqual([])

      // A relay still holding the older version: the newer one wins, both relays are listed.
      const real = createRelayPool({ relays: [relay.url] })
      const withStale: Pick<RelayPool, 'queryEach'> = {
        async queryEach(filter, options) {
          const answers = await real.queryEach(filter, options)
          const stale: RelayAnswer = { relay: 'ws://stale.invalid', events: [wire(first)] }
          return filter.kinds?.includes(31316) ? [...answers, stale] : answers
        },
      }
      const merged = await discoverNostr({ pool: withStale, logger: silentLogger, authors: [copycatPubkey] })
      real.close()
      expect(merged).toHaveLength(1)
      expect(merged[0]?.updatedAt).toBe(latest.server.created_at)
      expect(merged[0]?.relays).toEqual([normalizeURL(relay.url), 'ws://stale.invalid'].sort())
    } finally {
      await Promise.all([original.close(), copycat.close()])
      await relay.close()
    }
  })
})
