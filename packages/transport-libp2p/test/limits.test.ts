import { createLogger } from '@agora/core'
import { createFixtureServer } from '@agora/testing'
import { Client } from '@modelcontextprotocol/client'
import { afterEach, describe, expect, it } from 'vitest'
import type { AgoraNode } from '../src/index.ts'
import { connectLibp2p, DEFAULT_LIMITS } from '../src/index.ts'
import { Harness } from './helpers.ts'

const text = (r: { content?: unknown }) => (r.content as { text: string }[])[0]?.text
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

describe('per-peer limits (spec §6.3)', () => {
  const h = new Harness()
  afterEach(() => h.stopAll())

  const logged = () => {
    const lines: string[] = []
    return { lines, logger: createLogger({ level: 'debug', write: (l) => lines.push(l) }) }
  }
  /** Connects a client, resolving to the error when the server refuses the stream. */
  const tryClient = async (node: AgoraNode, addr: string) => {
    const client = new Client({ name: 'limits', version: '1.0.0' })
    try {
      await client.connect(await connectLibp2p(node, addr))
      h.onStop(() => client.close())
      return client
    } catch (err) {
      return err as Error
    }
  }

  it('has the documented defaults', () => {
    expect(DEFAULT_LIMITS).toEqual({
      maxStreamsPerPeer: 16,
      maxMessageBytes: 16 * 1024 * 1024,
      requestsPerSecond: 100,
      inactivityTimeoutMs: 300_000,
    })
  })

  it('rejects limits that are not positive', async () => {
    const node = await h.node()
    for (const bad of [{ maxStreamsPerPeer: 0 }, { requestsPerSecond: -1 }, { maxMessageBytes: Number.NaN }]) {
      const err = await h.serve(createFixtureServer().server, node, bad).catch((e: Error) => e)
      expect(err).toMatchObject({ name: 'AgoraError', code: 'CONFIG' })
      expect((err as Error).message).toMatch(/^libp2p limit \w+ must be > 0/)
    }
  })

  it('refuses a 17th stream from one peer; its other streams, and other peers, are fine', async () => {
    const { lines, logger } = logged()
    const p2p = await h.serve(createFixtureServer().server, await h.node(), { logger })
    const clientNode = await h.node()
    const clients: Client[] = []
    for (let i = 0; i < 16; i++) clients.push((await tryClient(clientNode, p2p.addrs[0]!)) as Client)
    const refused = await tryClient(clientNode, p2p.addrs[0]!)
    expect(refused).toBeInstanceOf(Error)
    expect((refused as Error).message).toMatch(/Connection closed|reset by the peer|refused by the peer/)
    expect(
      lines.filter((l) => l.includes('refused a libp2p stream') && l.includes('too many streams from this peer')),
    ).toHaveLength(1)
    const results = await Promise.all(clients.map((c, i) => c.callTool({ name: 'echo', arguments: { text: `c${i}` } })))
    expect(results.map(text)).toEqual(clients.map((_, i) => `c${i}`))
    const other = await tryClient(await h.node(), p2p.addrs[0]!)
    expect(text(await (other as Client).callTool({ name: 'echo', arguments: { text: 'other peer' } }))).toBe('other peer')
    // Closing a stream gives its slot back.
    await clients[0]!.close()
    await expect.poll(async () => (await tryClient(clientNode, p2p.addrs[0]!)) instanceof Client).toBe(true)
  })

  it('answers requests over the rate with -31429 and a retry hint; the stream stays open', async () => {
    const p2p = await h.serve(createFixtureServer().server, await h.node(), { requestsPerSecond: 2, burst: 8 })
    const client = await h.client(await h.node(), p2p.addrs[0]!) // initialize took one token
    const outcomes = await Promise.allSettled(
      Array.from({ length: 12 }, (_, i) => client.callTool({ name: 'echo', arguments: { text: `n${i}` } })),
    )
    const ok = outcomes.filter((o) => o.status === 'fulfilled')
    const limited = outcomes.filter((o) => o.status === 'rejected').map((o) => (o as PromiseRejectedResult).reason)
    expect(ok).toHaveLength(7)
    expect(limited).toHaveLength(5)
    for (const err of limited) {
      expect(err).toMatchObject({ code: -31429, data: { code: 'RATE_LIMITED' } })
      expect(err.message).toMatch(/Rate limit exceeded for peer:\S+; retry after 1s/)
      expect(err.data.retryAfterMs).toBeGreaterThan(0)
      expect(err.data.retryAfterMs).toBeLessThanOrEqual(500)
    }
    await sleep(Math.max(...limited.map((e) => e.data.retryAfterMs as number)) + 20)
    expect(text(await client.callTool({ name: 'echo', arguments: { text: 'again' } }))).toBe('again')
  })

  it('closes a stream left idle, but not one with a request in flight', async () => {
    const { lines, logger } = logged()
    const p2p = await h.serve(createFixtureServer().server, await h.node(), { inactivityTimeoutMs: 150, logger })
    const clientNode = await h.node()
    const busy = await h.client(clientNode, p2p.addrs[0]!)
    const idleTransport = await connectLibp2p(clientNode, p2p.addrs[0]!)
    const idleClosed = Promise.withResolvers<number>()
    const started = Date.now()
    idleTransport.onclose = () => idleClosed.resolve(Date.now() - started)
    const idle = new Client({ name: 'idle', version: '1.0.0' })
    await idle.connect(idleTransport)
    // A 400 ms call: quiet for longer than the timeout, but in flight.
    expect(text(await busy.callTool({ name: 'delay', arguments: { ms: 400, tag: 'finished' } }))).toBe('finished')
    const after = await idleClosed.promise
    expect(after).toBeGreaterThanOrEqual(140)
    expect(after).toBeLessThan(1000)
    expect(lines.some((l) => l.includes('closing an idle stream'))).toBe(true)
    await expect(idle.callTool({ name: 'echo', arguments: { text: 'x' } })).rejects.toThrow()
  })

  it('serves only allowlisted peers and never blocklisted ones, refusing before any MCP message', async () => {
    const { lines, logger } = logged()
    const friend = await h.node()
    const stranger = await h.node()
    const foe = await h.node()
    const server = createFixtureServer()
    const allowing = await h.serve(server.server, await h.node(), { allow: [friend.peerId.toString()], logger })
    const blocking = await h.serve(server.server, await h.node(), { block: [foe.peerId.toString()], logger })

    expect(await tryClient(friend, allowing.addrs[0]!)).toBeInstanceOf(Client)
    expect(await tryClient(stranger, allowing.addrs[0]!)).toBeInstanceOf(Error)
    expect(await tryClient(foe, blocking.addrs[0]!)).toBeInstanceOf(Error)
    expect(await tryClient(stranger, blocking.addrs[0]!)).toBeInstanceOf(Client)

    const refusals = lines.filter((l) => l.includes('refused a libp2p stream'))
    expect(refusals).toHaveLength(2)
    expect(refusals[0]).toContain(stranger.peerId.toString())
    expect(refusals[0]).toContain('peer is not in the allowlist')
    expect(refusals[1]).toContain(foe.peerId.toString())
    expect(refusals[1]).toContain('peer is blocked')

    // Refused before any message is processed: a raw stream gets no answer, only a reset.
    const { stream } = await h.rawStream(foe, blocking.addrs[0]!)
    const answers: unknown[] = []
    stream.addEventListener('message', (e) => answers.push(e.data))
    try {
      stream.send(new TextEncoder().encode('\u0000\u0000\u0000\u0002{}'))
    } catch {}
    await expect.poll(() => stream.status).toBe('reset')
    expect(answers).toEqual([])
    expect(server.probe.hangs).toBe(0)
  })
})
