import { orderedTransport } from '@agora/client'
import { createServer, silentLogger } from '@agora/core'
import { createFixtureServer, transportContract } from '@agora/testing'
import { Client } from '@modelcontextprotocol/client'
import { afterEach, describe, expect, it } from 'vitest'
import { connectLibp2p, createAgoraNode, serveLibp2p } from '../src/index.ts'
import type { NetKind } from './helpers.ts'
import { Harness } from './helpers.ts'

type Mode = 'legacy' | { pin: '2026-07-28' }
const runs: [NetKind, string, Mode][] = [
  ['memory', '2025', 'legacy'],
  ['tcp', '2025', 'legacy'],
  ['tcp', '2026-07-28', { pin: '2026-07-28' }],
]

for (const [kind, era, mode] of runs) {
  transportContract(`libp2p (${kind}, ${era})`, {
    transportKind: 'libp2p',
    async connect(server) {
      const listen = kind === 'memory' ? [`/memory/contract-${crypto.randomUUID()}`] : ['/ip4/127.0.0.1/tcp/0']
      const serverNode = await createAgoraNode({ listen })
      const clientNode = await createAgoraNode({ listen: kind === 'memory' ? [] : ['/ip4/127.0.0.1/tcp/0'] })
      const p2p = await serveLibp2p(server, serverNode, { logger: silentLogger })
      const client = new Client({ name: 'contract', version: '1.0.0' }, { versionNegotiation: { mode } })
      await client.connect(
        orderedTransport(await connectLibp2p(clientNode, p2p.addrs[0]!, { signal: AbortSignal.timeout(5000) })),
      )
      expect(client.getNegotiatedProtocolVersion()).toBe(mode === 'legacy' ? '2025-11-25' : '2026-07-28')
      return {
        client,
        close: async () => {
          await client.close()
          await p2p.close()
          // One after the other: stopping both ends at once makes libp2p wait ~500 ms on the connection close.
          await clientNode.stop()
          await serverNode.stop()
        },
      }
    },
  })
}

describe('libp2p caller identity', () => {
  const h = new Harness()
  afterEach(() => h.stopAll())

  it.each([
    ['2025', 'legacy'],
    ['2026-07-28', { pin: '2026-07-28' }],
  ] as const)('the handler sees the client PeerId as an authenticated peer caller (%s)', async (_era, mode) => {
    const serverNode = await h.node('tcp')
    const clientNode = await h.node('tcp')
    const server = createServer({ name: 'who', version: '1.0.0' }).tool(
      'caller',
      { description: 'The caller' },
      (_args, ctx) => ({
        caller: { ...ctx.caller, scopes: [...ctx.caller.scopes] },
        transport: { kind: ctx.transport.kind, remote: ctx.transport.remote },
      }),
    )
    const p2p = await h.serve(server, serverNode)
    expect(p2p.peerId).toBe(serverNode.peerId.toString())
    expect(p2p.addrs.length).toBeGreaterThan(0)
    expect(p2p.addrs.every((a) => a.startsWith('/ip4/127.0.0.1/tcp/') && a.endsWith(`/p2p/${p2p.peerId}`))).toBe(true)
    const client = await h.client(clientNode, p2p.addrs[0]!, undefined, mode)
    const r = await client.callTool({ name: 'caller', arguments: {} })
    const peer = clientNode.peerId.toString()
    expect(r.structuredContent).toEqual({
      caller: { id: `peer:${peer}`, kind: 'peer', authenticated: true, scopes: [] },
      transport: { kind: 'libp2p', remote: peer },
    })
    // The fixture's whoami agrees.
    const fixture = await h.serve(createFixtureServer().server, await h.node('tcp'))
    const other = await h.client(clientNode, fixture.addrs[0]!, undefined, mode)
    expect((await other.callTool({ name: 'whoami', arguments: {} })).structuredContent).toEqual({
      id: `peer:${peer}`,
      kind: 'peer',
      transport: 'libp2p',
    })
  })
})
