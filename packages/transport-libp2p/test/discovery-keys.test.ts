import { createDescriptor, createServer } from '@agora/core'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import { announcementKeys } from '../src/discovery/announce.ts'
import { canonicalJson } from '../src/discovery/canonical-json.ts'
import { signPeerDescriptor, verifyPeerDescriptor } from '../src/discovery/descriptor-signature.ts'
import { ALL_SERVICES_KEY, capabilityKey, serviceKey, textKey } from '../src/discovery/keys.ts'

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex')

// docs: /work/shared/notes/transports.md §4 (computed independently of this code).
const VECTORS = [
  [
    'mcp-service:knowledge-base',
    'e6cef311ac72996f7350e58e8fa1a3efea5c64d59ea1a86819e3b60ccc028c59',
    'bafkreihgz3zrdldstfxxguhfr2h2di7p5jogjvm6ugugqgpdwygmyaumle',
  ],
  [
    'mcp-service:*',
    'a9b1e6ea06775aa78f283f13d92acbbaa678eef1c573c4af4ffe591a06480bf8',
    'bafkreifjwhtoubtxlkty6kb7cpmsvs52uz4o54ofopck6t76lenamsal7a',
  ],
  [
    'mcp-capability:tools',
    '0dd93a5d80cdddf20187a4c781d606317535eb3f9e36e765199cbf076ec1b1a1',
    'bafkreian3e5f3agn3xzadb5ey6a5mbrrou26wp46g3twkgm4x4dw5qnrue',
  ],
  [
    'mcp-capability:resources',
    '68a457c388182cd5d2cb831e4d967a0b5d0a91e86c6291d668786cf7eea4e553',
    'bafkreidiurl4hcayftk5fs4ddzgzm6qllufjd2dmmki5m2dynt365jhfkm',
  ],
  [
    'mcp-capability:prompts',
    '6c4e5a3be9c743a1d762b7e0af85a24f09bed060f0a38ae5aa23764c94ffa808',
    'bafkreidmjzndx2ohioq5oyvx4cxylispbg7nayhquofolkrdozgjj75iba',
  ],
] as const

describe('DHT keys', () => {
  it.each(VECTORS)('%s → sha256 %s, CIDv1 raw %s', (text, digest, cid) => {
    const key = textKey(text)
    expect(key.toString()).toBe(cid)
    // The bytes kad-dht stores and any other implementation must use: 0x12 0x20 ‖ SHA256(text).
    expect(hex(key.multihash.bytes)).toBe(`1220${digest}`)
  })

  it('derives service, capability and all-services keys', () => {
    expect(serviceKey('knowledge-base').toString()).toBe(VECTORS[0][2])
    expect(ALL_SERVICES_KEY.toString()).toBe(VECTORS[1][2])
    expect(capabilityKey('tools').toString()).toBe(VECTORS[2][2])
    expect(capabilityKey('resources').toString()).toBe(VECTORS[3][2])
    expect(capabilityKey('prompts').toString()).toBe(VECTORS[4][2])
    expect(() => serviceKey('')).toThrow(/empty/)
    expect(() => capabilityKey('sampling' as never)).toThrow(/tools, resources, prompts/)
  })

  it('announces a server under its name, * and each capability it has', () => {
    const server = createServer({ name: 'knowledge-base', version: '1.0.0' })
      .tool('search', { input: z.object({ q: z.string() }) }, () => 'ok')
      .prompt('summarize', {}, () => 'Summarize.')
    const keys = announcementKeys(createDescriptor(server)).map(String)
    expect(keys).toEqual([VECTORS[0][2], VECTORS[1][2], VECTORS[2][2], VECTORS[4][2]])
  })
})

describe('canonical JSON', () => {
  it('sorts keys at every depth, drops undefined members, keeps array order', () => {
    expect(canonicalJson({ b: 1, a: [true, null, 'x', { d: 2, c: undefined, a: 1.5 }] })).toBe(
      '{"a":[true,null,"x",{"a":1.5,"d":2}],"b":1}',
    )
    expect(canonicalJson({ é: 1, e: 2, Z: 3 })).toBe('{"Z":3,"e":2,"é":1}')
    expect(() => canonicalJson({ n: Number.NaN })).toThrow(/finite/)
  })
})

describe('descriptor signatures', () => {
  const server = createServer({ name: 'signed', version: '2.0.0' }).tool(
    'quote',
    { description: 'Costs money', price: '0.25 USDC', input: z.object({ symbol: z.string() }) },
    () => 'ok',
  )

  it('signs with the peer key and verifies after any JSON re-encoding', async () => {
    const key = await generateKeyPair('Ed25519')
    const peerId = peerIdFromPrivateKey(key).toString()
    const signed = await signPeerDescriptor(createDescriptor(server), key, { now: new Date('2025-01-02T03:04:05Z') })
    expect(signed.identity.peerId).toBe(peerId)
    expect(signed.signature).toMatchObject({ type: 'libp2p-peer-id', peerId, created: '2025-01-02T03:04:05.000Z' })
    // Reversed key order and whitespace: same JSON value, same canonical bytes.
    const reordered = JSON.parse(JSON.stringify(Object.fromEntries(Object.entries(signed).reverse()), null, 2))
    await expect(verifyPeerDescriptor(reordered, { expectedPeer: peerId })).resolves.toMatchObject({ name: 'signed' })
  })

  it('refuses tampering, another signer, unsigned and non-descriptors, with a reason', async () => {
    const key = await generateKeyPair('Ed25519')
    const other = peerIdFromPrivateKey(await generateKeyPair('Ed25519')).toString()
    const signed = await signPeerDescriptor(createDescriptor(server), key)
    const reason = (p: Promise<unknown>) =>
      p.then(
        () => 'accepted',
        (err: { code: string; data: { reason: string } }) => `${err.code}/${err.data.reason}`,
      )
    const cheaper = structuredClone(signed)
    cheaper.tools[0]!.price = { amount: '0', asset: 'USDC' }
    expect(await reason(verifyPeerDescriptor(cheaper))).toBe('UNAUTHENTICATED/bad_signature')
    expect(await reason(verifyPeerDescriptor(signed, { expectedPeer: other }))).toBe('UNAUTHENTICATED/wrong_peer')
    const { signature: _s, ...unsigned } = signed
    expect(await reason(verifyPeerDescriptor(unsigned))).toBe('UNAUTHENTICATED/unsigned')
    expect(await reason(verifyPeerDescriptor([signed]))).toBe('CONNECTION/malformed')
    const v2 = await signPeerDescriptor({ ...createDescriptor(server), descriptorVersion: 2 } as never, key)
    expect(await reason(verifyPeerDescriptor(v2))).toBe('CONNECTION/invalid_descriptor')
    const redirect = await signPeerDescriptor(
      createDescriptor(server, { endpoints: [{ transport: 'libp2p', peerId: other, addrs: [] }] }),
      key,
    )
    expect(await reason(verifyPeerDescriptor(redirect))).toBe('UNAUTHENTICATED/wrong_peer')
  })
})
