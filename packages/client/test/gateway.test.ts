/**
 * `nostrGateway` against a real relay: it finds announced servers, exposes their tools, and follows
 * a server whose tools change while it runs (the change travels as a Nostr notification, the
 * gateway lists that server again, and the gateway's own clients hear `list_changed`).
 */
import type { AgoraServer } from '@agora/core'
import { createServer, serveConnection, silentLogger } from '@agora/core'
import { publishNostr } from '@agora/transport-nostr'
import { startRelay } from '@agora/transport-nostr/relay'
import { Client, InMemoryTransport } from '@modelcontextprotocol/client'
import { afterEach, describe, expect, it } from 'vitest'
import { z } from 'zod'
import { nostrGateway } from '../src/index.ts'

const closers: (() => Promise<unknown>)[] = []
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close().catch(() => {})
})

/** An MCP client of `server` (as Claude Desktop would be) that records every tools list it is told about. */
async function desktopClient(server: AgoraServer) {
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair()
  const served = serveConnection(server, serverSide, { transport: 'memory', logger: silentLogger })
  closers.push(() => served.close())
  const heard: string[][] = []
  const client = new Client(
    { name: 'desktop', version: '1.0.0' },
    { listChanged: { tools: { debounceMs: 0, onChanged: (_e, tools) => void heard.push((tools ?? []).map((t) => t.name)) } } },
  )
  await client.connect(clientSide)
  closers.push(() => client.close())
  return { client, heard }
}

describe('nostrGateway', () => {
  it('exposes announced tools and follows a server whose tools change', async () => {
    const relay = await startRelay({ logger: silentLogger })
    closers.push(() => relay.close())
    const upstream = createServer({ name: 'changing', version: '1.0.0', description: 'Tools come and go' }).tool(
      'first',
      { description: 'There from the start' },
      () => 'first',
    )
    const published = await publishNostr(upstream, { relays: [relay.url], logger: silentLogger })
    closers.push(() => published.close())

    const gateway = await nostrGateway({ relays: [relay.url], logger: silentLogger, timeoutMs: 5000 })
    closers.push(() => gateway.close())
    expect(gateway.upstreams.map((u) => [u.name, u.tools])).toEqual([['changing', ['first']]])

    const { client, heard } = await desktopClient(gateway.server)

    upstream.tool('second', { description: 'Added later', input: z.object({ n: z.number() }) }, ({ n }) => String(n + 1))
    for (let i = 0; i < 200 && !heard.some((names) => names.includes('second')); i++) await new Promise((r) => setTimeout(r, 25))
    expect(heard.at(-1)).toEqual(['first', 'second'])
    expect(await client.callTool({ name: 'second', arguments: { n: 41 } })).toMatchObject({ content: [{ text: '42' }] })

    upstream.removeTool('first')
    for (let i = 0; i < 200 && heard.at(-1)?.includes('first'); i++) await new Promise((r) => setTimeout(r, 25))
    expect(heard.at(-1)).toEqual(['second'])
  })
})

describe('nostrGateway rediscovery', () => {
  it('adds a server announced after it started, and drops one whose announcement is withdrawn', async () => {
    const relay = await startRelay({ logger: silentLogger })
    closers.push(() => relay.close())
    const first = createServer({ name: 'first-server', version: '1.0.0' }).tool('alpha', { description: 'a' }, () => 'alpha')
    const one = await publishNostr(first, { relays: [relay.url], logger: silentLogger })
    closers.push(() => one.close())
    const gateway = await nostrGateway({ relays: [relay.url], logger: silentLogger, timeoutMs: 5000, rediscoverMs: 0 })
    closers.push(() => gateway.close())

    const { client, heard } = await desktopClient(gateway.server)

    const second = createServer({ name: 'second-server', version: '1.0.0' }).tool('beta', { description: 'b' }, () => 'beta')
    const two = await publishNostr(second, { relays: [relay.url], logger: silentLogger })
    await gateway.rediscover()
    expect(gateway.upstreams.map((u) => u.name).sort()).toEqual(['first-server', 'second-server'])
    for (let i = 0; i < 200 && !heard.at(-1)?.includes('beta'); i++) await new Promise((r) => setTimeout(r, 25))
    expect(heard.at(-1)?.sort()).toEqual(['alpha', 'beta'])
    expect(await client.callTool({ name: 'beta', arguments: {} })).toMatchObject({ content: [{ text: 'beta' }] })

    await two.close() // withdraws its announcement
    await gateway.rediscover()
    expect(gateway.upstreams).toHaveLength(2) // one miss may be a relay hiccup
    await gateway.rediscover()
    expect(gateway.upstreams.map((u) => u.name)).toEqual(['first-server'])
    for (let i = 0; i < 200 && heard.at(-1)?.includes('beta'); i++) await new Promise((r) => setTimeout(r, 25))
    expect(heard.at(-1)).toEqual(['alpha'])
  })
})
