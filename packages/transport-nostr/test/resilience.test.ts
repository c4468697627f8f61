import { createServer, silentLogger } from '@agora/core'
import { finalizeEvent, generateSecretKey } from 'nostr-tools/pure'
import { afterEach, describe, expect, it } from 'vitest'
import { z } from 'zod'
import { connectNostr, createRelayPool, DVMCP_DRAFT, serveNostr } from '../src/index.ts'
import { deadRelayUrl, NostrHarness } from './nostr-helpers.ts'

const { request: REQ } = DVMCP_DRAFT.kinds

function slowServer() {
  const aborted: string[] = []
  const started: string[] = []
  const server = createServer({ name: 'slow', version: '1.0.0' })
    .tool('delay', { description: 'Waits', input: z.object({ ms: z.number(), tag: z.string() }) }, async ({ ms, tag }) => {
      started.push(tag)
      await new Promise((r) => setTimeout(r, ms))
      return tag
    })
    .tool('hang', { description: 'Waits for cancellation', timeoutMs: 0 }, (_a, ctx) => {
      started.push('hang')
      return new Promise((_, reject) =>
        ctx.signal.addEventListener('abort', () => {
          aborted.push('hang')
          reject(new Error('aborted'))
        }),
      )
    })
    .tool(
      'steps',
      { description: 'Reports progress between slow steps', input: z.object({ steps: z.number(), ms: z.number() }) },
      async ({ steps, ms }, ctx) => {
        for (let i = 1; i <= steps; i++) {
          await new Promise((r) => setTimeout(r, ms))
          await ctx.progress(i, steps)
        }
        return `${steps} steps`
      },
    )
  return { server, aborted, started }
}

describe('relays going away', () => {
  const h = new NostrHarness()
  afterEach(() => h.closeAll())

  it('a call survives the relay dropping every connection mid-call (re-subscription catches up)', async () => {
    const relay = await h.relay()
    const fx = slowServer()
    const nostr = await h.serve(fx.server, { relays: [relay.url] })
    const { client } = await h.client({ relays: [relay.url], serverPubkey: nostr.pubkey })
    const call = client.callTool({ name: 'delay', arguments: { ms: 300, tag: 'survivor' } })
    await expect.poll(() => fx.started).toEqual(['survivor'])
    relay.dropConnections()
    expect((await call).content).toEqual([{ type: 'text', text: 'survivor' }])
    // Both ends are back and serve new calls.
    expect((await client.callTool({ name: 'delay', arguments: { ms: 1, tag: 'after' } })).content).toEqual([
      { type: 'text', text: 'after' },
    ])
  })

  it('an answer published while the client was disconnected is fetched from the relay on re-subscription', async () => {
    const relay = await h.relay()
    const fx = slowServer()
    const nostr = await h.serve(fx.server, { relays: [relay.url] })
    // The client waits 600 ms before re-subscribing; the answer comes after 100 ms.
    const pool = createRelayPool({ relays: [relay.url], reconnectDelayMs: 600 })
    h.add(() => pool.close())
    const { client } = await h.client({ pool, serverPubkey: nostr.pubkey })
    const call = client.callTool({ name: 'delay', arguments: { ms: 100, tag: 'stored' } })
    await expect.poll(() => fx.started).toEqual(['stored'])
    const t0 = Date.now()
    relay.dropConnections()
    expect((await call).content).toEqual([{ type: 'text', text: 'stored' }])
    expect(Date.now() - t0).toBeGreaterThanOrEqual(550)
  })

  it('a call fails clearly with TIMEOUT when the only relay is gone for good', async () => {
    const relay = await h.relay()
    const fx = slowServer()
    const nostr = await h.serve(fx.server, { relays: [relay.url] })
    const { client } = await h.client({ relays: [relay.url], serverPubkey: nostr.pubkey, timeoutMs: 500 })
    const call = client.callTool({ name: 'delay', arguments: { ms: 200, tag: 'lost' } })
    await expect.poll(() => fx.started).toEqual(['lost'])
    await relay.close()
    const err = await call.catch((e: unknown) => e)
    expect(err).toMatchObject({
      code: -31408,
      message: expect.stringContaining('no answer from the Nostr server to tools/call within 500 ms'),
    })
  })

  it('works with one of two relays dead, and names the relays when none is reachable', async () => {
    const relay = await h.relay()
    const dead = await deadRelayUrl()
    const fx = slowServer()
    const nostr = await h.serve(fx.server, { relays: [dead, relay.url] })
    expect(nostr.relays).toEqual([`${dead}/`, `${relay.url}/`])
    const { client } = await h.client({ relays: [relay.url, dead], serverPubkey: nostr.pubkey })
    expect((await client.callTool({ name: 'delay', arguments: { ms: 1, tag: 'half' } })).content).toEqual([
      { type: 'text', text: 'half' },
    ])

    const serving = await serveNostr(fx.server, { relays: [dead], logger: silentLogger }).catch((e: unknown) => e)
    expect(serving).toMatchObject({ code: 'CONNECTION', message: expect.stringContaining(dead) })
    const connecting = await connectNostr({ relays: [dead], serverPubkey: nostr.pubkey }).catch((e: unknown) => e)
    expect(connecting).toMatchObject({ code: 'CONNECTION', message: expect.stringContaining('cannot reach any Nostr relay') })
    const pool = createRelayPool({ relays: [dead] })
    h.add(() => pool.close())
    const event = finalizeEvent({ kind: REQ, created_at: 0, tags: [], content: '' }, generateSecretKey())
    const published = await pool.publish(event).catch((e: unknown) => e)
    expect(published).toMatchObject({
      code: 'CONNECTION',
      message: expect.stringContaining(`no relay accepted event ${event.id}`),
    })
    expect(String((published as Error).message)).toContain(dead)
  })
})

describe('timeouts and cancellation', () => {
  const h = new NostrHarness()
  afterEach(() => h.closeAll())

  it('progress notifications keep a call alive past the client timeout', async () => {
    const relay = await h.relay()
    const nostr = await h.serve(slowServer().server, { relays: [relay.url] })
    const { client } = await h.client({ relays: [relay.url], serverPubkey: nostr.pubkey, timeoutMs: 400 })
    // 4 × 150 ms = 600 ms in all, never 400 ms without news.
    const r = await client.callTool({ name: 'steps', arguments: { steps: 4, ms: 150 } }, { onprogress: () => {} })
    expect(r.content).toEqual([{ type: 'text', text: '4 steps' }])
  })

  it('a client timeout fails the call with TIMEOUT and cancels it on the server', async () => {
    const relay = await h.relay()
    const fx = slowServer()
    const nostr = await h.serve(fx.server, { relays: [relay.url] })
    const { client } = await h.client({ relays: [relay.url], serverPubkey: nostr.pubkey, timeoutMs: 300 })
    const err = await client.callTool({ name: 'hang', arguments: {} }).catch((e: unknown) => e)
    expect(err).toMatchObject({ code: -31408, data: { code: 'TIMEOUT' } })
    await expect.poll(() => fx.aborted).toEqual(['hang'])
  })

  it('closing the client cancels what it was waiting for', async () => {
    const relay = await h.relay()
    const fx = slowServer()
    const nostr = await h.serve(fx.server, { relays: [relay.url] })
    const { client, transport } = await h.client({ relays: [relay.url], serverPubkey: nostr.pubkey })
    const call = client.callTool({ name: 'hang', arguments: {} })
    await expect.poll(() => fx.started).toEqual(['hang'])
    expect(transport.pendingRequests).toBe(1)
    await client.close()
    await expect(call).rejects.toThrow()
    await expect.poll(() => fx.aborted).toEqual(['hang'])
  })

  it('the server bounds a request with requestTimeoutMs', async () => {
    const relay = await h.relay()
    const fx = slowServer()
    const nostr = await h.serve(fx.server, { relays: [relay.url], requestTimeoutMs: 200 })
    const { client } = await h.client({ relays: [relay.url], serverPubkey: nostr.pubkey })
    const err = await client.callTool({ name: 'hang', arguments: {} }).catch((e: unknown) => e)
    expect(err).toMatchObject({ code: -31408, message: expect.stringContaining('the server gave up on tools/call after 200 ms') })
    await expect.poll(() => fx.aborted).toEqual(['hang'])
  })

  it('closing the server lets a call in flight finish', async () => {
    const relay = await h.relay()
    const fx = slowServer()
    const nostr = await serveNostr(fx.server, { relays: [relay.url], logger: silentLogger })
    const { client } = await h.client({ relays: [relay.url], serverPubkey: nostr.pubkey })
    const call = client.callTool({ name: 'delay', arguments: { ms: 150, tag: 'last' } })
    await expect.poll(() => fx.started).toEqual(['last'])
    await nostr.close()
    expect((await call).content).toEqual([{ type: 'text', text: 'last' }])
  })
})

describe('sessions', () => {
  const h = new NostrHarness()
  afterEach(() => h.closeAll())

  it('drops an idle session and opens a new one for the next request from that key', async () => {
    const relay = await h.relay()
    const nostr = await h.serve(slowServer().server, { relays: [relay.url], sessionIdleMs: 150 })
    const { client } = await h.client({ relays: [relay.url], serverPubkey: nostr.pubkey })
    expect(nostr.sessions).toBe(1)
    await expect.poll(() => nostr.sessions, { timeout: 2000 }).toBe(0)
    // No new initialize: the fresh session answers straight away.
    expect((await client.callTool({ name: 'delay', arguments: { ms: 1, tag: 'back' } })).content).toEqual([
      { type: 'text', text: 'back' },
    ])
    expect(nostr.sessions).toBe(1)
  })
})
