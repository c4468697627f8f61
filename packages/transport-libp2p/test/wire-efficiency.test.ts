/**
 * The fixes in `patches/` (applied to node_modules by `patch-package` on install) keep a small
 * message to one TCP write: Yamux updates the window only once half of it is used (as go-yamux
 * does) instead of after every data frame, the TCP connection writes a Noise frame's length
 * prefix and ciphertext together, and the length-prefixed decoder stops at an empty buffer
 * instead of throwing there. These tests fail if a dependency update drops a patch.
 */
import { Socket } from 'node:net'
import { LengthPrefixedDecoder } from '@libp2p/utils'
import { afterEach, describe, expect, it } from 'vitest'
import { Harness } from './helpers.ts'

const ECHO = '/agora-test/echo/1.0.0'

describe('libp2p wire efficiency (patched dependencies)', () => {
  const h = new Harness()
  afterEach(() => h.stopAll())

  it('a small request and its answer take one socket write each way', async () => {
    const server = await h.node('tcp')
    const client = await h.node('tcp')
    await server.handle(ECHO, (stream) => {
      stream.addEventListener('message', (evt) => stream.send(evt.data.subarray()))
    })
    const { stream } = await h.rawStream(client, server.getMultiaddrs()[0]!.toString(), ECHO)
    const roundTrip = (bytes: Uint8Array) =>
      new Promise<number>((resolve) => {
        stream.addEventListener('message', (evt) => resolve(evt.data.byteLength), { once: true })
        stream.send(bytes)
      })
    const message = new Uint8Array(200).fill(7)
    for (let i = 0; i < 5; i++) await roundTrip(message) // past stream setup (SYN/ACK, protocol select)

    let writes = 0
    const proto = Socket.prototype as unknown as Record<'_write' | '_writev', (...args: unknown[]) => unknown>
    const original = { _write: proto._write, _writev: proto._writev }
    for (const name of ['_write', '_writev'] as const) {
      proto[name] = function (this: Socket, ...args: unknown[]) {
        writes++
        return original[name].apply(this, args)
      }
    }
    const n = 50
    try {
      for (let i = 0; i < n; i++) expect(await roundTrip(message)).toBe(message.byteLength)
    } finally {
      Object.assign(proto, original)
    }
    // Unpatched: 8 per round trip (a window update after each data frame, two writes per Noise frame).
    // A little room for libp2p's own traffic (identify, connection monitor pings).
    expect(writes).toBeGreaterThanOrEqual(2 * n)
    expect(writes).toBeLessThanOrEqual(2 * n + 6)
  })

  it('a large message still flows when window updates wait for half the window', async () => {
    const server = await h.node('tcp')
    const client = await h.node('tcp')
    await server.handle(ECHO, (stream) => {
      stream.addEventListener('message', (evt) => {
        stream.send(evt.data)
      })
    })
    const { stream } = await h.rawStream(client, server.getMultiaddrs()[0]!.toString(), ECHO)
    const total = 4 * 1024 * 1024
    const received = new Promise<number>((resolve) => {
      let got = 0
      stream.addEventListener('message', (evt) => {
        got += evt.data.byteLength
        if (got >= total) resolve(got)
      })
    })
    const chunk = new Uint8Array(64 * 1024).fill(1)
    for (let sent = 0; sent < total; sent += chunk.byteLength) {
      if (!stream.send(chunk)) await stream.onDrain({ signal: AbortSignal.timeout(10_000) })
    }
    expect(await received).toBe(total)
  })

  it('the length-prefixed decoder asks for a length only when there are bytes to read', () => {
    const calls: number[] = []
    const decoder = new LengthPrefixedDecoder({
      lengthDecoder: (buf) => {
        calls.push(buf.byteLength)
        if (buf.byteLength < 2) throw new RangeError('need 2 bytes')
        const bytes = buf.subarray(0, 2)
        return bytes[0]! * 256 + bytes[1]!
      },
      encodingLength: () => 2,
    })
    const frames = [...decoder.decode(Uint8Array.from([0, 3, 1, 2, 3, 0, 1, 9]))].map((f) => [...f.subarray()])
    expect(frames).toEqual([[1, 2, 3], [9]])
    expect(calls).toEqual([8, 3]) // never called on the empty buffer left after the last frame
  })
})
