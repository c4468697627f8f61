import { silentLogger } from '@agora/core'
import type { AgoraNode, Libp2pServerHandle } from '@agora/transport-libp2p'
import { createAgoraNode, serveLibp2p } from '@agora/transport-libp2p'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { connect, parseTarget } from '../src/index.ts'
import { fixtureServer } from './fixtures/server.ts'

const PEER = '12D3KooWDuZeGVWgrn8kPiC98i2Q87tJdnjpiS1Lk1DePuTcf8aJ'

describe('p2p: targets', () => {
  it.each([
    [`p2p:/ip4/127.0.0.1/tcp/4001/p2p/${PEER}`, `/ip4/127.0.0.1/tcp/4001/p2p/${PEER}`],
    [`P2P:/dns4/example.com/tcp/443/wss/p2p/${PEER}`, `/dns4/example.com/tcp/443/wss/p2p/${PEER}`],
    [`p2p:/memory/abc/p2p/${PEER}`, `/memory/abc/p2p/${PEER}`],
  ])('parses %s', (text, multiaddr) => {
    expect(parseTarget(text)).toEqual({ kind: 'p2p', multiaddr, peerId: PEER })
  })

  it.each([
    'p2p:',
    'p2p:/ip4/127.0.0.1/tcp/4001',
    `p2p:ip4/127.0.0.1/tcp/4001/p2p/${PEER}`,
    'p2p:/ip4/127.0.0.1/tcp/4001/p2p/not-a-peer',
  ])('rejects %j, naming the expected form', (text) => {
    expect(() => parseTarget(text)).toThrow(
      expect.objectContaining({ code: 'TARGET', message: expect.stringMatching(/p2p:<multiaddr>\/p2p\/<PeerId>/) }),
    )
  })

  describe('connect', () => {
    let node: AgoraNode
    let served: Libp2pServerHandle
    beforeAll(async () => {
      node = await createAgoraNode({ listen: ['/ip4/127.0.0.1/tcp/0'] })
      served = await serveLibp2p(fixtureServer(), node, { logger: silentLogger })
    })
    afterAll(async () => {
      await served?.close()
      await node?.stop()
    })

    it('calls a server over libp2p, identified by its PeerId, and releases its node on close', async () => {
      const client = await connect(`p2p:${served.addrs[0]}`, { timeoutMs: 5000 })
      try {
        expect(client.target).toMatchObject({ kind: 'p2p', peerId: served.peerId })
        expect(client.server?.name).toBe('fixture')
        expect((await client.callTool('echo', { text: 'over p2p' })).content).toEqual([{ type: 'text', text: 'over p2p' }])
        expect(node.getConnections().length).toBeGreaterThan(0)
      } finally {
        await client.close()
      }
      // The client's ephemeral node stopped: its connection to the server goes away.
      for (let i = 0; i < 50 && node.getConnections().length > 0; i++) await new Promise((r) => setTimeout(r, 20))
      expect(node.getConnections()).toHaveLength(0)
    })

    it('fails with CONNECTION when nobody answers, or when the PeerId is not who answers', async () => {
      const refused = served.addrs[0]!.replace(/\/tcp\/\d+\//, '/tcp/1/')
      await expect(connect(`p2p:${refused}`, { timeoutMs: 5000 })).rejects.toMatchObject({ code: 'CONNECTION' })
      const impostor = served.addrs[0]!.replace(served.peerId, PEER)
      await expect(connect(`p2p:${impostor}`, { timeoutMs: 5000 })).rejects.toMatchObject({ code: 'CONNECTION' })
    })
  })
})
