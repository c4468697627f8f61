import { createServer, silentLogger } from '@agora/core'
import type { AgoraError } from '@agora/core/errors'
import { Client } from '@modelcontextprotocol/client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { z } from 'zod'
import type { Libp2pAnnouncement } from '../src/discovery/announce.ts'
import { announceLibp2p } from '../src/discovery/announce.ts'
import { DESCRIPTOR_PROTOCOL } from '../src/discovery/descriptor-protocol.ts'
import { signPeerDescriptor } from '../src/discovery/descriptor-signature.ts'
import type { DiscoveredServer } from '../src/discovery/find.ts'
import { discoverLibp2p, findLibp2pServers } from '../src/discovery/find.ts'
import { serviceKey } from '../src/discovery/keys.ts'
import { connectLibp2p } from '../src/index.ts'
import type { AgoraNode } from '../src/node.ts'
import { createAgoraNode, nodePrivateKey } from '../src/node.ts'
import { serveLibp2p } from '../src/serve.ts'
import type { TestNetwork } from './discovery-helpers.ts'
import { LOOPBACK_ALLOWED, startNetwork } from './discovery-helpers.ts'

const weather = createServer({ name: 'weather', version: '1.0.0' })
  .tool(
    'current-weather',
    { description: 'Weather now', input: z.object({ city: z.string() }) },
    ({ city }) => `Sunny in ${city}`,
  )
  .tool('forecast', { description: 'Ten days ahead', input: z.object({ city: z.string() }), price: '0.01 USDC' }, () => 'Rain')
const notes = createServer({ name: 'notes', version: '0.3.0' }).tool(
  'add-note',
  { input: z.object({ text: z.string() }) },
  () => 'ok',
)
const library = createServer({ name: 'library', version: '2.0.0' })
  .resource('library://catalog', { description: 'The catalog' }, () => 'books')
  .prompt('recommend', { description: 'Recommend a book' }, () => 'Recommend a book.')

const names = (found: readonly DiscoveredServer[]) => found.map((f) => f.descriptor.name).sort()

describe('discovery on a 20-node loopback DHT', () => {
  let net: TestNetwork
  const stops: Array<() => Promise<unknown>> = []
  const hosts: Record<string, AgoraNode> = {}

  beforeAll(async () => {
    net = await startNetwork(20, { minPeers: 3, timeoutMs: 30_000 })
    const placements = [
      [weather, 5],
      [notes, 11],
      [library, 17],
    ] as const
    const announcements: Libp2pAnnouncement[] = []
    for (const [def, at] of placements) {
      const node = net.nodes[at]!
      hosts[def.info.name] = node
      const served = await serveLibp2p(def, node, { logger: silentLogger })
      const announcement = await announceLibp2p(def, node)
      stops.push(
        () => announcement.close(),
        () => served.close(),
      )
      announcements.push(announcement)
    }
    const rounds = await Promise.all(announcements.map((a) => a.provided))
    expect(rounds.flatMap((r) => r.failed)).toEqual([])
  }, 60_000)

  afterAll(async () => {
    for (const stop of stops.reverse()) await stop().catch(() => {})
    await net?.stop()
  })

  it('finds a server by name from any node, verified, and calls its tool over libp2p', async () => {
    const errors: string[] = []
    for (const from of [1, 8, 19]) {
      const found = await discoverLibp2p(net.nodes[from]!, { service: 'weather', onError: (e) => errors.push(e.message) })
      expect(found).toHaveLength(1)
      expect(found[0]).toMatchObject({
        peerId: hosts.weather!.peerId.toString(),
        descriptor: {
          name: 'weather',
          identity: { peerId: hosts.weather!.peerId.toString() },
          tools: [{ name: 'current-weather' }, { name: 'forecast', price: { amount: '0.01', asset: 'USDC' } }],
          signature: { type: 'libp2p-peer-id' },
        },
      })
      expect(found[0]!.addrs.every((a) => a.endsWith(`/p2p/${found[0]!.peerId}`))).toBe(true)
    }
    expect(errors).toEqual([])

    const [server] = await discoverLibp2p(net.nodes[2]!, { service: 'weather' })
    const tcp = server!.addrs.find((a) => a.includes('/tcp/'))!
    const client = new Client({ name: 'discovery-test', version: '1.0.0' })
    await client.connect(await connectLibp2p(net.nodes[2]!, tcp, { signal: AbortSignal.timeout(5000) }))
    try {
      const result = await client.callTool({ name: 'current-weather', arguments: { city: 'Oslo' } })
      expect(result.content).toEqual([{ type: 'text', text: 'Sunny in Oslo' }])
    } finally {
      await client.close()
    }
  })

  it('finds servers by capability, and all of them', async () => {
    expect(names(await discoverLibp2p(net.nodes[3]!, { capability: 'tools' }))).toEqual(['notes', 'weather'])
    expect(names(await discoverLibp2p(net.nodes[4]!, { capability: 'prompts' }))).toEqual(['library'])
    expect(names(await discoverLibp2p(net.nodes[6]!, { capability: 'resources' }))).toEqual(['library'])
    expect(names(await discoverLibp2p(net.nodes[7]!, {}))).toEqual(['library', 'notes', 'weather'])
    // name and capability together: the capability filters.
    expect(await discoverLibp2p(net.nodes[7]!, { service: 'library', capability: 'tools' })).toEqual([])
    // limit stops early; the iterator yields as servers are verified.
    expect(await discoverLibp2p(net.nodes[9]!, { limit: 1 })).toHaveLength(1)
    const streamed: string[] = []
    const errors: string[] = []
    for await (const found of findLibp2pServers(net.nodes[10]!, {
      capability: 'tools',
      onError: (e) => errors.push(e.message),
    })) {
      streamed.push(found.descriptor.name)
    }
    expect({ streamed: streamed.sort(), errors }).toEqual({ streamed: ['notes', 'weather'], errors: [] })
  })

  it('an outside client-mode node (as `agora discover` makes) finds and calls a server', async () => {
    const client = await createAgoraNode({
      listen: [],
      dhtServer: false,
      dhtProtocol: net.dhtProtocol,
      bootstrap: [net.bootstrap],
      connectionManager: LOOPBACK_ALLOWED,
    })
    try {
      const [notesServer] = await discoverLibp2p(client, { service: 'notes', timeoutMs: 10_000 })
      expect(notesServer?.peerId).toBe(hosts.notes!.peerId.toString())
      const mcp = new Client({ name: 'discovery-test', version: '1.0.0' })
      await mcp.connect(await connectLibp2p(client, notesServer!.addrs.find((a) => a.includes('/tcp/'))!))
      expect((await mcp.callTool({ name: 'add-note', arguments: { text: 'hi' } })).content).toEqual([
        { type: 'text', text: 'ok' },
      ])
      await mcp.close()
    } finally {
      await client.stop()
    }
  })

  it('skips providers that are gone or forge their descriptor, and says why', async () => {
    // A provider that announces, then disappears without a word: its records outlive it.
    const ghost = await net.add()
    const ghostAnnouncement = await announceLibp2p(createServer({ name: 'weather', version: '9.9.9' }), ghost)
    expect((await ghostAnnouncement.provided).failed).toEqual([])
    const ghostId = ghost.peerId.toString()
    // A liar: provides 'weather' but answers with a descriptor it altered after signing.
    const liar = await net.add()
    const signed = await signPeerDescriptor(
      { ...(await ghostAnnouncement.descriptor()), identity: {}, endpoints: [] },
      nodePrivateKey(liar)!,
    )
    const forged = { ...signed, version: '10.0.0' }
    await liar.handle(DESCRIPTOR_PROTOCOL, async (stream) => {
      stream.send(new TextEncoder().encode(JSON.stringify({ descriptors: [forged] })))
      await stream.close()
    })
    await liar.contentRouting.provide(serviceKey('weather'), { signal: AbortSignal.timeout(20_000) })
    await ghost.stop()

    const errors: Array<{ peer: string; code: string; reason: unknown }> = []
    const started = performance.now()
    const found = await discoverLibp2p(net.nodes[13]!, {
      service: 'weather',
      fetchTimeoutMs: 3000,
      onError: (err: AgoraError, peer) => errors.push({ peer, code: err.code, reason: err.data?.reason }),
    })
    expect(performance.now() - started).toBeLessThan(10_000)
    expect(found.map((f) => [f.descriptor.name, f.descriptor.version, f.peerId])).toEqual([
      ['weather', '1.0.0', hosts.weather!.peerId.toString()],
    ])
    expect(errors).toContainEqual({ peer: liar.peerId.toString(), code: 'UNAUTHENTICATED', reason: 'bad_signature' })
    expect(errors.find((e) => e.peer === ghostId)).toMatchObject({ reason: expect.stringMatching(/^(unreachable|timeout)$/) })
    await ghostAnnouncement.close()
  })

  it('a server that stops announcing is no longer returned, though its node lives on', async () => {
    const host = await net.add()
    const def = createServer({ name: 'pop-up', version: '1.0.0' }).tool('ping', {}, () => 'pong')
    const announcement = await announceLibp2p(def, host)
    await announcement.provided
    expect(names(await discoverLibp2p(net.nodes[14]!, { service: 'pop-up' }))).toEqual(['pop-up'])
    await announcement.close()
    const errors: string[] = []
    expect(
      await discoverLibp2p(net.nodes[15]!, { service: 'pop-up', onError: (e) => errors.push(String(e.data?.reason)) }),
    ).toEqual([])
    // Remote records remain until they expire; asking the host now fails (it no longer serves descriptors).
    expect(errors).toEqual(['unreachable'])
  })
})
