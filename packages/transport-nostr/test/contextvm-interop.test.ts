import net from 'node:net'
import type { AgoraServer } from '@agora/core'
import { createServer, silentLogger, ToolError } from '@agora/core'
import {
  NostrClientTransport as CvmClientTransport,
  EncryptionMode,
  GiftWrapMode,
  NostrServerTransport,
  PrivateKeySigner,
} from '@contextvm/sdk'
import { Client } from '@modelcontextprotocol/client'
import { Client as V1Client } from '@modelcontextprotocol/sdk/client/index.js'
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js'
import type { Event } from 'nostr-tools/pure'
import { generateSecretKey, getPublicKey } from 'nostr-tools/pure'
import { bytesToHex } from 'nostr-tools/utils'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { z } from 'zod'
import type { NostrClientTransport } from '../src/client-transport.ts'
import type { NostrConnectOptions } from '../src/connect.ts'
import { connectNostr } from '../src/connect.ts'
import { unwrapCep4 } from '../src/contextvm/cep4.ts'
import { CONTEXTVM } from '../src/contextvm/profile.ts'
import type { RelayHandle } from '../src/relay/index.ts'
import { startRelay } from '../src/relay/index.ts'
import type { NostrServeOptions, NostrServerHandle } from '../src/serve.ts'
import { serveNostr } from '../src/serve.ts'

// ---- guards and fixtures -------------------------------------------------------------------------

/** Every TCP connection the process opens: the SDK must only ever reach the local relay (ContextVM/sdk#63). */
const connections: string[] = []
const originalConnect = net.Socket.prototype.connect
function recordConnections(): void {
  net.Socket.prototype.connect = function (this: net.Socket, ...args: unknown[]) {
    const first = Array.isArray(args[0]) ? args[0][0] : args[0]
    const host = typeof first === 'object' && first !== null ? (first as { host?: string }).host : args[1]
    connections.push(String(host ?? 'localhost'))
    return (originalConnect as (...a: unknown[]) => net.Socket).apply(this, args)
  } as typeof net.Socket.prototype.connect
}

/** Every event the relay accepted, in order. */
const seen: Event[] = []
let relay: RelayHandle

const RESULT_5 = { content: [{ type: 'text', text: '5' }] }
const TOOL_FAILED = { content: [{ type: 'text', text: 'kaboom' }], isError: true }
const noop = z.object({}).passthrough()

/** The Agora side: `add` and a tool that fails. */
function agoraServer(): AgoraServer {
  return createServer({ name: 'calc', version: '1.0.0' })
    .tool('add', { description: 'Adds', input: z.object({ a: z.number(), b: z.number() }) }, ({ a, b }) => String(a + b))
    .tool('boom', { description: 'Fails' }, () => {
      throw new ToolError('kaboom')
    })
}

/** The ContextVM side: the same two tools on the SDK's reference stack (MCP SDK v1 + `@contextvm/sdk`). */
function contextvmServer(): McpServer {
  const server = new McpServer({ name: 'calc', version: '1.0.0' })
  server.registerTool('add', { description: 'Adds', inputSchema: { a: z.number(), b: z.number() } }, async ({ a, b }) => ({
    content: [{ type: 'text', text: String(a + b) }],
  }))
  server.registerTool('boom', { description: 'Fails' }, async () => {
    throw new Error('kaboom')
  })
  return server
}

const sdkMode = (encrypted: boolean) => (encrypted ? EncryptionMode.REQUIRED : EncryptionMode.DISABLED)

/** Opens what each recorded event carries: itself, or for a wrap the inner event (we hold every key). */
function openAll(events: Event[], keys: Uint8Array[]): Event[] {
  return events.map((event) => {
    if (event.kind !== 1059 && event.kind !== 21059) return event
    for (const key of keys) {
      try {
        return unwrapCep4(event, key)
      } catch {}
    }
    throw new Error(`wrap ${event.id} opens with none of the test keys`)
  })
}

/** Checks the traffic of one exchange: the right envelope kinds, ContextVM tags only. */
function expectContextVmTraffic(events: Event[], keys: Uint8Array[], encrypted: boolean, serverPubkey: string): void {
  const messages = events.filter((e) => e.kind === 25910 || e.kind === 1059 || e.kind === 21059)
  expect(messages.length).toBeGreaterThanOrEqual(8) // 4 requests + initialized + 4 responses, at least
  for (const e of messages) expect(encrypted ? e.kind !== 25910 : e.kind === 25910).toBe(true)
  for (const inner of openAll(messages, keys)) {
    expect(inner.kind).toBe(25910)
    const names = inner.tags.map((t) => t[0])
    expect(names).not.toContain('s')
    expect(names).not.toContain('d')
    expect(names).not.toContain('method')
    const rpc = JSON.parse(inner.content) as Record<string, unknown>
    expect(rpc.jsonrpc).toBe('2.0')
    if ('result' in rpc || 'error' in rpc) {
      expect(inner.pubkey).toBe(serverPubkey)
      expect(names).toContain('e')
    }
  }
}

beforeAll(async () => {
  recordConnections()
  relay = await startRelay({
    port: 0,
    logger: silentLogger,
    plugins: [
      {
        beforeHandleEvent(event: Event) {
          seen.push(event)
          return { canHandle: true }
        },
      },
    ],
  })
})

afterAll(async () => {
  net.Socket.prototype.connect = originalConnect
  await relay?.close()
  // Nothing but loopback was ever dialled (no bootstrap or discovery relay).
  expect(connections.length).toBeGreaterThan(0)
  for (const host of connections) expect(['127.0.0.1', 'localhost', '::1']).toContain(host)
})

const cleanups: (() => Promise<unknown>)[] = []
afterEach(async () => {
  for (const close of cleanups.splice(0).reverse()) await close().catch(() => {})
})

/** A @contextvm/sdk client (MCP SDK v1 `Client` over its `NostrClientTransport`) connected to `serverPubkey`. */
async function cvmClient(
  serverPubkey: string,
  clientKey: Uint8Array,
  modes: { encryptionMode: EncryptionMode; giftWrapMode?: GiftWrapMode },
): Promise<{ client: V1Client; transport: CvmClientTransport }> {
  const transport = new CvmClientTransport({
    signer: new PrivateKeySigner(bytesToHex(clientKey)),
    relayHandler: [relay.url],
    discoveryRelayUrls: [],
    serverPubkey,
    logLevel: 'silent',
    ...modes,
  })
  const client = new V1Client({ name: 'cvm-client', version: '1.0.0' })
  cleanups.push(() => client.close())
  await client.connect(transport)
  return { client, transport }
}

/** A @contextvm/sdk server (MCP SDK v1 `McpServer` over its `NostrServerTransport`) with the two tools. */
async function cvmServer(
  serverKey: Uint8Array,
  modes: { encryptionMode: EncryptionMode; giftWrapMode?: GiftWrapMode },
): Promise<McpServer> {
  const server = contextvmServer()
  await server.connect(
    new NostrServerTransport({
      signer: new PrivateKeySigner(bytesToHex(serverKey)),
      relayHandler: [relay.url],
      serverInfo: { name: 'calc' },
      bootstrapRelayUrls: [],
      publishRelayList: false,
      logLevel: 'silent',
      ...modes,
    }),
  )
  cleanups.push(() => server.close())
  return server
}

/** The Agora side served with `serveNostr` (CONTEXTVM profile unless told otherwise). */
async function agoraServe(options: Partial<NostrServeOptions> = {}): Promise<NostrServerHandle> {
  const nostr = await serveNostr(agoraServer(), { relays: [relay.url], profile: CONTEXTVM, logger: silentLogger, ...options })
  cleanups.push(() => nostr.close())
  return nostr
}

/** An Agora client (MCP v2 `Client` over `connectNostr`, CONTEXTVM profile), not connected yet. */
async function agoraClient(
  serverPubkey: string,
  options: Partial<NostrConnectOptions> = {},
): Promise<{ client: Client; transport: NostrClientTransport }> {
  const transport = await connectNostr({
    relays: [relay.url],
    serverPubkey,
    profile: CONTEXTVM,
    timeoutMs: 5000,
    logger: silentLogger,
    ...options,
  })
  cleanups.push(() => transport.close())
  const client = new Client({ name: 'agora-client', version: '1.0.0' })
  cleanups.push(() => client.close())
  return { client, transport }
}

/** Wraps sent to `recipient` since `mark`, by kind, in order. */
const wrapKindsTo = (recipient: string, mark: number): number[] =>
  seen
    .slice(mark)
    .filter((e) => (e.kind === 1059 || e.kind === 21059) && e.tags.some((t) => t[0] === 'p' && t[1] === recipient))
    .map((e) => e.kind)

// ---- the two directions, plaintext and encrypted ---------------------------------------------------

for (const encrypted of [false, true]) {
  describe(`ContextVM interop, ${encrypted ? 'encrypted (CEP-4)' : 'plaintext'}`, () => {
    it('a @contextvm/sdk client calls an Agora server served with the CONTEXTVM profile', async () => {
      const serverKey = generateSecretKey()
      const clientKey = generateSecretKey()
      const nostr = await agoraServe({ secretKey: serverKey, encryption: encrypted ? 'required' : 'disabled' })
      const mark = seen.length

      const { client, transport } = await cvmClient(nostr.pubkey, clientKey, { encryptionMode: sdkMode(encrypted) })

      expect(client.getServerVersion()).toMatchObject({ name: 'calc', version: '1.0.0' })
      const { tools } = await client.listTools()
      expect(tools.map((t) => t.name).sort()).toEqual(['add', 'boom'])
      expect(tools.find((t) => t.name === 'add')?.inputSchema).toMatchObject({ properties: { a: { type: 'number' } } })
      expect(await client.callTool({ name: 'add', arguments: { a: 2, b: 3 } })).toMatchObject(RESULT_5)
      expect(await client.callTool({ name: 'boom', arguments: {} })).toMatchObject(TOOL_FAILED)
      await expect(client.request({ method: 'nope/x', params: {} }, noop)).rejects.toMatchObject({ code: -32601 })

      expectContextVmTraffic(seen.slice(mark), [serverKey, clientKey], encrypted, nostr.pubkey)
      // Our initialize response advertises encryption as ContextVM servers do; the SDK client then
      // moves from its first 1059 wrap to unstored 21059 wraps, which we answer in kind.
      expect(transport.serverSupportsEncryption()).toBe(encrypted)
      expect(transport.serverSupportsEphemeralEncryption()).toBe(encrypted)
      if (encrypted) {
        const kinds = seen.slice(mark).filter((e) => e.kind === 1059 || e.kind === 21059)
        expect(kinds[0]?.kind).toBe(1059)
        expect(kinds.slice(2).every((e) => e.kind === 21059)).toBe(true)
      }
    })

    it('an Agora client with the CONTEXTVM profile calls a @contextvm/sdk server', async () => {
      const serverKey = generateSecretKey()
      const clientKey = generateSecretKey()
      const serverPubkey = getPublicKey(serverKey)
      await cvmServer(serverKey, { encryptionMode: sdkMode(encrypted) })
      const mark = seen.length

      const encryption = encrypted ? 'required' : 'disabled'
      const { client, transport } = await agoraClient(serverPubkey, { secretKey: clientKey, encryption })
      await client.connect(transport)

      expect(client.getServerVersion()).toMatchObject({ name: 'calc', version: '1.0.0' })
      const { tools } = await client.listTools()
      expect(tools.map((t) => t.name).sort()).toEqual(['add', 'boom'])
      expect(await client.callTool({ name: 'add', arguments: { a: 2, b: 3 } })).toMatchObject(RESULT_5)
      expect(await client.callTool({ name: 'boom', arguments: {} })).toMatchObject(TOOL_FAILED)
      await expect(client.request({ method: 'nope/x', params: {} }, noop)).rejects.toMatchObject({ code: -32601 })

      expectContextVmTraffic(seen.slice(mark), [serverKey, clientKey], encrypted, serverPubkey)
      if (encrypted) {
        // The SDK server flags `support_encryption_ephemeral` on its initialize response: after the
        // first 1059 wrap (initialize), the Agora client sends unstored 21059 wraps, as SDK clients do.
        const sent = wrapKindsTo(serverPubkey, mark)
        expect(sent.length).toBeGreaterThanOrEqual(5)
        expect(sent[0]).toBe(1059)
        expect(sent.slice(1).every((kind) => kind === 21059)).toBe(true)
      }
    })
  })
}

describe('ContextVM interop, ephemeral gift wraps (CEP-19)', () => {
  it('an Agora server answers a 21059 request with a 21059 wrap (an SDK client accepting only those)', async () => {
    const serverKey = generateSecretKey()
    const clientKey = generateSecretKey()
    const nostr = await agoraServe({ secretKey: serverKey, profile: 'contextvm', encryption: 'optional' })
    const mark = seen.length
    const { client } = await cvmClient(nostr.pubkey, clientKey, {
      encryptionMode: EncryptionMode.REQUIRED,
      giftWrapMode: GiftWrapMode.EPHEMERAL,
    })
    expect(await client.callTool({ name: 'add', arguments: { a: 2, b: 3 } })).toMatchObject(RESULT_5)

    const traffic = seen.slice(mark).filter((e) => e.kind === 25910 || e.kind === 1059 || e.kind === 21059)
    expect(traffic.length).toBeGreaterThanOrEqual(5)
    expect(traffic.every((e) => e.kind === 21059)).toBe(true)
  })

  it('an Agora client keeps 1059 wraps for a @contextvm/sdk server that does not offer 21059', async () => {
    const serverKey = generateSecretKey()
    const serverPubkey = getPublicKey(serverKey)
    // PERSISTENT: the server neither flags `support_encryption_ephemeral` nor accepts 21059 wraps.
    await cvmServer(serverKey, { encryptionMode: EncryptionMode.REQUIRED, giftWrapMode: GiftWrapMode.PERSISTENT })
    const mark = seen.length
    const { client, transport } = await agoraClient(serverPubkey, { encryption: 'required' })
    await client.connect(transport)
    expect(await client.callTool({ name: 'add', arguments: { a: 2, b: 3 } })).toMatchObject(RESULT_5)
    const sent = wrapKindsTo(serverPubkey, mark)
    expect(sent.length).toBeGreaterThanOrEqual(3) // initialize, initialized, tools/call
    expect(new Set(sent)).toEqual(new Set([1059]))
  })

  it('an Agora client and server on the CONTEXTVM profile move to 21059 after initialize', async () => {
    const serverKey = generateSecretKey()
    const nostr = await agoraServe({ secretKey: serverKey })
    const mark = seen.length
    const { client, transport } = await agoraClient(nostr.pubkey, { encryption: 'required' })
    await client.connect(transport)
    expect(await client.callTool({ name: 'add', arguments: { a: 2, b: 3 } })).toMatchObject(RESULT_5)
    const toServer = wrapKindsTo(nostr.pubkey, mark)
    const toClient = wrapKindsTo(transport.pubkey, mark)
    expect(toServer[0]).toBe(1059)
    expect(toServer.slice(1)).toEqual(toServer.slice(1).map(() => 21059))
    expect(toServer.length).toBeGreaterThanOrEqual(3)
    // The server answers each request in the kind it came in: initialize in 1059, the rest in 21059.
    expect(toClient).toEqual([1059, ...toClient.slice(1).map(() => 21059)])
    expect(toClient.length).toBeGreaterThanOrEqual(2)
  })
})

describe('Agora to Agora on the CONTEXTVM profile', () => {
  it('an Agora server requiring encryption refuses a plaintext ContextVM request, naming CEP-4', async () => {
    const nostr = await agoraServe({ encryption: 'required' })
    const { client, transport } = await agoraClient(nostr.pubkey)
    const err = await client.connect(transport).catch((e: unknown) => e)
    expect(err).toMatchObject({ code: -31403, message: expect.stringContaining('only accepts encrypted (CEP-4 gift-wrapped)') })
  })
})
