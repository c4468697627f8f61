import { AbstractRelay } from 'nostr-tools/abstract-relay'
import type { Event } from 'nostr-tools/pure'
import { finalizeEvent, generateSecretKey, getPublicKey, verifyEvent } from 'nostr-tools/pure'
import { afterEach, describe, expect, it } from 'vitest'
import { WebSocket, WebSocketServer } from 'ws'
import { createRelayPool } from '../src/index.ts'
import { pingpong } from '../src/pool.ts'
import { deadRelayUrl, NostrHarness, rawPublish } from './nostr-helpers.ts'

const now = () => Math.floor(Date.now() / 1000)
const note = (sk: Uint8Array, to: string, content: string, kind = 5910) =>
  finalizeEvent({ kind, created_at: now(), tags: [['p', to]], content }, sk)

describe('relay pool', () => {
  const h = new NostrHarness()
  afterEach(() => h.closeAll())

  it('publishes when one relay of two accepts, queries stored events deduplicated', async () => {
    const a = await h.relay()
    const b = await h.relay()
    const dead = await deadRelayUrl()
    const pool = createRelayPool({ relays: [a.url, b.url, dead] })
    h.add(() => pool.close())
    const to = getPublicKey(generateSecretKey())
    const event = note(generateSecretKey(), to, 'hello')
    await pool.publish(event)
    const found = await pool.query({ kinds: [5910], '#p': [to] })
    expect(found.map((e) => e.id)).toEqual([event.id])
    expect(await pool.query({ kinds: [5910], '#p': [getPublicKey(generateSecretKey())] })).toEqual([])
  })

  it("queryEach answers once per relay, in the pool's order: events, or the relay's error", async () => {
    const a = await h.relay()
    const b = await h.relay()
    const dead = await deadRelayUrl()
    const pool = createRelayPool({ relays: [a.url, dead, b.url] })
    h.add(() => pool.close())
    const to = getPublicKey(generateSecretKey())
    const onlyOnA = note(generateSecretKey(), to, 'only on a')
    expect((await rawPublish(a.url, onlyOnA)).ok).toBe(true)
    const answers = await pool.queryEach({ kinds: [5910], '#p': [to] })
    expect(answers.map((x) => x.relay)).toEqual(pool.relays)
    expect(answers[0]).toMatchObject({ events: [expect.objectContaining({ id: onlyOnA.id })], rejected: 0 })
    expect(answers[1]).toMatchObject({ error: expect.stringMatching(/^connection failure/) })
    expect(answers[2]).toMatchObject({ events: [] })
    await expect(pool.queryEach({ kinds: [5910] }, { signal: AbortSignal.abort() })).rejects.toMatchObject({ code: 'CANCELLED' })
  })

  it('rejects relay URLs that are not WebSocket URLs', () => {
    expect(() => createRelayPool({ relays: [] })).toThrow(expect.objectContaining({ code: 'CONFIG' }))
    expect(() => createRelayPool({ relays: ['ftp://example.com'] })).toThrow(/ws:\/\/ or wss:\/\//)
  })

  it('re-subscribes after a drop, fetching what was stored meanwhile, without duplicates', async () => {
    const relay = await h.relay()
    const pool = createRelayPool({ relays: [relay.url], reconnectDelayMs: 300 })
    h.add(() => pool.close())
    const to = getPublicKey(generateSecretKey())
    const got: { event: Event; stored: boolean }[] = []
    const gaps: (number | undefined)[] = []
    const states: string[] = []
    const sub = pool.subscribe(
      (gap) => {
        gaps.push(gap.since)
        return [{ kinds: [5910], '#p': [to], since: (gap.since ?? now()) - 60 }]
      },
      { onevent: (event, info) => got.push({ event, stored: info.stored }), onrelay: (_r, state) => states.push(state) },
    )
    await sub.ready
    expect(sub.connected).toEqual([`${relay.url}/`])
    const sk = generateSecretKey()
    const live = note(sk, to, 'live')
    await rawPublish(relay.url, live)
    await expect.poll(() => got.map((g) => g.event.content)).toEqual(['live'])

    relay.dropConnections()
    await expect.poll(() => states).toEqual(['up', 'down'])
    // Published while the pool is disconnected: only the relay has it.
    const missed = note(sk, to, 'missed')
    expect((await rawPublish(relay.url, missed)).ok).toBe(true)
    await expect.poll(() => states, { timeout: 3000 }).toEqual(['up', 'down', 'up'])
    await expect.poll(() => got.map((g) => g.event.content)).toEqual(['live', 'missed'])
    expect(got[0]?.stored).toBe(false)
    expect(got[1]?.stored).toBe(true)
    expect(gaps[0]).toBeUndefined()
    expect(gaps[1]).toBeGreaterThanOrEqual(live.created_at - 1)
    sub.close()
  })

  it('query rejects with CONNECTION only when no relay answers', async () => {
    const dead = await deadRelayUrl()
    const pool = createRelayPool({ relays: [dead] })
    h.add(() => pool.close())
    await expect(pool.query({ kinds: [1] })).rejects.toMatchObject({ code: 'CONNECTION', message: expect.stringContaining(dead) })
    const aborted = pool.publish(note(generateSecretKey(), 'a'.repeat(64), 'x'), { signal: AbortSignal.abort() })
    await expect(aborted).rejects.toMatchObject({ code: 'CANCELLED' })
  })
})

describe('relay keep-alive (pingpong)', () => {
  const h = new NostrHarness()
  afterEach(() => h.closeAll())

  const liveTimers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length

  it('a pong in time leaves no timer running (a closed pool must not keep the process alive)', async () => {
    const relayServer = await h.relay()
    const relay = await AbstractRelay.connect(relayServer.url, { verifyEvent, websocketImplementation: WebSocket as never })
    h.add(() => relay.close())
    const before = liveTimers()
    await pingpong(relay)
    expect(liveTimers()).toBe(before)
    expect(relay.connected).toBe(true)
  })

  it('no pong within pingTimeout: the socket is closed', async () => {
    const silent = new WebSocketServer({ host: '127.0.0.1', port: 0, autoPong: false })
    h.add(() => new Promise<void>((resolve) => silent.close(() => resolve())))
    await new Promise<void>((resolve) => silent.once('listening', () => resolve()))
    const { port } = silent.address() as { port: number }
    const relay = await AbstractRelay.connect(`ws://127.0.0.1:${port}`, {
      verifyEvent,
      websocketImplementation: WebSocket as never,
    })
    relay.pingTimeout = 50
    const closed = new Promise<void>((resolve) => {
      relay.onclose = () => resolve()
    })
    const started = Date.now()
    await pingpong(relay)
    await closed
    expect(Date.now() - started).toBeLessThan(1000)
  })
})
