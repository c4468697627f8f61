/**
 * 2025-era HTTP serving with `Mcp-Session-Id` sessions (`legacy: 'sessions'`, the default), the
 * `'stateless'` alternative, and resource subscriptions: `resources/subscribe` on a 2025 session and
 * `subscriptions/listen` on 2026-07-28, both fed by `server.resourceUpdated(uri)`.
 */
import type { AgoraServer } from '@agora/core'
import { createServer, silentLogger } from '@agora/core'
import type { HttpServerHandle, ServeHttpOptions } from '@agora/core/http'
import { serveHttp } from '@agora/core/http'
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client'
import { afterEach, describe, expect, test } from 'vitest'

function fixture(): AgoraServer {
  return createServer({ name: 'sessions', version: '1.0.0' })
    .tool('hello', { description: 'says hello' }, () => 'hello')
    .tool('chatty', { description: 'logs at two levels' }, (_a, ctx) => {
      ctx.log.info('an info line')
      ctx.log.warn('a warning line')
      return 'done'
    })
    .resource('test://watched', { description: 'changes' }, () => 'now')
}

const servers: HttpServerHandle[] = []
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()))
})
async function serve(def = fixture(), options: ServeHttpOptions = {}) {
  const http = await serveHttp(def, { port: 0, logger: silentLogger, ...options })
  servers.push(http)
  return http
}

const LEGACY = '2025-11-25'
const post = (url: string, body: unknown, session?: string) =>
  fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      ...(session ? { 'mcp-session-id': session, 'mcp-protocol-version': LEGACY } : {}),
    },
    body: JSON.stringify(body),
  })
const initialize = (url: string) =>
  post(url, {
    jsonrpc: '2.0',
    id: 1,
    method: 'initialize',
    params: { protocolVersion: LEGACY, capabilities: {}, clientInfo: { name: 't', version: '1' } },
  })

async function legacyClient(url: string) {
  const client = new Client({ name: 'test', version: '1.0.0' }, { versionNegotiation: { mode: 'legacy' } })
  await client.connect(new StreamableHTTPClientTransport(new URL(url)))
  return client
}

const until = async (check: () => boolean, ms = 2000) => {
  const end = Date.now() + ms
  while (!check() && Date.now() < end) await new Promise((r) => setTimeout(r, 20))
}

describe('2025 sessions over HTTP', () => {
  test('initialize opens a session that later requests and DELETE use', async () => {
    const http = await serve()
    const init = await initialize(http.mcpUrl)
    const session = init.headers.get('mcp-session-id')
    expect(init.status).toBe(200)
    expect(session).toMatch(/^[\x21-\x7e]+$/)
    await init.body?.cancel()

    const list = await post(http.mcpUrl, { jsonrpc: '2.0', id: 2, method: 'tools/list', params: {} }, session ?? '')
    expect(await list.text()).toContain('"hello"')

    const end = await fetch(http.mcpUrl, { method: 'DELETE', headers: { 'mcp-session-id': session ?? '' } })
    expect(end.status).toBe(200)
    const after = await post(http.mcpUrl, { jsonrpc: '2.0', id: 3, method: 'tools/list', params: {} }, session ?? '')
    expect(after.status).toBe(404)
  })

  test('without a session: GET is 405, a request that is not initialize is answered statelessly', async () => {
    const http = await serve()
    expect((await fetch(http.mcpUrl)).status).toBe(405)
    const list = await post(http.mcpUrl, { jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} })
    expect(list.status).toBe(200)
    expect(await list.text()).toContain('"hello"')
  })

  test('logging/setLevel holds for the session', async () => {
    const http = await serve()
    const client = await legacyClient(http.mcpUrl)
    const seen: string[] = []
    client.setNotificationHandler('notifications/message', (n) => {
      seen.push(String(n.params.level))
    })
    await client.setLoggingLevel('warning')
    await client.callTool({ name: 'chatty', arguments: {} })
    await until(() => seen.length > 0)
    expect(seen).toEqual(['warning'])
    await client.close()
  })

  test("legacy: 'stateless' gives no session", async () => {
    const http = await serve(fixture(), { legacy: 'stateless' })
    const init = await initialize(http.mcpUrl)
    expect(init.status).toBe(200)
    expect(init.headers.get('mcp-session-id')).toBeNull()
  })

  test('an idle session is closed after sessionIdleMs', async () => {
    const http = await serve(fixture(), { sessionIdleMs: 50 })
    const session = (await initialize(http.mcpUrl)).headers.get('mcp-session-id') ?? ''
    await new Promise((r) => setTimeout(r, 200))
    expect((await post(http.mcpUrl, { jsonrpc: '2.0', id: 9, method: 'ping' }, session)).status).toBe(404)
  })

  test('the least recently used session is closed beyond maxSessions', async () => {
    const http = await serve(fixture(), { maxSessions: 1 })
    const first = (await initialize(http.mcpUrl)).headers.get('mcp-session-id') ?? ''
    const second = (await initialize(http.mcpUrl)).headers.get('mcp-session-id') ?? ''
    const ping = (s: string) => post(http.mcpUrl, { jsonrpc: '2.0', id: 9, method: 'ping' }, s)
    expect((await ping(first)).status).toBe(404)
    expect((await ping(second)).status).toBe(200)
  })
})

describe('resource subscriptions', () => {
  test('2025: resources/subscribe, then resourceUpdated notifies until unsubscribed', async () => {
    const def = fixture()
    const http = await serve(def)
    const client = await legacyClient(http.mcpUrl)
    expect(client.getServerCapabilities()?.resources?.subscribe).toBe(true)
    const updated: string[] = []
    client.setNotificationHandler('notifications/resources/updated', (n) => {
      updated.push(n.params.uri)
    })
    await client.subscribeResource({ uri: 'test://watched' })
    def.resourceUpdated('test://watched')
    await until(() => updated.length > 0)
    expect(updated).toEqual(['test://watched'])

    await client.unsubscribeResource({ uri: 'test://watched' })
    def.resourceUpdated('test://watched')
    await new Promise((r) => setTimeout(r, 100))
    expect(updated).toHaveLength(1)
    await expect(client.subscribeResource({ uri: 'test://nope' })).rejects.toThrow()
    await client.close()
  })

  test('2026-07-28: subscriptions/listen hears resourceUpdated', async () => {
    const def = fixture()
    const http = await serve(def)
    const client = new Client({ name: 'test', version: '1.0.0' }, { versionNegotiation: { mode: { pin: '2026-07-28' } } })
    await client.connect(new StreamableHTTPClientTransport(new URL(http.mcpUrl)))
    const updated: string[] = []
    client.setNotificationHandler('notifications/resources/updated', (n) => {
      updated.push(n.params.uri)
    })
    const subscription = await client.listen({ resourceSubscriptions: ['test://watched'] })
    def.resourceUpdated('test://watched')
    await until(() => updated.length > 0)
    expect(updated).toEqual(['test://watched'])
    await subscription.close()
    await client.close()
  })
})
