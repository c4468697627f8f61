import { createLogger, createServer } from '@agora/core'
import type { JSONRPCMessage } from '@modelcontextprotocol/server'
import { afterEach, describe, expect, it } from 'vitest'
import { z } from 'zod'
import { connectLibp2p, Libp2pStreamTransport, MAX_MESSAGE_BYTES } from '../src/index.ts'
import { frames, Harness, INIT, rawFrame, record } from './helpers.ts'

/** A server whose `size` tool answers with the length of its input (so the answer stays small). */
const sizeServer = () =>
  createServer({ name: 'sizes', version: '1.0.0' })
    .tool('size', { description: 'Length of text', input: z.object({ text: z.string() }) }, ({ text }) => String(text.length))
    .tool('echo', { description: 'Echoes', input: z.object({ text: z.string() }) }, ({ text }) => text)

/** A `tools/call` of `size` whose JSON is exactly `bytes` long. */
function sizeCall(id: number, bytes: number): JSONRPCMessage {
  const shell = { jsonrpc: '2.0' as const, id, method: 'tools/call', params: { name: 'size', arguments: { text: '' } } }
  const text = 'x'.repeat(bytes - Buffer.byteLength(JSON.stringify(shell)))
  const message = { ...shell, params: { name: 'size', arguments: { text } } }
  expect(Buffer.byteLength(JSON.stringify(message))).toBe(bytes)
  return message
}

/** Sends raw messages over a client-role transport and collects what comes back. */
async function rawClient(h: Harness, addr: string, maxMessageBytes?: number) {
  const node = await h.node()
  const transport = await connectLibp2p(node, addr, { maxMessageBytes })
  const received: JSONRPCMessage[] = []
  const waiters: (() => void)[] = []
  transport.onmessage = (m) => {
    received.push(m)
    for (const w of waiters.splice(0)) w()
  }
  await transport.start()
  h.onStop(() => transport.close())
  const answer = async (id: number) => {
    for (;;) {
      const hit = received.find((m) => 'id' in m && m.id === id && !('method' in m))
      if (hit) return hit as { result?: { content: { text: string }[] }; error?: { code: number; message: string } }
      await new Promise<void>((r) => waiters.push(r))
    }
  }
  await transport.send(INIT as JSONRPCMessage)
  await answer(0)
  await transport.send({ jsonrpc: '2.0', method: 'notifications/initialized' })
  return { node, transport, answer }
}

describe('message size over real streams', () => {
  const h = new Harness()
  afterEach(() => h.stopAll())

  it('carries a request of exactly 16 MiB end to end (TCP)', { timeout: 30_000 }, async () => {
    const p2p = await h.serve(sizeServer(), await h.node('tcp'))
    const { transport, answer } = await rawClient(h, p2p.addrs[0]!)
    const call = sizeCall(1, MAX_MESSAGE_BYTES)
    await transport.send(call)
    const r = await answer(1)
    const textLength = (call as unknown as { params: { arguments: { text: string } } }).params.arguments.text.length
    expect(r.result?.content[0]?.text).toBe(String(textLength))
  })

  it('carries exactly 16 MiB both ways between two stream transports', { timeout: 30_000 }, async () => {
    const serverNode = await h.node('tcp')
    const got = Promise.withResolvers<{ server: Libp2pStreamTransport; first: JSONRPCMessage }>()
    await serverNode.handle('/mcp/1.0.0', (stream, connection) => {
      const server = new Libp2pStreamTransport(stream, connection)
      server.onmessage = (first) => got.resolve({ server, first })
      void server.start()
    })
    const clientNode = await h.node('tcp')
    const client = await connectLibp2p(clientNode, `${serverNode.getMultiaddrs()[0]}`)
    const back = Promise.withResolvers<JSONRPCMessage>()
    client.onmessage = (m) => back.resolve(m)
    await client.start()
    h.onStop(() => client.close())
    const note = (fill: string) => {
      const shell = { jsonrpc: '2.0' as const, method: 'notifications/big', params: { fill: '' } }
      const m = { ...shell, params: { fill: fill.repeat(MAX_MESSAGE_BYTES - Buffer.byteLength(JSON.stringify(shell))) } }
      expect(Buffer.byteLength(JSON.stringify(m))).toBe(MAX_MESSAGE_BYTES)
      return m
    }
    await client.send(note('a'))
    const { server, first } = await got.promise
    expect(Buffer.byteLength(JSON.stringify(first))).toBe(MAX_MESSAGE_BYTES)
    await server.send(note('b'))
    const reply = (await back.promise) as unknown as { params: { fill: string } }
    expect(reply.params.fill.length).toBeGreaterThan(16_000_000)
    expect(reply.params.fill.startsWith('bbbb')).toBe(true)
    await server.close()
  })

  it('refuses to send more than the limit, and the stream stays usable', async () => {
    const p2p = await h.serve(sizeServer(), await h.node())
    const { transport, answer } = await rawClient(h, p2p.addrs[0]!)
    await expect(transport.send(sizeCall(1, MAX_MESSAGE_BYTES + 1))).rejects.toMatchObject({
      name: 'AgoraError',
      code: 'INVALID_PARAMS',
      message: `Message too large: ${MAX_MESSAGE_BYTES + 1} bytes exceeds the limit of ${MAX_MESSAGE_BYTES} bytes`,
    })
    await transport.send(sizeCall(2, 1000))
    expect((await answer(2)).result?.content[0]?.text).toBeDefined()
  })

  it('answers a 16 MiB + 1 frame with -32600, resets that stream, and keeps serving', { timeout: 30_000 }, async () => {
    const lines: string[] = []
    const logger = createLogger({ level: 'debug', write: (l) => lines.push(l) })
    const p2p = await h.serve(sizeServer(), await h.node('tcp'), { logger })
    const clientNode = await h.node('tcp')
    const survivor = await h.client(clientNode, p2p.addrs[0]!)

    // A client allowed to send more than the server accepts.
    const big = await connectLibp2p(clientNode, p2p.addrs[0]!, { maxMessageBytes: 2 * MAX_MESSAGE_BYTES })
    const replies: JSONRPCMessage[] = []
    const closed = Promise.withResolvers<void>()
    const errors: Error[] = []
    big.onmessage = (m) => replies.push(m)
    big.onerror = (e) => errors.push(e)
    big.onclose = () => closed.resolve()
    await big.start()
    await big.send(INIT as JSONRPCMessage)
    await big.send(sizeCall(1, MAX_MESSAGE_BYTES + 1)).catch(() => {}) // the reset may cut the write short
    await closed.promise
    expect(replies).toContainEqual({
      jsonrpc: '2.0',
      id: null,
      error: {
        code: -32600,
        message: `Message too large: ${MAX_MESSAGE_BYTES + 1} bytes exceeds the limit of ${MAX_MESSAGE_BYTES} bytes`,
      },
    })
    expect(errors.some((e) => /reset by the peer/.test(e.message))).toBe(true)
    expect(big.stream.status).toBe('reset')
    expect(lines.some((l) => l.includes('oversized frame, resetting the stream'))).toBe(true)

    // The other stream of the same peer, and a new one, still work.
    expect((await survivor.callTool({ name: 'size', arguments: { text: 'abc' } })).content).toEqual([{ type: 'text', text: '3' }])
    const fresh = await h.client(await h.node('tcp'), p2p.addrs[0]!)
    expect((await fresh.callTool({ name: 'size', arguments: { text: 'abcd' } })).content).toEqual([{ type: 'text', text: '4' }])
  })
})

describe('malformed frames over a real stream', () => {
  const h = new Harness()
  afterEach(() => h.stopAll())

  const open = async (logger = createLogger({ level: 'silent' })) => {
    const p2p = await h.serve(sizeServer(), await h.node(), { logger })
    const { stream } = await h.rawStream(await h.node(), p2p.addrs[0]!)
    return { stream, rec: record(stream) }
  }
  const until = async (check: () => boolean) => {
    for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 10))
    expect(check()).toBe(true)
  }

  it('answers a garbage length (ffffffff) with -32600 and resets the stream', async () => {
    const { stream, rec } = await open()
    stream.send(Buffer.from('ffffffff7b7d', 'hex'))
    const { error } = await rec.closed
    expect(error?.name).toBe('StreamResetError')
    expect(frames(rec.bytes())).toEqual([
      {
        jsonrpc: '2.0',
        id: null,
        error: { code: -32600, message: 'Message too large: 4294967295 bytes exceeds the limit of 16777216 bytes' },
      },
    ])
  })

  it('answers invalid UTF-8, invalid JSON and non-JSON-RPC, and the stream goes on', async () => {
    const { stream, rec } = await open()
    stream.send(rawFrame(Uint8Array.of(0x7b, 0xc3, 0x28, 0x7d)))
    stream.send(rawFrame('{"jsonrpc":"2.0","id":1,'))
    stream.send(rawFrame('{"jsonrpc":"2.0","id":9,"params":{}}'))
    stream.send(rawFrame(JSON.stringify(INIT)))
    await until(() => frames(rec.bytes()).length === 4)
    const [utf8, json, rpc, init] = frames(rec.bytes()) as { id: unknown; error?: { code: number; message: string } }[]
    expect(utf8).toEqual({
      jsonrpc: '2.0',
      id: null,
      error: { code: -32700, message: 'Parse error: the message is not valid UTF-8' },
    })
    expect(json).toMatchObject({ jsonrpc: '2.0', id: null, error: { code: -32700 } })
    expect(json?.error?.message).toMatch(/^Parse error: the message is not valid JSON/)
    expect(rpc).toEqual({
      jsonrpc: '2.0',
      id: 9,
      error: { code: -32600, message: 'Invalid Request: not a JSON-RPC 2.0 message (expected "method", "result" or "error")' },
    })
    expect(init).toMatchObject({ id: 0, result: { serverInfo: { name: 'sizes' } } })
    expect(stream.status).toBe('open')
  })

  it('reports a frame truncated by the end of the stream, then closes gracefully', async () => {
    const lines: string[] = []
    const { stream, rec } = await open(createLogger({ level: 'debug', write: (l) => lines.push(l) }))
    const frame = rawFrame(JSON.stringify(INIT))
    stream.send(frame.subarray(0, 30))
    await stream.close()
    const { error } = await rec.closed
    expect(error).toBeUndefined()
    expect(rec.bytes().length).toBe(0)
    expect(lines.some((l) => l.includes(`Stream ended inside a frame: got 26 of the ${frame.length - 4} payload bytes`))).toBe(
      true,
    )
  })
})
