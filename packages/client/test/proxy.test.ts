import { fileURLToPath } from 'node:url'
import type { PaymentGateway } from '@agora/core'
import { allowCallers, createServer } from '@agora/core'
import { AgoraError } from '@agora/core/errors'
import type { HttpServerHandle } from '@agora/core/http'
import { serveHttp } from '@agora/core/http'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { z } from 'zod'
import type { AgoraClient } from '../src/index.ts'
import { connect, contentText, proxyServer } from '../src/index.ts'
import { API_KEY, fixtureServer } from './fixtures/server.ts'

const EVERYTHING = fileURLToPath(
  new URL('../../../node_modules/@modelcontextprotocol/server-everything/dist/index.js', import.meta.url),
)

/** A second upstream whose `echo` collides with the fixture's. */
const other = createServer({ name: 'other', version: '1.0.0' })
  .tool('echo', { input: z.object({ text: z.string() }) }, ({ text }) => `other: ${text}`)
  .tool('add', { input: z.object({ a: z.number(), b: z.number() }) }, ({ a, b }) => ({ sum: a + b }))

/** Charges nothing but records what the pay gate asked, so the test sees the proxy's prices applied. */
function recordingGateway(seen: string[]): PaymentGateway {
  return {
    async authorize(inv) {
      seen.push(`${inv.name} ${inv.price?.amount} ${inv.price?.asset}`)
      return { kind: 'authorized', authorization: null }
    },
    async settle() {
      return { kind: 'settled', receipt: { paid: true } }
    },
    async release() {},
  }
}

describe('proxyServer', () => {
  const handles: HttpServerHandle[] = []
  const clients: AgoraClient[] = []
  let proxyUrl: string
  const seen: string[] = []

  beforeAll(async () => {
    const a = await serveHttp(fixtureServer(), { port: 0 })
    const b = await serveHttp(other, { port: 0 })
    handles.push(a, b)
    const up1 = await connect(a.mcpUrl, { apiKey: API_KEY })
    const up2 = await connect(b.mcpUrl)
    clients.push(up1, up2)
    const proxy = await proxyServer(
      [
        { client: up1, label: 'fx' },
        { client: up2, label: 'ot' },
      ],
      { info: { name: 'proxy', version: '0.0.1' }, prices: { add: '3 sats' } },
    )
    proxy.server.payments(recordingGateway(seen))
    expect([...proxy.tools.keys()].sort()).toEqual(['add', 'echo_fx', 'echo_ot', 'fail', 'slow', 'whoami'])
    const served = await serveHttp(proxy.server, { port: 0 })
    handles.push(served)
    proxyUrl = served.mcpUrl
  })
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close()))
    await Promise.all(handles.map((h) => h.close()))
  })

  it('lists every upstream tool with its schema, disambiguating shared names', async () => {
    const client = await connect(proxyUrl)
    clients.push(client)
    const tools = await client.listTools()
    const add = tools.find((t) => t.name === 'add')
    expect(add?.inputSchema).toMatchObject({ type: 'object', properties: { a: { type: 'number' }, b: { type: 'number' } } })
    expect(tools.find((t) => t.name === 'echo_fx')?.description).toBe('Echoes text')
  })

  it('forwards calls to the right upstream, with the upstream credential', async () => {
    const client = await connect(proxyUrl)
    clients.push(client)
    expect(contentText(await client.callTool('echo_fx', { text: 'hi' }))).toBe('hi')
    expect(contentText(await client.callTool('echo_ot', { text: 'hi' }))).toBe('other: hi')
    expect(contentText(await client.callTool('whoami'))).toBe('key:alice')
    const failed = await client.callTool('fail')
    expect(failed.isError).toBe(true)
    expect(contentText(failed)).toMatch(/always fails/)
  })

  it('validates arguments against the upstream schema before pricing or forwarding', async () => {
    const client = await connect(proxyUrl)
    clients.push(client)
    const before = seen.length
    await expect(client.callTool('add', { a: 'one', b: 2 })).rejects.toMatchObject({ code: 'INVALID_PARAMS' })
    expect(seen.length).toBe(before)
    const result = await client.callTool('add', { a: 1, b: 2 })
    expect(result.structuredContent).toEqual({ sum: 3 })
    expect(seen.slice(before)).toEqual(['add 3 sats'])
    expect(result._meta?.['agora/receipt']).toEqual({ paid: true })
  })

  it('forwards resources and prompts', async () => {
    const client = await connect(proxyUrl)
    clients.push(client)
    const read = await client.readResource('test://hello')
    expect(read.contents[0]).toMatchObject({ uri: 'test://hello', text: 'hello resource' })
    const prompts = await client.listPrompts()
    expect(prompts.find((p) => p.name === 'greet')?.arguments).toEqual([{ name: 'name', required: true }])
    const prompt = await client.getPrompt('greet', { name: 'Ada' })
    expect(JSON.stringify(prompt.messages)).toContain('Say hello to Ada')
  })

  it('puts access rules in front of a server that has none', async () => {
    const upstream = await connect(handles[1]!.mcpUrl)
    clients.push(upstream)
    const { server } = await proxyServer([{ client: upstream }], {
      info: { name: 'locked', version: '1.0.0' },
      access: allowCallers('key:nobody'),
    })
    const served = await serveHttp(server, { port: 0 })
    handles.push(served)
    const client = await connect(served.mcpUrl)
    clients.push(client)
    await expect(client.callTool('add', { a: 1, b: 1 })).rejects.toMatchObject({ code: 'UNAUTHENTICATED' })
  })

  it('refuses to build without upstreams', async () => {
    await expect(proxyServer([], { info: { name: 'x', version: '1' } })).rejects.toEqual(expect.any(AgoraError))
  })

  it('re-exposes an npm MCP server (server-everything over stdio)', async () => {
    const upstream = await connect(`stdio:${process.execPath} ${EVERYTHING} stdio`, { timeoutMs: 15_000 })
    clients.push(upstream)
    const proxy = await proxyServer([{ client: upstream }], { info: { name: 'everything', version: '1.0.0' } })
    expect(proxy.tools.has('echo')).toBe(true)
    const served = await serveHttp(proxy.server, { port: 0 })
    handles.push(served)
    const client = await connect(served.mcpUrl)
    clients.push(client)
    const echoed = await client.callTool('echo', { message: 'through the proxy' })
    expect(contentText(echoed)).toContain('through the proxy')
    const sum = await client.callTool('get-sum', { a: 2, b: 5 })
    expect(contentText(sum)).toContain('7')
  })
})

describe('proxyServer following its upstreams', () => {
  it('picks up tools an upstream adds, changes and removes, and tells its own clients', async () => {
    const upstream = createServer({ name: 'moving', version: '1.0.0' }).tool(
      'stay',
      { description: 'v1', input: z.object({ n: z.number() }) },
      ({ n }) => String(n),
    )
    const served = await serveHttp(upstream, { port: 0 })
    let proxy: Awaited<ReturnType<typeof proxyServer>> | undefined
    const refreshed: Promise<void>[] = []
    const client = await connect(served.mcpUrl, {
      onListChanged: () => void refreshed.push(proxy?.refresh(client) ?? Promise.resolve()),
    })
    proxy = await proxyServer([{ client }], { info: { name: 'following', version: '1.0.0' } })
    const front = await serveHttp(proxy.server, { port: 0 })
    const heard: string[] = []
    const downstream = await connect(front.mcpUrl, { protocol: '2026-07-28', onListChanged: (list) => heard.push(list) })
    const names = async () => (await downstream.listTools()).map((t) => `${t.name}:${t.description}`).sort()
    const eventually = async (want: string[]) => {
      for (let i = 0; i < 200 && JSON.stringify(await names()) !== JSON.stringify(want); i++) {
        await new Promise((r) => setTimeout(r, 25))
      }
      expect(await names()).toEqual(want)
    }
    try {
      expect(await names()).toEqual(['stay:v1'])
      // Notification streams open a moment after connecting: wait until a change goes all the way through.
      for (let i = 0; heard.length === 0; i++) {
        if (i === 100) throw new Error('the proxy never passed a list change on')
        upstream.tool(`probe${i}`, { description: 'probe' }, () => 'probe')
        await new Promise((r) => setTimeout(r, 50))
        upstream.removeTool(`probe${i}`)
      }
      await eventually(['stay:v1'])
      expect(heard).toContain('tools')
      upstream.tool('extra', { description: 'new', input: z.object({ s: z.string() }) }, ({ s }) => s.toUpperCase())
      await eventually(['extra:new', 'stay:v1'])
      expect(contentText(await downstream.callTool('extra', { s: 'hi' }))).toBe('HI')
      upstream.removeTool('stay')
      upstream.tool('stay', { description: 'v2', input: z.object({ n: z.number() }) }, ({ n }) => String(n * 10))
      await eventually(['extra:new', 'stay:v2'])
      expect(contentText(await downstream.callTool('stay', { n: 4 }))).toBe('40')
      upstream.removeTool('extra')
      await eventually(['stay:v2'])
      await expect(downstream.callTool('extra', { s: 'x' })).rejects.toMatchObject({
        message: expect.stringMatching(/Unknown tool: extra/),
      })
      await Promise.all(refreshed)
    } finally {
      await downstream.close()
      await client.close()
      await front.close()
      await served.close()
    }
  })
})
