import type { PaymentNotice } from '@agora/core'
import { createServer } from '@agora/core'
import { finalizeEvent, generateSecretKey, getPublicKey } from 'nostr-tools/pure'
import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import { DVMCP_DRAFT } from '../src/index.ts'
import { around, contentOf, nostrTestbed, signed } from './nostr-helpers.ts'

const { request: REQ, response: RES, notification: NOTE } = DVMCP_DRAFT.kinds

function weatherServer() {
  let paid = false
  const server = createServer({ name: 'Weather Server', version: '1.0.0' })
    .tool('get_weather', { description: 'Weather', input: z.object({ location: z.string() }) }, ({ location }) => {
      return `Sunny in ${location}`
    })
    .tool('broken', { description: 'Fails' }, () => {
      throw new Error('upstream API down')
    })
    .tool('slow', { description: 'Reports progress', input: z.object({ steps: z.number() }) }, async ({ steps }, ctx) => {
      for (let i = 1; i <= steps; i++) await ctx.progress(i, steps, `step ${i}`)
      return 'done'
    })
    .tool('invoice', { description: 'Asks to be paid, then waits' }, async (_args, ctx) => {
      const notice: PaymentNotice = { amount: '21', unit: 'sats', invoice: 'lnbcrt210n1ptest', expiresAt: 4_000_000_000 }
      await ctx.transport.notifyPaymentRequired?.(notice)
      const until = Date.now() + 3000
      while (!paid && Date.now() < until) {
        ctx.signal.throwIfAborted()
        await new Promise((r) => setTimeout(r, 10))
      }
      return paid ? 'paid and done' : 'never paid'
    })
    .resource('file:///project/src/main.rs', { description: 'Entry point', mimeType: 'text/x-rust' }, () => 'fn main() {}')
    .prompt('code_review', { description: 'Review code', args: z.object({ code: z.string() }) }, ({ code }) => `Review: ${code}`)
  return { server, markPaid: () => (paid = true) }
}

const bed = nostrTestbed()
const { h } = bed

describe('DVMCP wire format', () => {
  it('initialize: 5910 with method and p (no s yet), 6910 with e, p and d; then s on every request', async () => {
    const nostr = await h.serve(weatherServer().server, { relays: [bed.relay.url] })
    expect(nostr.serverId).toBe('weather-server')
    const spy = await h.spy(bed.relay.url, around(nostr.pubkey, [REQ, RES, NOTE]))
    const { client, transport } = await h.client({ relays: [bed.relay.url], serverPubkey: nostr.pubkey })
    expect(transport.serverId).toBe('weather-server')

    const init = await spy.waitFor((e) => e.kind === REQ && contentOf(e).method === 'initialize')
    expect(signed(init)).toBe(true)
    expect(init.pubkey).toBe(transport.pubkey)
    expect(init.tags).toEqual([
      ['method', 'initialize'],
      ['p', nostr.pubkey],
    ])
    expect(contentOf(init)).toMatchObject({
      jsonrpc: '2.0',
      id: 0,
      method: 'initialize',
      params: { clientInfo: { name: 'nostr-test' } },
    })

    const initRes = await spy.waitFor((e) => e.kind === RES && e.tags.some((t) => t[0] === 'e' && t[1] === init.id))
    expect(signed(initRes)).toBe(true)
    expect(initRes.pubkey).toBe(nostr.pubkey)
    expect(initRes.tags).toEqual([
      ['e', init.id],
      ['p', transport.pubkey],
      ['d', 'weather-server'],
    ])
    expect(contentOf(initRes)).toMatchObject({
      jsonrpc: '2.0',
      id: 0,
      result: { capabilities: { tools: {} }, serverInfo: { name: 'Weather Server', version: '1.0.0' } },
    })

    // The initialized notification goes out as 21316 addressed to the server.
    const initialized = await spy.waitFor((e) => e.kind === NOTE && contentOf(e).method === 'notifications/initialized')
    expect(initialized.tags).toEqual([
      ['p', nostr.pubkey],
      ['s', 'weather-server'],
      ['method', 'notifications/initialized'],
    ])

    const result = await client.callTool({ name: 'get_weather', arguments: { location: 'New York' } })
    expect(result.content).toEqual([{ type: 'text', text: 'Sunny in New York' }])
    const call = await spy.waitFor((e) => e.kind === REQ && contentOf(e).method === 'tools/call')
    expect(call.tags).toEqual([
      ['method', 'tools/call'],
      ['p', nostr.pubkey],
      ['s', 'weather-server'],
    ])
    expect(contentOf(call)).toMatchObject({ params: { name: 'get_weather', arguments: { location: 'New York' } } })
    const callRes = await spy.waitFor((e) => e.kind === RES && e.tags.some((t) => t[0] === 'e' && t[1] === call.id))
    expect(callRes.tags).toEqual([
      ['e', call.id],
      ['p', transport.pubkey],
    ])
    expect(contentOf(callRes)).toEqual({
      jsonrpc: '2.0',
      id: contentOf(call).id,
      result: { content: [{ type: 'text', text: 'Sunny in New York' }] },
    })
  })

  it('2026-07-28: server/discover opens the session as initialize does (d on its response, then s)', async () => {
    const nostr = await h.serve(weatherServer().server, { relays: [bed.relay.url] })
    const spy = await h.spy(bed.relay.url, around(nostr.pubkey, [REQ, RES]))
    const { client, transport } = await h.client({ relays: [bed.relay.url], serverPubkey: nostr.pubkey }, { pin: '2026-07-28' })
    expect(client.getNegotiatedProtocolVersion()).toBe('2026-07-28')
    expect(transport.serverId).toBe('weather-server')
    const discover = await spy.waitFor((e) => e.kind === REQ && contentOf(e).method === 'server/discover')
    expect(discover.tags).toEqual([
      ['method', 'server/discover'],
      ['p', nostr.pubkey],
    ])
    const res = await spy.waitFor((e) => e.kind === RES && e.tags.some((t) => t[0] === 'e' && t[1] === discover.id))
    expect(res.tags).toEqual([
      ['e', discover.id],
      ['p', transport.pubkey],
      ['d', 'weather-server'],
    ])
    expect(contentOf(res)).toMatchObject({ result: { supportedVersions: expect.arrayContaining(['2026-07-28']) } })

    const result = await client.callTool({ name: 'get_weather', arguments: { location: 'Oslo' } })
    expect(result.content).toEqual([{ type: 'text', text: 'Sunny in Oslo' }])
    const call = await spy.waitFor((e) => e.kind === REQ && contentOf(e).method === 'tools/call')
    expect(call.tags).toEqual([
      ['method', 'tools/call'],
      ['p', nostr.pubkey],
      ['s', 'weather-server'],
    ])
    expect(contentOf(call)).toMatchObject({ params: { _meta: { 'io.modelcontextprotocol/protocolVersion': '2026-07-28' } } })
  })

  it('lists, reads resources and gets prompts; a list cursor travels in params', async () => {
    const nostr = await h.serve(weatherServer().server, { relays: [bed.relay.url], serverId: 'wx' })
    const spy = await h.spy(bed.relay.url, around(nostr.pubkey, [REQ, RES]))
    const { client } = await h.client({ relays: [bed.relay.url], serverPubkey: nostr.pubkey })

    const tools = await client.listTools({ cursor: 'page-2' })
    expect(tools.tools.map((t) => t.name)).toContain('get_weather')
    const list = await spy.waitFor((e) => e.kind === REQ && contentOf(e).method === 'tools/list')
    expect(list.tags).toEqual([
      ['method', 'tools/list'],
      ['p', nostr.pubkey],
      ['s', 'wx'],
    ])
    expect(contentOf(list)).toMatchObject({ params: { cursor: 'page-2' } })

    const read = await client.readResource({ uri: 'file:///project/src/main.rs' })
    expect(read.contents).toEqual([{ uri: 'file:///project/src/main.rs', mimeType: 'text/x-rust', text: 'fn main() {}' }])
    expect((await client.listResources()).resources.map((r) => r.uri)).toEqual(['file:///project/src/main.rs'])

    const prompt = await client.getPrompt({ name: 'code_review', arguments: { code: 'x = 1' } })
    expect(prompt.messages[0]?.content).toEqual({ type: 'text', text: 'Review: x = 1' })
    const get = await spy.waitFor((e) => e.kind === REQ && contentOf(e).method === 'prompts/get')
    const getRes = await spy.waitFor((e) => e.kind === RES && e.tags.some((t) => t[0] === 'e' && t[1] === get.id))
    expect(contentOf(getRes)).toMatchObject({ id: contentOf(get).id, result: { messages: [{ role: 'user' }] } })
  })

  it('a protocol error is an error object; an execution error is a result with isError', async () => {
    const nostr = await h.serve(weatherServer().server, { relays: [bed.relay.url] })
    const spy = await h.spy(bed.relay.url, around(nostr.pubkey, [REQ, RES]))
    const { client } = await h.client({ relays: [bed.relay.url], serverPubkey: nostr.pubkey })

    const err = await client.callTool({ name: 'get_weather', arguments: {} }).catch((e: unknown) => e)
    expect(err).toMatchObject({ code: -32602 })
    const bad = await spy.waitFor((e) => e.kind === REQ && contentOf(e).method === 'tools/call')
    const badRes = await spy.waitFor((e) => e.kind === RES && e.tags.some((t) => t[0] === 'e' && t[1] === bad.id))
    expect(contentOf(badRes)).toMatchObject({ jsonrpc: '2.0', id: contentOf(bad).id, error: { code: -32602 } })
    expect(contentOf(badRes)).not.toHaveProperty('result')

    const failed = await client.callTool({ name: 'broken', arguments: {} })
    expect(failed).toMatchObject({ isError: true, content: [{ type: 'text', text: 'upstream API down' }] })
    const call = await spy.waitFor((e) => e.kind === REQ && (contentOf(e).params as { name?: string }).name === 'broken')
    const res = await spy.waitFor((e) => e.kind === RES && e.tags.some((t) => t[0] === 'e' && t[1] === call.id))
    expect(contentOf(res)).toMatchObject({ result: { isError: true, content: [{ type: 'text', text: 'upstream API down' }] } })
    expect(contentOf(res)).not.toHaveProperty('error')
  })

  it('progress notifications are 21316 with p, s, method and e = the request event', async () => {
    const nostr = await h.serve(weatherServer().server, { relays: [bed.relay.url] })
    const spy = await h.spy(bed.relay.url, around(nostr.pubkey, [REQ, NOTE]))
    const { client, transport } = await h.client({ relays: [bed.relay.url], serverPubkey: nostr.pubkey })
    const seen: number[] = []
    const r = await client.callTool({ name: 'slow', arguments: { steps: 2 } }, { onprogress: (p) => seen.push(p.progress) })
    expect(r.content).toEqual([{ type: 'text', text: 'done' }])
    expect(seen).toEqual([1, 2])
    const call = await spy.waitFor((e) => e.kind === REQ && contentOf(e).method === 'tools/call')
    const progress = await spy.waitFor((e) => e.kind === NOTE && contentOf(e).method === 'notifications/progress')
    expect(progress.pubkey).toBe(nostr.pubkey)
    expect(progress.tags).toEqual([
      ['p', transport.pubkey],
      ['s', nostr.serverId],
      ['method', 'notifications/progress'],
      ['e', call.id],
    ])
    expect(contentOf(progress)).toMatchObject({ jsonrpc: '2.0', params: { progress: 1, total: 2, message: 'step 1' } })
  })

  it('a cancellation is 21316 with e = the cancelled request event', async () => {
    const server = createServer({ name: 'hang', version: '1.0.0' }).tool(
      'hang',
      { description: 'hangs', timeoutMs: 0 },
      (_a, ctx) => {
        return new Promise((_, reject) => ctx.signal.addEventListener('abort', () => reject(new Error('aborted'))))
      },
    )
    const nostr = await h.serve(server, { relays: [bed.relay.url] })
    const spy = await h.spy(bed.relay.url, around(nostr.pubkey, [REQ, NOTE]))
    const { client, transport } = await h.client({ relays: [bed.relay.url], serverPubkey: nostr.pubkey })
    const controller = new AbortController()
    const call = client.callTool({ name: 'hang', arguments: {} }, { signal: controller.signal })
    const req = await spy.waitFor((e) => e.kind === REQ && contentOf(e).method === 'tools/call')
    controller.abort('changed my mind')
    await expect(call).rejects.toThrow()
    const cancel = await spy.waitFor((e) => e.kind === NOTE && contentOf(e).method === 'notifications/cancelled')
    expect(cancel.pubkey).toBe(transport.pubkey)
    expect(cancel.tags).toEqual([
      ['p', nostr.pubkey],
      ['s', 'hang'],
      ['method', 'notifications/cancelled'],
      ['e', req.id],
    ])
    expect(contentOf(cancel)).toMatchObject({ params: { requestId: contentOf(req).id } })
  })

  it.each([
    ['2025', 'legacy'],
    ['2026-07-28', { pin: '2026-07-28' }],
  ] as const)(
    'notifyPaymentRequired publishes the spec payment-required event; the client hook gets the request (%s)',
    async (_era, mode) => {
      const { server, markPaid } = weatherServer()
      const nostr = await h.serve(server, { relays: [bed.relay.url] })
      const spy = await h.spy(bed.relay.url, around(nostr.pubkey, [REQ, NOTE]))
      const notices: unknown[] = []
      const { client, transport } = await h.client(
        {
          relays: [bed.relay.url],
          serverPubkey: nostr.pubkey,
          onPaymentRequired: (notice) => {
            notices.push(notice)
            markPaid()
          },
        },
        mode,
      )
      const r = await client.callTool({ name: 'invoice', arguments: {} })
      expect(r.content).toEqual([{ type: 'text', text: 'paid and done' }])
      const req = await spy.waitFor((e) => e.kind === REQ && contentOf(e).method === 'tools/call')
      const pay = await spy.waitFor((e) => e.kind === NOTE && e.tags.some((t) => t[0] === 'status'))
      expect(pay.pubkey).toBe(nostr.pubkey)
      expect(pay.content).toBe('')
      expect(pay.tags).toEqual([
        ['status', 'payment-required'],
        ['amount', '21', 'lnbcrt210n1ptest'],
        ['e', req.id],
        ['expiration', '4000000000'],
        ['p', transport.pubkey],
      ])
      expect(notices).toEqual([
        {
          amount: '21',
          unit: 'sats',
          invoice: 'lnbcrt210n1ptest',
          expiresAt: 4_000_000_000,
          requestEventId: req.id,
          request: expect.objectContaining({ method: 'tools/call', params: expect.objectContaining({ name: 'invoice' }) }),
        },
      ])
    },
  )

  it('without a payment hook the call fails with PAYMENT_REQUIRED naming the invoice, and is cancelled', async () => {
    const { server } = weatherServer()
    const nostr = await h.serve(server, { relays: [bed.relay.url] })
    const spy = await h.spy(bed.relay.url, around(nostr.pubkey, [NOTE]))
    const { client } = await h.client({ relays: [bed.relay.url], serverPubkey: nostr.pubkey })
    const err = await client.callTool({ name: 'invoice', arguments: {} }).catch((e: unknown) => e)
    expect(err).toMatchObject({ code: -32803, data: { code: 'PAYMENT_REQUIRED', invoice: 'lnbcrt210n1ptest', amount: '21' } })
    expect(String((err as Error).message)).toContain('lnbcrt210n1ptest')
    await spy.waitFor((e) => e.content.includes('notifications/cancelled'))
  })

  it('two identical notifications in one second are two events (the later dated a second on), and both arrive', async () => {
    const { server } = weatherServer()
    const nostr = await h.serve(server, { relays: [bed.relay.url] })
    const spy = await h.spy(bed.relay.url, around(nostr.pubkey, [NOTE]))
    const heard: string[] = []
    const { client } = await h.client({ relays: [bed.relay.url], serverPubkey: nostr.pubkey })
    client.setNotificationHandler('notifications/tools/list_changed', () => void heard.push('tools'))
    await client.listTools() // the session exists
    server.tool('one', { description: 'one' }, () => '1')
    server.tool('two', { description: 'two' }, () => '2')
    const isChange = (e: { kind: number; content: string }) =>
      e.kind === NOTE && contentOf(e as never).method === 'notifications/tools/list_changed'
    const a = await spy.waitFor(isChange)
    const b = await spy.waitFor((e) => isChange(e) && e.id !== a.id)
    expect(a.content).toBe(b.content)
    expect(Math.abs(b.created_at - a.created_at)).toBe(1)
    for (let i = 0; i < 100 && heard.length < 2; i++) await new Promise((r) => setTimeout(r, 20))
    expect(heard).toEqual(['tools', 'tools'])
  })

  it('servers sharing a key answer only requests with their own s tag', async () => {
    const sk = generateSecretKey()
    const a = await h.serve(
      createServer({ name: 'a', version: '1' }).tool('who', { description: 'who' }, () => 'a'),
      {
        relays: [bed.relay.url],
        secretKey: sk,
        serverId: 'alpha',
      },
    )
    await h.serve(
      createServer({ name: 'b', version: '1' }).tool('who', { description: 'who' }, () => 'b'),
      {
        relays: [bed.relay.url],
        secretKey: sk,
        serverId: 'beta',
      },
    )
    const { client: toBeta } = await h.client({ relays: [bed.relay.url], serverPubkey: getPublicKey(sk), serverId: 'beta' })
    const { client: toAlpha } = await h.client({ relays: [bed.relay.url], serverPubkey: a.pubkey, serverId: 'alpha' })
    expect((await toBeta.callTool({ name: 'who', arguments: {} })).content).toEqual([{ type: 'text', text: 'b' }])
    expect((await toAlpha.callTool({ name: 'who', arguments: {} })).content).toEqual([{ type: 'text', text: 'a' }])
  })

  it('answers tools/call sent without initialize (a client that discovered the server)', async () => {
    const nostr = await h.serve(weatherServer().server, { relays: [bed.relay.url] })
    const sk = generateSecretKey()
    const me = getPublicKey(sk)
    const spy = await h.spy(bed.relay.url, { kinds: [RES], '#p': [me] })
    const call = finalizeEvent(
      {
        kind: REQ,
        created_at: Math.floor(Date.now() / 1000),
        tags: [
          ['method', 'tools/call'],
          ['p', nostr.pubkey],
          ['s', nostr.serverId],
        ],
        content: JSON.stringify({
          jsonrpc: '2.0',
          id: 3,
          method: 'tools/call',
          params: { name: 'get_weather', arguments: { location: 'Oslo' } },
        }),
      },
      sk,
    )
    await nostr.pool.publish(call)
    const res = await spy.waitFor((e) => e.tags.some((t) => t[0] === 'e' && t[1] === call.id))
    expect(contentOf(res)).toEqual({ jsonrpc: '2.0', id: 3, result: { content: [{ type: 'text', text: 'Sunny in Oslo' }] } })
  })
})
