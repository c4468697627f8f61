import type { ServerDescriptor } from '@agora/core'
import { createDescriptor, createServer } from '@agora/core'
import { generateKeyPair } from '@libp2p/crypto/keys'
import type { Stream } from '@libp2p/interface'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { z } from 'zod'
import { DESCRIPTOR_PROTOCOL, fetchDescriptors, publishDescriptor } from '../src/discovery/descriptor-protocol.ts'
import { signPeerDescriptor } from '../src/discovery/descriptor-signature.ts'
import type { AgoraNode } from '../src/node.ts'
import { createAgoraNode, nodePrivateKey } from '../src/node.ts'

const server = createServer({ name: 'quotes', version: '1.0.0' }).tool(
  'quote',
  { description: 'A price quote', input: z.object({ symbol: z.string() }) },
  ({ symbol }) => `${symbol}: 42`,
)

const libp2pDescriptor = (node: AgoraNode): ServerDescriptor =>
  createDescriptor(server, {
    endpoints: [{ transport: 'libp2p', peerId: node.peerId.toString(), addrs: node.getMultiaddrs().map(String) }],
    identity: { peerId: node.peerId.toString() },
  })

/** What the fetch failed with: `CODE/reason`, or 'accepted'. */
const outcome = (p: Promise<unknown>) =>
  p.then(
    () => 'accepted',
    (err: { code?: string; data?: { reason?: string } }) => `${err.code}/${err.data?.reason}`,
  )

describe('/agora/descriptor/1.0.0', () => {
  let provider: AgoraNode
  let asker: AgoraNode
  beforeAll(async () => {
    provider = await createAgoraNode({ listen: ['/ip4/127.0.0.1/tcp/0'] })
    asker = await createAgoraNode({ listen: [] })
  })
  afterAll(async () => {
    await Promise.all([provider?.stop(), asker?.stop()])
  })

  /** Makes the provider answer every descriptor request with `bytes` (or never, for `null`). */
  const answerWith = (bytes: Uint8Array | string | null) =>
    provider.handle(
      DESCRIPTOR_PROTOCOL,
      async (stream: Stream) => {
        if (bytes === null) return // hold the stream open, say nothing
        stream.send(typeof bytes === 'string' ? new TextEncoder().encode(bytes) : bytes)
        await stream.close()
      },
      { force: true },
    )
  const answerWithDescriptors = (descriptors: unknown[]) => answerWith(JSON.stringify({ descriptors }))

  it('serves the descriptor signed by the node key; the fetcher verifies it', async () => {
    const published = await publishDescriptor(provider, () => libp2pDescriptor(provider))
    try {
      const started = performance.now()
      const [descriptor, ...more] = await fetchDescriptors(asker, provider.getMultiaddrs()[0]!, {
        signal: AbortSignal.timeout(5000),
      })
      expect(performance.now() - started).toBeLessThan(2000)
      expect(more).toEqual([])
      expect(descriptor).toMatchObject({
        name: 'quotes',
        version: '1.0.0',
        identity: { peerId: provider.peerId.toString() },
        endpoints: [{ transport: 'libp2p', peerId: provider.peerId.toString(), addrs: provider.getMultiaddrs().map(String) }],
        signature: { type: 'libp2p-peer-id', peerId: provider.peerId.toString(), value: expect.any(String) },
      })
      expect(descriptor?.tools.map((t) => t.name)).toEqual(['quote'])
      // Asking by PeerId works too, once the node knows the addresses.
      expect(await fetchDescriptors(asker, provider.peerId.toString())).toHaveLength(1)
    } finally {
      await published.close()
    }
    // The last descriptor gone, the protocol is no longer served.
    expect(await outcome(fetchDescriptors(asker, provider.peerId, { timeoutMs: 3000 }))).toBe('CONNECTION/unreachable')
  })

  it('refuses a publish with a key that is not the node key', async () => {
    const stranger = await generateKeyPair('Ed25519')
    await expect(publishDescriptor(provider, () => libp2pDescriptor(provider), { privateKey: stranger })).rejects.toMatchObject({
      code: 'CONFIG',
    })
  })

  it('refuses a forged signature', async () => {
    const signed = await signPeerDescriptor(libp2pDescriptor(provider), nodePrivateKey(provider)!)
    const forged = { ...signed, tools: [{ ...signed.tools[0], description: 'Now free!' }] }
    await answerWithDescriptors([forged])
    expect(await outcome(fetchDescriptors(asker, provider.peerId))).toBe('UNAUTHENTICATED/bad_signature')
  })

  it('refuses a descriptor signed by another peer (replayed), even with a valid signature', async () => {
    const other = await createAgoraNode({ listen: [] })
    try {
      const replayed = await signPeerDescriptor(libp2pDescriptor(other), nodePrivateKey(other)!)
      await answerWithDescriptors([replayed])
      const err = await fetchDescriptors(asker, provider.peerId).catch((e: unknown) => e)
      expect(err).toMatchObject({ code: 'UNAUTHENTICATED', data: { reason: 'wrong_peer', peerId: provider.peerId.toString() } })
      expect(String((err as Error).message)).toMatch(/signed by .*not by the peer that sent it/)
    } finally {
      await other.stop()
    }
  })

  it('refuses a descriptor that points its libp2p endpoint at another peer', async () => {
    const victim = (await generateKeyPair('Ed25519')).publicKey.toString()
    const base = libp2pDescriptor(provider)
    const redirect = await signPeerDescriptor(
      { ...base, endpoints: [{ transport: 'libp2p', peerId: victim, addrs: [] }] },
      nodePrivateKey(provider)!,
    )
    await answerWithDescriptors([redirect])
    expect(await outcome(fetchDescriptors(asker, provider.peerId))).toBe('UNAUTHENTICATED/wrong_peer')
  })

  it('refuses malformed JSON, a wrong shape, unsigned and invalid descriptors', async () => {
    await answerWith('{"descriptors": [')
    expect(await outcome(fetchDescriptors(asker, provider.peerId))).toBe('CONNECTION/malformed')
    await answerWith(new Uint8Array([0xff, 0xfe, 0x7b, 0x7d]))
    expect(await outcome(fetchDescriptors(asker, provider.peerId))).toBe('CONNECTION/malformed')
    await answerWith('{"servers": []}')
    expect(await outcome(fetchDescriptors(asker, provider.peerId))).toBe('CONNECTION/malformed')
    await answerWithDescriptors([libp2pDescriptor(provider)])
    expect(await outcome(fetchDescriptors(asker, provider.peerId))).toBe('UNAUTHENTICATED/unsigned')
    const invalid = await signPeerDescriptor({ ...libp2pDescriptor(provider), tools: 'none' } as never, nodePrivateKey(provider)!)
    await answerWithDescriptors([invalid])
    expect(await outcome(fetchDescriptors(asker, provider.peerId))).toBe('CONNECTION/invalid_descriptor')
  })

  it('aborts an oversized answer', async () => {
    await answerWith(new Uint8Array(2 * 1024 * 1024).fill(0x20))
    expect(await outcome(fetchDescriptors(asker, provider.peerId))).toBe('CONNECTION/too_large')
    const signed = await signPeerDescriptor(libp2pDescriptor(provider), nodePrivateKey(provider)!)
    await answerWithDescriptors([signed])
    expect(await outcome(fetchDescriptors(asker, provider.peerId, { maxBytes: 100 }))).toBe('CONNECTION/too_large')
    await answerWithDescriptors(Array.from({ length: 65 }, () => signed))
    expect(await outcome(fetchDescriptors(asker, provider.peerId))).toBe('CONNECTION/too_large')
  })

  it('bounds the time: a silent peer times out, an abort cancels', async () => {
    await answerWith(null)
    const started = performance.now()
    expect(await outcome(fetchDescriptors(asker, provider.peerId, { timeoutMs: 300 }))).toBe('TIMEOUT/timeout')
    expect(performance.now() - started).toBeLessThan(2000)
    const controller = new AbortController()
    setTimeout(() => controller.abort(), 100)
    expect(await outcome(fetchDescriptors(asker, provider.peerId, { signal: controller.signal }))).toBe('CANCELLED/cancelled')
  })

  it('fails a peer that resets the stream mid-answer, instead of parsing half an answer', async () => {
    await provider.handle(
      DESCRIPTOR_PROTOCOL,
      async (stream: Stream) => {
        stream.send(new TextEncoder().encode('{"descriptors": [{"name": "half'))
        await new Promise((r) => setTimeout(r, 50))
        stream.abort(new Error('changed my mind'))
      },
      { force: true },
    )
    expect(await outcome(fetchDescriptors(asker, provider.peerId))).toBe('CONNECTION/unreachable')
  })

  it('reports a peer that is gone as unreachable', async () => {
    const gone = await createAgoraNode({ listen: ['/ip4/127.0.0.1/tcp/0'] })
    const addr = gone.getMultiaddrs()[0]!
    await gone.stop()
    expect(await outcome(fetchDescriptors(asker, addr, { timeoutMs: 3000 }))).toBe('CONNECTION/unreachable')
    await expect(fetchDescriptors(asker, '/ip4/127.0.0.1/tcp/1')).rejects.toMatchObject({ code: 'TARGET' })
  })
})
