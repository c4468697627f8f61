/**
 * `serveConnection`: one message connection, either era, with the transport's per-message
 * `MessageExtraInfo` (caller identity) reaching the handlers.
 */
import { createServer, serveConnection, silentLogger, TRANSPORT_EXTRA_KEY } from '@agora/core'
import { Client, InMemoryTransport } from '@modelcontextprotocol/client'
import { afterEach, describe, expect, it } from 'vitest'
import { rejection } from './helpers.ts'

const server = createServer({ name: 'conn', version: '1.0.0' }).tool('whoami', { description: 'The caller' }, (_args, ctx) => ({
  id: ctx.caller.id,
  transport: ctx.transport.kind,
}))

type Mode = 'legacy' | { pin: '2026-07-28' }
const closers: (() => Promise<unknown>)[] = []
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close().catch(() => {})
})

/** Serves `server` on one end of an in-memory pair whose every message says it comes from `peer:alice`. */
async function connect(mode: Mode, legacy?: 'serve' | 'reject') {
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair()
  const identity = { id: 'peer:alice', kind: 'peer', authenticated: true, scopes: [] }
  const authInfo = { token: '', clientId: '', scopes: [], extra: { [TRANSPORT_EXTRA_KEY]: { kind: 'test-wire', identity } } }
  const send = clientSide.send.bind(clientSide)
  clientSide.send = (message, options) => send(message, { ...options, authInfo })
  let closedByTransport = 0
  serverSide.onclose = () => closedByTransport++
  const handle = serveConnection(server, serverSide, { transport: 'test-wire', logger: silentLogger, legacy })
  closers.push(() => handle.close())
  const client = new Client({ name: 'test', version: '1.0.0' }, { versionNegotiation: { mode } })
  return { client, clientSide, handle, closes: () => closedByTransport }
}

describe('serveConnection', () => {
  it.each([
    ['2025-11-25', 'legacy'],
    ['2026-07-28', { pin: '2026-07-28' }],
  ] as const)('serves a %s client, and the handler sees the identity its transport vouched for', async (version, mode) => {
    const { client, clientSide } = await connect(mode)
    await client.connect(clientSide)
    expect(client.getNegotiatedProtocolVersion()).toBe(version)
    const r = await client.callTool({ name: 'whoami', arguments: {} })
    expect(r.structuredContent).toEqual({ id: 'peer:alice', transport: 'test-wire' })
  })

  it("with legacy: 'reject', a 2025 client is refused and a 2026-07-28 client served", async () => {
    const refused = await connect('legacy', 'reject')
    const err = await rejection(refused.client.connect(refused.clientSide))
    expect(err.message).toMatch(/Unsupported protocol version: 2025-11-25/)
    const served = await connect({ pin: '2026-07-28' }, 'reject')
    await served.client.connect(served.clientSide)
    expect((await served.client.callTool({ name: 'whoami', arguments: {} })).isError).toBeFalsy()
  })

  it("keeps calling the transport's own onclose when the connection ends", async () => {
    const { client, clientSide: wire, closes } = await connect('legacy')
    await client.connect(wire)
    await client.close()
    await new Promise((resolve) => setTimeout(resolve, 10))
    expect(closes()).toBe(1)
  })
})
