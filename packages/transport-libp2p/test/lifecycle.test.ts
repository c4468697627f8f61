import { createFixtureServer } from '@agora/testing'
import type { Stream } from '@libp2p/interface'
import { Client } from '@modelcontextprotocol/client'
import { afterEach, describe, expect, it } from 'vitest'
import type { Libp2pStreamTransport } from '../src/index.ts'
import { connectLibp2p } from '../src/index.ts'
import type { NetKind } from './helpers.ts'
import { frames, Harness, INIT, rawFrame, record } from './helpers.ts'

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const text = (r: { content?: unknown }) => (r.content as { text: string }[])[0]?.text

/** Counts the transport's `onclose`/`onerror` calls (set before the SDK wraps them). */
function watch(transport: Libp2pStreamTransport) {
  const seen = { closes: 0, errors: [] as Error[] }
  const closed = Promise.withResolvers<void>()
  transport.onclose = () => {
    seen.closes++
    closed.resolve()
  }
  transport.onerror = (e) => seen.errors.push(e)
  return { seen, closed: closed.promise }
}

describe('stream lifecycle', () => {
  const h = new Harness()
  afterEach(() => h.stopAll())

  async function connected(kind: NetKind = 'memory') {
    const serverNode = await h.node(kind)
    const p2p = await h.serve(createFixtureServer().server, serverNode)
    const transport = await connectLibp2p(await h.node(kind), p2p.addrs[0]!)
    const watched = watch(transport)
    const client = new Client({ name: 'lifecycle', version: '1.0.0' })
    await client.connect(transport)
    h.onStop(() => client.close())
    return { serverNode, p2p, transport, client, ...watched }
  }
  const delays = (client: Client) =>
    [150, 50, 250].map((ms) => client.callTool({ name: 'delay', arguments: { ms, tag: `after-${ms}` } }))

  it('a client close answers the requests in flight first (spec §4.4), then closes once', async () => {
    const { client, transport, seen } = await connected()
    const calls = delays(client)
    await sleep(30) // the requests are at the server
    const started = Date.now()
    await client.close()
    expect(Date.now() - started).toBeGreaterThanOrEqual(200)
    expect((await Promise.all(calls)).map(text)).toEqual(['after-150', 'after-50', 'after-250'])
    expect(seen.closes).toBe(1)
    expect(seen.errors).toEqual([])
    expect(transport.stream.status).toBe('closed')
  })

  it('a server close answers the requests in flight, then the client sees the stream close', async () => {
    const { client, p2p, seen, closed } = await connected('tcp')
    const calls = delays(client)
    await sleep(30)
    await p2p.close()
    expect((await Promise.all(calls)).map(text)).toEqual(['after-150', 'after-50', 'after-250'])
    await closed
    expect(seen.closes).toBe(1)
    await expect(client.callTool({ name: 'echo', arguments: { text: 'late' } })).rejects.toThrow()
    // The protocol is no longer handled: new streams cannot even be negotiated.
    await expect(connectLibp2p(await h.node('tcp'), p2p.addrs[0]!)).rejects.toMatchObject({
      code: 'CONNECTION',
      message: expect.stringContaining('speaks none of the offered MCP versions (/mcp/1.0.0)'),
    })
  })

  it('a peer that sends its requests and half-closes at once still gets every answer', async () => {
    const p2p = await h.serve(createFixtureServer().server, await h.node())
    const { stream } = await h.rawStream(await h.node(), p2p.addrs[0]!)
    const rec = record(stream)
    const call = (id: number, ms: number) => ({
      jsonrpc: '2.0',
      id,
      method: 'tools/call',
      params: { name: 'delay', arguments: { ms, tag: `t${id}` } },
    })
    stream.send(
      Buffer.concat([
        rawFrame(JSON.stringify(INIT)),
        rawFrame(JSON.stringify(call(1, 80))),
        rawFrame(JSON.stringify(call(2, 10))),
      ]),
    )
    await stream.close() // FIN right behind the requests
    const { error } = await rec.closed
    expect(error).toBeUndefined()
    const answers = frames(rec.bytes()) as { id: number; result?: { content?: { text: string }[] } }[]
    expect(answers.map((a) => a.id).sort()).toEqual([0, 1, 2])
    expect(answers.find((a) => a.id === 1)?.result?.content?.[0]?.text).toBe('t1')
    expect(answers.find((a) => a.id === 2)?.result?.content?.[0]?.text).toBe('t2')
  })

  it('an abrupt peer stop rejects pending requests and closes the client transport once', async () => {
    const { client, serverNode, seen, closed } = await connected('tcp')
    const pending = client.callTool({ name: 'hang', arguments: {} })
    const rejected = expect(pending).rejects.toThrow(/Connection closed/)
    await sleep(30)
    const connection = serverNode.getConnections()[0]!
    connection.abort(new Error('cable cut'))
    await rejected
    await closed
    await sleep(50)
    expect(seen.closes).toBe(1)
  })

  it('a stopped server node ends the client transport, whose pending requests reject', async () => {
    const { client, serverNode, seen, closed } = await connected('tcp')
    const pending = client.callTool({ name: 'hang', arguments: {} })
    const rejected = expect(pending).rejects.toThrow(/Connection closed/)
    await sleep(30)
    await serverNode.stop()
    await rejected
    await closed
    expect(seen.closes).toBe(1)
  })

  it('a reset by the peer reports an error and closes once', async () => {
    const serverNode = await h.node()
    const streams: Stream[] = []
    await serverNode.handle('/mcp/1.0.0', (stream) => {
      streams.push(stream)
    })
    const transport = await connectLibp2p(await h.node(), `${serverNode.getMultiaddrs()[0]}`)
    const { seen, closed } = watch(transport)
    await transport.start()
    await transport.send({ jsonrpc: '2.0', id: 1, method: 'ping' })
    await expect.poll(() => streams.length).toBe(1)
    streams[0]!.abort(new Error('go away'))
    await closed
    await sleep(20)
    expect(seen.closes).toBe(1)
    expect(seen.errors.map((e) => e.message)).toEqual([expect.stringMatching(/^libp2p stream to \S+ reset by the peer/)])
    await expect(transport.send({ jsonrpc: '2.0', id: 2, method: 'ping' })).rejects.toMatchObject({ code: 'CONNECTION' })
    await transport.close() // idempotent after the fact
    expect(seen.closes).toBe(1)
  })

  it('back-pressure: a paused reader makes send() wait for a drain instead of buffering', async () => {
    const serverNode = await h.node('tcp')
    const inbound = Promise.withResolvers<Stream>()
    await serverNode.handle('/mcp/1.0.0', (stream) => {
      stream.pause() // a slow reader: no window updates, so the sender's window runs out
      inbound.resolve(stream)
    })
    const transport = await connectLibp2p(await h.node('tcp'), `${serverNode.getMultiaddrs()[0]}`)
    await transport.start()
    const frame = 64 * 1024
    const note = (i: number) => ({ jsonrpc: '2.0' as const, method: 'n', params: { i, pad: 'x'.repeat(frame - 60) } })

    let sent = 0
    let blocked: Promise<void> | undefined
    for (; sent < 64; sent++) {
      const p = transport.send(note(sent))
      const done = await Promise.race([p.then(() => true), sleep(100).then(() => false)])
      if (!done) {
        blocked = p
        break
      }
    }
    // Blocked after about one yamux window (256 KiB) of 64 KiB frames, not after 64 frames.
    expect(blocked).toBeDefined()
    expect(sent).toBeGreaterThanOrEqual(2)
    expect(sent).toBeLessThan(16)
    expect(transport.stream.writableNeedsDrain).toBe(true)
    // Later sends queue behind the drain without growing the stream's own buffer past one frame.
    const later = [1, 2, 3, 4, 5, 6, 7, 8].map((k) => transport.send(note(sent + k)))
    await sleep(50)
    expect(transport.stream.writeBufferLength).toBeLessThanOrEqual(frame + 4)

    const stream = await inbound.promise
    const received: number[] = []
    let buffered = Buffer.alloc(0)
    stream.addEventListener('message', (evt) => {
      buffered = Buffer.concat([buffered, ...(evt.data instanceof Uint8Array ? [evt.data] : [...evt.data])])
      while (buffered.length >= 4 && buffered.length >= 4 + buffered.readUInt32BE(0)) {
        const len = buffered.readUInt32BE(0)
        received.push(JSON.parse(buffered.subarray(4, 4 + len).toString()).params.i)
        buffered = buffered.subarray(4 + len)
      }
    })
    stream.resume()
    await blocked
    await Promise.all(later)
    await expect.poll(() => received.length).toBe(sent + 9)
    expect(received).toEqual(Array.from({ length: sent + 9 }, (_, i) => i))
    await Promise.all([stream.close(), transport.close()])
    expect(transport.stream.status).toBe('closed')
  })
})
