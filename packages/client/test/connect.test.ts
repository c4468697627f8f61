import { fileURLToPath } from 'node:url'
import type { HttpServerHandle } from '@agora/core/http'
import { serveHttp } from '@agora/core/http'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { AgoraClient, ConnectOptions } from '../src/index.ts'
import { connect, contentText } from '../src/index.ts'
import { API_KEY, fixtureServer } from './fixtures/server.ts'

const repo = (p: string) => fileURLToPath(new URL(`../../../${p}`, import.meta.url))
const AGORA = repo('packages/cli/bin/agora.js')
const FIXTURE = repo('packages/client/test/fixtures/server.ts')

const agoraError = (code: string, message?: RegExp) =>
  expect.objectContaining({ name: 'AgoraError', code, ...(message ? { message: expect.stringMatching(message) } : {}) })

/** The same behaviour over every transport. */
function contract(name: string, open: () => Promise<AgoraClient>) {
  describe(name, () => {
    let client: AgoraClient
    beforeAll(async () => {
      client = await open()
    })
    afterAll(() => client?.close())

    it('knows the server', () => {
      expect(client.server).toMatchObject({ name: 'fixture', version: '1.2.3' })
      expect(client.sdk.getServerVersion()?.name).toBe('fixture')
    })
    it('lists and calls tools', async () => {
      expect((await client.listTools()).map((t) => t.name)).toEqual(['echo', 'fail', 'whoami', 'slow'])
      const result = await client.callTool('echo', { text: 'hello' })
      expect(contentText(result)).toBe('hello')
      expect(result.isError).toBeFalsy()
    })
    it('returns a tool failure as an isError result', async () => {
      const result = await client.callTool('fail')
      expect(result.isError).toBe(true)
      expect(contentText(result)).toBe('this tool always fails')
    })
    it('throws JSON-RPC errors as AgoraErrors with the stable code and the wire code', async () => {
      await expect(client.callTool('nope')).rejects.toEqual(agoraError('NOT_FOUND', /Unknown tool: nope/))
      await expect(client.callTool('echo', { text: 1 })).rejects.toEqual(agoraError('INVALID_PARAMS'))
      const err = await client.callTool('nope').catch((e: unknown) => e)
      expect((err as { data: Record<string, unknown> }).data).toMatchObject({ rpcCode: -32602, tool: 'nope' })
    })
    it('bounds a call with timeoutMs and cancels with a signal', async () => {
      await expect(client.callTool('slow', { ms: 5000 }, { timeoutMs: 200 })).rejects.toEqual(agoraError('TIMEOUT'))
      const ac = new AbortController()
      setTimeout(() => ac.abort(), 100)
      await expect(client.callTool('slow', { ms: 5000 }, { signal: ac.signal })).rejects.toEqual(agoraError('CANCELLED'))
      expect(contentText(await client.callTool('slow', { ms: 1 }))).toBe('done')
    })
    it('reads resources and prompts', async () => {
      expect((await client.listResources()).map((r) => r.uri)).toEqual(['test://hello'])
      expect((await client.readResource('test://hello')).contents[0]).toMatchObject({ text: 'hello resource' })
      expect((await client.listPrompts()).map((p) => p.name)).toEqual(['greet'])
      const prompt = await client.getPrompt('greet', { name: 'Ada' })
      expect(prompt.messages[0]?.content).toEqual({ type: 'text', text: 'Say hello to Ada' })
    })
  })
}

describe('over HTTP', () => {
  let http: HttpServerHandle
  let locked: HttpServerHandle
  beforeAll(async () => {
    http = await serveHttp(fixtureServer(), { port: 0 })
    locked = await serveHttp(fixtureServer({ requireKey: true }), { port: 0 })
  })
  afterAll(async () => {
    await http?.close()
    await locked?.close()
  })

  contract('contract', () => connect(http.mcpUrl))

  it('sends headers and API keys', async () => {
    await expect(connect(locked.mcpUrl).then((c) => c.listTools().finally(() => c.close()))).rejects.toEqual(
      agoraError('UNAUTHENTICATED', /Authentication required/),
    )
    const ways: ConnectOptions[] = [
      { apiKey: API_KEY },
      { headers: { 'X-API-Key': API_KEY } },
      { headers: { Authorization: `Bearer ${API_KEY}` } },
    ]
    for (const options of ways) {
      const client = await connect(locked.mcpUrl, options)
      expect(contentText(await client.callTool('whoami'))).toBe('key:alice')
      await client.close()
    }
  })

  it('reports a refused connection as CONNECTION in one line', async () => {
    const url = http.mcpUrl
    const closed = await serveHttp(fixtureServer(), { port: 0 })
    const deadUrl = closed.mcpUrl
    await closed.close()
    const err = await connect(deadUrl, { timeoutMs: 5000 }).catch((e: unknown) => e)
    expect(err).toEqual(agoraError('CONNECTION', /cannot reach http:\/\/127\.0\.0\.1:\d+\/mcp: connection refused/))
    expect((err as Error).message).not.toContain('\n')
    expect(url).not.toBe(deadUrl)
  })

  it('honours an aborted signal before connecting', async () => {
    await expect(connect(http.mcpUrl, { signal: AbortSignal.abort() })).rejects.toEqual(agoraError('CANCELLED'))
  })

  contract('contract, 2026-07-28', () => connect(http.mcpUrl, { protocol: '2026-07-28' }))

  it('speaks the era asked for: legacy by default, auto, or a pinned revision', async () => {
    const modernOnly = await serveHttp(fixtureServer(), { port: 0, legacy: 'reject' })
    try {
      const old = await connect(http.mcpUrl)
      expect(old.protocolVersion).toBe('2025-11-25')
      await old.close()
      // A server that refuses 2025 clients: legacy fails, auto and the pin work.
      await expect(connect(modernOnly.mcpUrl, { timeoutMs: 5000 })).rejects.toEqual(agoraError('CONNECTION'))
      for (const protocol of ['auto', '2026-07-28']) {
        const client = await connect(modernOnly.mcpUrl, { protocol })
        expect(client.protocolVersion).toBe('2026-07-28')
        expect(contentText(await client.callTool('whoami'))).toBeTypeOf('string')
        await client.close()
      }
      // auto falls back to initialize on a 2025-only server.
      const legacyOnly = `stdio:${process.execPath} ${repo('packages/client/test/fixtures/legacy-stdio.ts')}`
      const stdio = await connect(legacyOnly, { protocol: 'auto' })
      expect(stdio.protocolVersion).toBe('2025-11-25')
      expect(contentText(await stdio.callTool('echo', { text: 'hi' }))).toBe('hi')
      await stdio.close()
      // A pinned revision the server does not offer fails clearly.
      await expect(connect(http.mcpUrl, { protocol: '2099-01-01', timeoutMs: 5000 })).rejects.toBeInstanceOf(Error)
    } finally {
      await modernOnly.close()
    }
  })
})

describe('over stdio (agora serve --stdio)', () => {
  contract('contract', () => connect(`stdio:${process.execPath} ${AGORA} serve ${FIXTURE} --stdio`))

  it('sends the API key in _meta when there are no headers', async () => {
    const client = await connect(`stdio:${process.execPath} ${AGORA} serve ${FIXTURE} --stdio`, { apiKey: API_KEY })
    expect(contentText(await client.callTool('whoami'))).toBe('key:alice')
    await client.close()
  })

  it('reports a command that does not exist', async () => {
    await expect(connect('stdio:/nonexistent/agora-test-command')).rejects.toEqual(agoraError('CONNECTION', /command not found/))
  })

  it('reports a server that dies, with the last line it wrote', async () => {
    const target = `stdio:${process.execPath} -e "console.error('fatal: no config'); process.exit(3)"`
    await expect(connect(target, { timeoutMs: 10_000 })).rejects.toEqual(
      agoraError('CONNECTION', /the server wrote: fatal: no config/),
    )
  })

  it('bounds the handshake with timeoutMs', async () => {
    const target = `stdio:${process.execPath} -e "setTimeout(() => {}, 60000)"`
    const started = Date.now()
    await expect(connect(target, { timeoutMs: 300 })).rejects.toEqual(agoraError('TIMEOUT'))
    expect(Date.now() - started).toBeLessThan(5000)
  })
})
