import { apiKeys, createServer, descriptorSchema, silentLogger } from '@agora/core'
import type { HttpServerHandle } from '@agora/core/http'
import { serveHttp } from '@agora/core/http'
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { z } from 'zod'

const server = createServer({ name: 'http-test', version: '2.0.0', description: 'HTTP edge cases' })
  .auth({ authenticators: [apiKeys({ keys: { 'sk-test-0123456789': { name: 'tester' } } })] })
  .tool('echo', { input: z.object({ text: z.string() }) }, ({ text }) => text)
  .tool('whoami', {}, (_a, ctx) => ({ id: ctx.caller.id, kind: ctx.transport.kind, remote: ctx.transport.remote ?? null }))
  .tool('forecast', { price: '0.01 USDC' }, () => 'sunny')

let http: HttpServerHandle
beforeAll(async () => {
  http = await serveHttp(server, { port: 0, maxBodyBytes: 64 * 1024, logger: silentLogger })
})
afterAll(() => http.close())

const LEGACY = {
  'content-type': 'application/json',
  accept: 'application/json, text/event-stream',
  'mcp-protocol-version': '2025-11-25',
}
const post = (body: string, headers: Record<string, string> = {}) =>
  fetch(http.mcpUrl, { method: 'POST', headers: { ...LEGACY, ...headers }, body })
const call = (name: string, args: unknown = {}, id = 1) =>
  JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: args } })

/** Reads a JSON-RPC response that may come as JSON or as one SSE event. */
async function rpc(
  res: Response,
): Promise<{ result?: Record<string, unknown>; error?: { code: number; message: string; data?: unknown } }> {
  const body = await res.text()
  if (res.headers.get('content-type')?.includes('text/event-stream')) {
    const data = body
      .split('\n')
      .filter((l) => l.startsWith('data: '))
      .map((l) => JSON.parse(l.slice(6)))
    return data.find((m) => 'result' in m || 'error' in m)
  }
  return JSON.parse(body)
}

describe('Streamable HTTP edge', () => {
  it('serves /health', async () => {
    const res = await fetch(`${http.url}/health`)
    expect(res.status).toBe(200)
    expect(await res.json()).toMatchObject({ status: 'ok', name: 'http-test', version: '2.0.0' })
  })

  it('answers GET and DELETE on the MCP endpoint with 405 and Allow: POST', async () => {
    for (const method of ['GET', 'DELETE']) {
      const res = await fetch(http.mcpUrl, { method })
      expect(res.status).toBe(405)
      expect(res.headers.get('allow')).toBe('POST')
    }
  })

  it('rejects malformed JSON with a parse error', async () => {
    const res = await post('{"jsonrpc": "2.0", "id": 1, "method": ')
    expect(res.status).toBe(400)
    expect((await res.json()).error).toMatchObject({ code: -32700 })
  })

  it('rejects an oversized body with 413 and a clear message, then keeps serving', async () => {
    const res = await post(call('echo', { text: 'x'.repeat(70 * 1024) }))
    expect(res.status).toBe(413)
    expect((await res.json()).error.message).toBe('Request body too large: the limit is 65536 bytes')
    const ok = await rpc(await post(call('echo', { text: 'small' })))
    expect(ok.result?.content).toEqual([{ type: 'text', text: 'small' }])
  })

  it('rejects a foreign Host header (DNS rebinding) and a foreign Origin with 403', async () => {
    // fetch() will not let us forge Host, so use node:http directly.
    const { request } = await import('node:http')
    const status = (headers: Record<string, string>) =>
      new Promise<number>((resolve, reject) => {
        const req = request(http.mcpUrl, { method: 'POST', headers: { ...LEGACY, ...headers } }, (res) => {
          res.resume()
          resolve(res.statusCode ?? 0)
        })
        req.on('error', reject)
        req.end(call('echo', { text: 'x' }))
      })
    expect(await status({ host: 'evil.example:80' })).toBe(403)
    expect(await status({ origin: 'https://evil.example' })).toBe(403)
    expect(await status({ origin: 'http://localhost:6274' })).toBe(200)
  })

  it('answers an unknown method with -32601', async () => {
    const res = await post(JSON.stringify({ jsonrpc: '2.0', id: 7, method: 'tools/frobnicate', params: {} }))
    expect((await rpc(res)).error?.code).toBe(-32601)
  })

  it('authenticates API keys from Authorization and X-API-Key headers, and rejects a wrong one', async () => {
    const who = async (headers: Record<string, string>) => rpc(await post(call('whoami'), headers))
    expect((await who({ authorization: 'Bearer sk-test-0123456789' })).result?.structuredContent).toMatchObject({
      id: 'key:tester',
    })
    expect((await who({ 'x-api-key': 'sk-test-0123456789' })).result?.structuredContent).toMatchObject({ id: 'key:tester' })
    const anon = (await who({})).result?.structuredContent as { id: string; kind: string }
    expect(anon).toMatchObject({ id: 'ip:127.0.0.1', kind: 'http' })
    const bad = await who({ authorization: 'Bearer sk-nope-000000000' })
    expect(bad.error).toMatchObject({ code: -31401, message: 'Invalid API key', data: { code: 'UNAUTHENTICATED' } })
  })

  it('serves the server descriptor, valid against its schema, with prices and the endpoint', async () => {
    const res = await fetch(`${http.url}/.well-known/agora.json`)
    const descriptor = descriptorSchema.parse(await res.json())
    expect(descriptor.endpoints).toEqual([{ transport: 'streamable-http', url: http.mcpUrl }])
    expect(descriptor.tools.find((t) => t.name === 'forecast')?.price).toEqual({ amount: '0.01', asset: 'USDC' })
    expect(descriptor.tools.find((t) => t.name === 'echo')?.price).toBeUndefined()
  })

  it('serves 2026-07-28 and 2025-era clients from the same endpoint', async () => {
    for (const mode of ['legacy', { pin: '2026-07-28' }] as const) {
      const client = new Client({ name: 't', version: '1' }, { versionNegotiation: { mode } })
      await client.connect(new StreamableHTTPClientTransport(new URL(http.mcpUrl)))
      const r = await client.callTool({ name: 'echo', arguments: { text: String(mode) } })
      expect(r.content).toEqual([{ type: 'text', text: String(mode) }])
      await client.close()
    }
  })

  it('reports a clear error when the port is taken', async () => {
    await expect(serveHttp(server, { port: http.port, logger: silentLogger })).rejects.toThrow(
      /cannot listen on 127\.0\.0\.1:\d+: EADDRINUSE/,
    )
  })
})
