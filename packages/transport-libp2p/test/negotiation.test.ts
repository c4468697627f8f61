import { createFixtureServer } from '@agora/testing'
import { Client } from '@modelcontextprotocol/client'
import { multiaddr } from '@multiformats/multiaddr'
import { afterEach, describe, expect, it } from 'vitest'
import { connectLibp2p, MCP_PROTOCOL } from '../src/index.ts'
import { Harness } from './helpers.ts'

describe('protocol version negotiation (spec Appendix A)', () => {
  const h = new Harness()
  afterEach(() => h.stopAll())

  const callEcho = async (transport: Awaited<ReturnType<typeof connectLibp2p>>) => {
    const client = new Client({ name: 'negotiation', version: '1.0.0' })
    await client.connect(transport)
    h.onStop(() => client.close())
    return client.callTool({ name: 'echo', arguments: { text: 'hi' } })
  }

  it('a client offering 2.0.0 then 1.0.0 gets 1.0.0 from a 1.0.0 server', async () => {
    expect(MCP_PROTOCOL).toBe('/mcp/1.0.0')
    const p2p = await h.serve(createFixtureServer().server, await h.node())
    expect(p2p.protocols).toEqual(['/mcp/1.0.0'])
    const transport = await connectLibp2p(await h.node(), p2p.addrs[0]!, { protocols: ['/mcp/2.0.0', '/mcp/1.0.0'] })
    expect(transport.protocol).toBe('/mcp/1.0.0')
    expect(transport.stream.protocol).toBe('/mcp/1.0.0')
    expect((await callEcho(transport)).content).toEqual([{ type: 'text', text: 'hi' }])
  })

  it('a server offering 1.1.0 and 1.0.0 serves an old 1.0.0 client, and a new client gets 1.1.0', async () => {
    const p2p = await h.serve(createFixtureServer().server, await h.node(), { protocols: ['/mcp/1.1.0', '/mcp/1.0.0'] })
    expect(p2p.protocols).toEqual(['/mcp/1.1.0', '/mcp/1.0.0'])
    const old = await connectLibp2p(await h.node(), p2p.addrs[0]!, { protocols: ['/mcp/1.0.0'] })
    expect(old.protocol).toBe('/mcp/1.0.0')
    expect((await callEcho(old)).content).toEqual([{ type: 'text', text: 'hi' }])
    const fresh = await connectLibp2p(await h.node(), p2p.addrs[0]!, { protocols: ['/mcp/1.1.0', '/mcp/1.0.0'] })
    expect(fresh.protocol).toBe('/mcp/1.1.0')
    expect((await callEcho(fresh)).content).toEqual([{ type: 'text', text: 'hi' }])
  })

  it('refuses to serve protocols the node already handles, or malformed ids', async () => {
    const node = await h.node()
    await h.serve(createFixtureServer().server, node)
    await expect(h.serve(createFixtureServer().server, node)).rejects.toMatchObject({ code: 'CONFIG' })
    await expect(h.serve(createFixtureServer().server, node, { protocols: [] })).rejects.toMatchObject({ code: 'CONFIG' })
    await expect(h.serve(createFixtureServer().server, node, { protocols: ['mcp'] })).rejects.toMatchObject({ code: 'CONFIG' })
  })

  it('no common version is a clear CONNECTION error', async () => {
    const p2p = await h.serve(createFixtureServer().server, await h.node())
    const err = await connectLibp2p(await h.node(), p2p.addrs[0]!, { protocols: ['/mcp/3.0.0', '/mcp/2.0.0'] }).catch((e) => e)
    expect(err).toMatchObject({
      name: 'AgoraError',
      code: 'CONNECTION',
      message: `peer ${p2p.peerId} speaks none of the offered MCP versions (/mcp/3.0.0, /mcp/2.0.0)`,
      data: { peer: p2p.peerId, protocols: ['/mcp/3.0.0', '/mcp/2.0.0'] },
    })
  })

  it('dials a PeerId the peer store knows, and checks the PeerId of a multiaddr', async () => {
    const serverNode = await h.node()
    const p2p = await h.serve(createFixtureServer().server, serverNode)
    const clientNode = await h.node()
    await clientNode.peerStore.merge(serverNode.peerId, { multiaddrs: serverNode.getMultiaddrs() })
    const byId = await connectLibp2p(clientNode, p2p.peerId)
    expect(byId.remotePeer).toBe(p2p.peerId)
    expect((await callEcho(byId)).content).toEqual([{ type: 'text', text: 'hi' }])

    // A multiaddr whose /p2p/ part names another peer than the one listening there is refused
    // (libp2p's memory transport does not check this itself; connectLibp2p does, on every transport).
    const impostor = (await h.node()).peerId.toString()
    for (const kind of ['memory', 'tcp'] as const) {
      const real = await h.serve(createFixtureServer().server, await h.node(kind))
      const wrongId = `${multiaddr(real.addrs[0]!).decapsulateCode(421)}/p2p/${impostor}`
      const err = await connectLibp2p(await h.node(kind), wrongId).catch((e: Error) => e)
      expect(err).toMatchObject({ name: 'AgoraError', code: 'CONNECTION' })
      expect((err as Error).message).toContain(impostor)
    }
  })

  it('rejects peers that are not a PeerId or a /p2p/ multiaddr', async () => {
    const node = await h.node()
    await expect(connectLibp2p(node, 'not-a-peer')).rejects.toMatchObject({ code: 'TARGET' })
    await expect(connectLibp2p(node, '/ip4/127.0.0.1/tcp/1')).rejects.toMatchObject({
      code: 'TARGET',
      message: "/ip4/127.0.0.1/tcp/1 names no peer: add /p2p/<PeerId> so the peer's identity is checked",
    })
    const unknown = (await h.node()).peerId.toString()
    await expect(connectLibp2p(node, unknown, { signal: AbortSignal.timeout(300) })).rejects.toMatchObject({ code: 'CONNECTION' })
  })
})
