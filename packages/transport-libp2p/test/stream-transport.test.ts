import type { Connection, Stream } from '@libp2p/interface'
import { StreamCloseEvent, StreamMessageEvent } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import type { JSONRPCMessage } from '@modelcontextprotocol/server'
import { describe, expect, it } from 'vitest'
import { encodeFrame, Libp2pStreamTransport, MAX_MESSAGE_BYTES } from '../src/index.ts'
import { frames } from './helpers.ts'

const PEER = '12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA'

/** Just enough of a libp2p stream to drive the transport event by event. */
class FakeStream extends EventTarget {
  status = 'open'
  writeStatus = 'writable'
  remoteWriteStatus = 'writable'
  direction = 'inbound'
  protocol = '/mcp/1.0.0'
  maxReadBufferLength = 4 * 1024 * 1024
  writableNeedsDrain = false
  readonly written: Buffer[] = []

  send(data: Uint8Array): boolean {
    this.written.push(Buffer.from(data))
    return true
  }

  async close(): Promise<void> {
    this.writeStatus = 'closed'
    if (this.remoteWriteStatus === 'closed') this.#end()
  }

  abort(err: Error): void {
    this.status = 'aborted'
    this.dispatchEvent(new StreamCloseEvent(true, err))
  }

  /** The peer half-closes: `remoteCloseWrite`, then (if we closed too) `close`. */
  remoteClose(): void {
    this.remoteWriteStatus = 'closed'
    this.dispatchEvent(new Event('remoteCloseWrite'))
    if (this.writeStatus === 'closed') this.#end()
  }

  deliver(message: unknown): void {
    this.dispatchEvent(new StreamMessageEvent(encodeFrame(JSON.stringify(message))))
  }

  sent(): unknown[] {
    return frames(Buffer.concat(this.written))
  }

  #end(): void {
    this.status = 'closed'
    this.dispatchEvent(new StreamCloseEvent())
  }
}

function setup() {
  const stream = new FakeStream()
  const connection = { remotePeer: peerIdFromString(PEER) } as unknown as Connection
  const transport = new Libp2pStreamTransport(stream as unknown as Stream, connection, { closeTimeoutMs: 500 })
  const seen = { messages: [] as JSONRPCMessage[], errors: [] as Error[], closes: 0 }
  transport.onmessage = (m) => seen.messages.push(m)
  transport.onerror = (e) => seen.errors.push(e)
  transport.onclose = () => seen.closes++
  return { stream, transport, seen }
}
const tick = () => new Promise((r) => setImmediate(r))
const request = (id: number) => ({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'echo' } })

describe('Libp2pStreamTransport (driven event by event)', () => {
  it('an inbound stream defaults to the server role and tags messages with the verified peer', async () => {
    const { stream, transport } = setup()
    const extras: unknown[] = []
    transport.onmessage = (_m, extra) => extras.push(extra)
    await transport.start()
    stream.deliver(request(1))
    expect(transport.remotePeer).toBe(PEER)
    expect(transport.protocol).toBe('/mcp/1.0.0')
    expect(extras).toEqual([
      {
        authInfo: {
          token: '',
          clientId: '',
          scopes: [],
          extra: {
            'agora/transport': {
              kind: 'libp2p',
              remote: PEER,
              identity: { id: `peer:${PEER}`, kind: 'peer', authenticated: true, scopes: [] },
            },
          },
        },
      },
    ])
  })

  it('reads the data of a frame whose FIN came first, answers it, then closes once', async () => {
    const { stream, transport, seen } = setup()
    await transport.start()
    // Yamux reports a FIN before the data it rides on: both arrive in the same turn.
    stream.remoteClose()
    stream.deliver(request(7))
    await tick()
    expect(seen.messages).toEqual([request(7)])
    expect(seen.errors).toEqual([]) // not taken for a truncated frame, not refused as "closing"
    expect(stream.writeStatus).toBe('writable') // waiting for the answer before half-closing
    await transport.send({ jsonrpc: '2.0', id: 7, result: { content: [] } })
    await expect.poll(() => seen.closes).toBe(1)
    expect(stream.sent()).toEqual([{ jsonrpc: '2.0', id: 7, result: { content: [] } }])
  })

  it('answers requests that arrive once closing has begun, instead of dropping them', async () => {
    const { stream, transport, seen } = setup()
    await transport.start()
    stream.deliver(request(1))
    const closing = transport.close() // waits for request 1
    stream.deliver(request(2))
    await tick()
    expect(seen.messages).toEqual([request(1)])
    expect(stream.sent()).toEqual([
      {
        jsonrpc: '2.0',
        id: 2,
        error: { code: -32603, message: 'The stream is closing: request not accepted', data: { code: 'CONNECTION' } },
      },
    ])
    await transport.send({ jsonrpc: '2.0', id: 1, result: {} })
    stream.remoteClose()
    await closing
    expect(seen.closes).toBe(1)
  })

  it('replaces a response too large to send with an error for its request', async () => {
    const { stream, transport } = setup()
    await transport.start()
    stream.deliver(request(3))
    const huge: JSONRPCMessage = { jsonrpc: '2.0', id: 3, result: { blob: 'x'.repeat(MAX_MESSAGE_BYTES) } }
    const size = Buffer.byteLength(JSON.stringify(huge))
    await transport.send(huge)
    await tick()
    expect(stream.sent()).toEqual([
      {
        jsonrpc: '2.0',
        id: 3,
        error: {
          code: -32603,
          message: `Internal error: Message too large: ${size} bytes exceeds the limit of ${MAX_MESSAGE_BYTES} bytes`,
        },
      },
    ])
    // A too-large request or notification is the caller's error.
    await expect(
      transport.send({ jsonrpc: '2.0', method: 'n', params: { x: 'y'.repeat(MAX_MESSAGE_BYTES) } }),
    ).rejects.toMatchObject({
      code: 'INVALID_PARAMS',
    })
  })

  it('keeps reading when a message handler throws, and reports the error', async () => {
    const { stream, transport, seen } = setup()
    transport.onmessage = (m) => {
      seen.messages.push(m)
      if ((m as { id?: number }).id === 1) throw new Error('handler bug')
    }
    await transport.start()
    stream.dispatchEvent(
      new StreamMessageEvent(Buffer.concat([encodeFrame(JSON.stringify(request(1))), encodeFrame(JSON.stringify(request(2)))])),
    )
    expect(seen.messages.map((m) => (m as { id: number }).id)).toEqual([1, 2])
    expect(seen.errors.map((e) => e.message)).toEqual(['handler bug'])
  })

  it('closes a never-started transport without waiting, and refuses to start twice', async () => {
    const { stream, transport, seen } = setup()
    await transport.close()
    expect(stream.status).toBe('aborted')
    expect(seen.closes).toBe(1)
    const other = setup()
    await other.transport.start()
    await expect(other.transport.start()).rejects.toMatchObject({ code: 'CONFIG' })
  })

  it('gives up on a peer that never closes its end, after closeTimeoutMs', async () => {
    const { stream, transport, seen } = setup()
    await transport.start()
    const started = Date.now()
    await transport.close()
    expect(Date.now() - started).toBeGreaterThanOrEqual(450)
    expect(stream.status).toBe('aborted')
    expect(seen.closes).toBe(1)
    expect(seen.errors.map((e) => e.message)).toEqual([`the peer ${PEER} did not close its end of the stream in time`])
  })
})
