/**
 * Multi round-trip (`inputRequired(...)`) on tools, prompts and resources, the signed
 * `requestState`, `ctx.clientCapabilities`, and tools that require client capabilities — over
 * 2026-07-28 HTTP (raw requests and the SDK client) and over a 2025 session.
 */
import type { AgoraServer } from '@agora/core'
import { acceptedContent, createServer, inputRequired, inputResponse, silentLogger } from '@agora/core'
import type { HttpServerHandle } from '@agora/core/http'
import { serveHttp } from '@agora/core/http'
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { z } from 'zod'

const nameForm = z.object({ name: z.string() })
const askName = () =>
  inputRequired({ inputRequests: { who: inputRequired.elicit({ message: 'Name?', requestedSchema: nameForm }) } })

function fixture(): AgoraServer {
  return createServer({ name: 'mrtr', version: '1.0.0' })
    .tool('greet', { description: 'asks for a name' }, (_a, ctx) => {
      const answer = acceptedContent(ctx.inputResponses, 'who', nameForm)
      if (answer && ctx.requestState() === 'asked') return `Hello, ${answer.name}!`
      return inputRequired({
        inputRequests: { who: inputRequired.elicit({ message: 'Name?', requestedSchema: nameForm }) },
        requestState: 'asked',
      })
    })
    .tool('other', { description: 'reads its state' }, (_a, ctx) => `state=${ctx.requestState() ?? 'none'}`)
    .tool('caps', { description: 'echoes client capabilities' }, (_a, ctx) => JSON.stringify(ctx.clientCapabilities))
    .tool('llm', { description: 'needs sampling', requires: { sampling: {} } }, (_a, ctx) => {
      const answer = inputResponse(ctx.inputResponses, 'q')
      if (answer.kind === 'sampling') return 'sampled'
      return inputRequired({
        inputRequests: {
          q: inputRequired.createMessage({ messages: [{ role: 'user', content: { type: 'text', text: 'hi' } }], maxTokens: 5 }),
        },
      })
    })
    .prompt('ask-prompt', { description: 'asks first' }, (_a, ctx) => {
      const answer = acceptedContent(ctx.inputResponses, 'who', nameForm)
      return answer ? `Write to ${answer.name}` : askName()
    })
    .resource('test://ask', { description: 'asks first' }, (_u, ctx) => {
      const answer = acceptedContent(ctx.inputResponses, 'who', nameForm)
      return answer ? `for ${answer.name}` : askName()
    })
}

const MODERN = '2026-07-28'
// biome-ignore lint/suspicious/noExplicitAny: raw JSON-RPC answers, read field by field in assertions
type Raw = any

/** One raw 2026-07-28 request; returns the HTTP status and the JSON-RPC message. */
async function rpc(
  url: string,
  method: string,
  params: Record<string, unknown>,
  capabilities: Record<string, unknown> = { elicitation: {}, sampling: {} },
) {
  const name = (params.name ?? params.uri) as string | undefined
  const res = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      'mcp-protocol-version': MODERN,
      'mcp-method': method,
      ...(name ? { 'mcp-name': name } : {}),
    },
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      method,
      params: {
        ...params,
        _meta: {
          'io.modelcontextprotocol/protocolVersion': MODERN,
          'io.modelcontextprotocol/clientCapabilities': capabilities,
          'io.modelcontextprotocol/clientInfo': { name: 'test', version: '1.0.0' },
        },
      },
    }),
  })
  const text = await res.text()
  const json = text.startsWith('{') ? text : (text.split('\n').find((l) => l.startsWith('data: {')) ?? '').slice(6)
  return {
    status: res.status,
    message: JSON.parse(json) as { result?: Raw; error?: { code: number; message: string; data?: Raw } },
  }
}

const accept = (content: Record<string, unknown>) => ({ action: 'accept', content })

let http: HttpServerHandle
beforeAll(async () => {
  http = await serveHttp(fixture(), { port: 0, logger: silentLogger })
})
afterAll(() => http?.close())

describe('multi round-trip on 2026-07-28', () => {
  test('a tool asks, the client answers and retries with the signed state', async () => {
    const first = await rpc(http.mcpUrl, 'tools/call', { name: 'greet', arguments: {} })
    expect(first.message.result.resultType).toBe('input_required')
    expect(first.message.result.inputRequests.who.method).toBe('elicitation/create')
    const state = first.message.result.requestState as string
    expect(state).not.toBe('asked')
    expect(state.startsWith('v1.')).toBe(true)

    const second = await rpc(http.mcpUrl, 'tools/call', {
      name: 'greet',
      arguments: {},
      inputResponses: { who: accept({ name: 'Ada' }) },
      requestState: state,
    })
    expect(second.message.result.content[0].text).toBe('Hello, Ada!')
  })

  test('a tampered or expired-looking state is refused before the handler runs', async () => {
    const first = await rpc(http.mcpUrl, 'tools/call', { name: 'greet', arguments: {} })
    const tampered = await rpc(http.mcpUrl, 'tools/call', {
      name: 'greet',
      arguments: {},
      inputResponses: { who: accept({ name: 'Ada' }) },
      requestState: `${first.message.result.requestState}x`,
    })
    expect(tampered.message.error?.code).toBe(-32602)
  })

  test('a state minted for one tool is refused by another', async () => {
    const first = await rpc(http.mcpUrl, 'tools/call', { name: 'greet', arguments: {} })
    const replayed = await rpc(http.mcpUrl, 'tools/call', {
      name: 'other',
      arguments: {},
      requestState: first.message.result.requestState,
    })
    expect(replayed.message.error?.code).toBe(-32602)
    expect(replayed.message.error?.message).toMatch(/requestState/)
  })

  test('prompts and resources can ask too', async () => {
    const prompt = await rpc(http.mcpUrl, 'prompts/get', { name: 'ask-prompt' })
    expect(prompt.message.result.resultType).toBe('input_required')
    const promptDone = await rpc(http.mcpUrl, 'prompts/get', {
      name: 'ask-prompt',
      inputResponses: { who: accept({ name: 'Bo' }) },
    })
    expect(promptDone.message.result.messages[0].content.text).toBe('Write to Bo')

    const read = await rpc(http.mcpUrl, 'resources/read', { uri: 'test://ask' })
    expect(read.message.result.resultType).toBe('input_required')
    const readDone = await rpc(http.mcpUrl, 'resources/read', {
      uri: 'test://ask',
      inputResponses: { who: accept({ name: 'Cy' }) },
    })
    expect(readDone.message.result.contents[0].text).toBe('for Cy')
  })

  test('handlers see the capabilities the request declared', async () => {
    const { message } = await rpc(http.mcpUrl, 'tools/call', { name: 'caps', arguments: {} }, { roots: {} })
    expect(JSON.parse(message.result.content[0].text)).toEqual({ roots: {} })
  })

  test('a tool that requires an undeclared capability answers -32021 with HTTP 400', async () => {
    const refused = await rpc(http.mcpUrl, 'tools/call', { name: 'llm', arguments: {} }, { elicitation: {} })
    expect(refused.status).toBe(400)
    expect(refused.message.error?.code).toBe(-32021)
    expect(refused.message.error?.data.requiredCapabilities).toEqual({ sampling: {} })

    const served = await rpc(http.mcpUrl, 'tools/call', { name: 'llm', arguments: {} }, { sampling: {} })
    expect(served.message.result.resultType).toBe('input_required')
  })

  test('the SDK client fulfils the input requests itself', async () => {
    const client = new Client(
      { name: 'test', version: '1.0.0' },
      { capabilities: { elicitation: {} }, versionNegotiation: { mode: { pin: MODERN } } },
    )
    client.setRequestHandler('elicitation/create', async () => ({ action: 'accept', content: { name: 'Eve' } }))
    await client.connect(new StreamableHTTPClientTransport(new URL(http.mcpUrl)))
    try {
      const result = await client.callTool({ name: 'greet', arguments: {} })
      expect(result.content).toEqual([{ type: 'text', text: 'Hello, Eve!' }])
    } finally {
      await client.close()
    }
  })
})

describe('multi round-trip on a 2025 session', () => {
  test('the same handlers become real server-to-client requests', async () => {
    const client = new Client(
      { name: 'test', version: '1.0.0' },
      { capabilities: { elicitation: {}, sampling: {} }, versionNegotiation: { mode: 'legacy' } },
    )
    const asked: string[] = []
    client.setRequestHandler('elicitation/create', async () => {
      asked.push('elicitation')
      return { action: 'accept', content: { name: 'Fay' } }
    })
    client.setRequestHandler('sampling/createMessage', async () => {
      asked.push('sampling')
      return { role: 'assistant', content: { type: 'text', text: 'ok' }, model: 'm', stopReason: 'endTurn' }
    })
    await client.connect(new StreamableHTTPClientTransport(new URL(http.mcpUrl)))
    try {
      expect(await client.callTool({ name: 'greet', arguments: {} })).toMatchObject({
        content: [{ type: 'text', text: 'Hello, Fay!' }],
      })
      expect(await client.callTool({ name: 'llm', arguments: {} })).toMatchObject({
        content: [{ type: 'text', text: 'sampled' }],
      })
      expect(asked).toEqual(['elicitation', 'sampling'])
      const caps = await client.callTool({ name: 'caps', arguments: {} })
      expect(JSON.parse((caps.content as unknown as [{ text: string }])[0].text)).toMatchObject({ elicitation: {}, sampling: {} })
    } finally {
      await client.close()
    }
  })
})
