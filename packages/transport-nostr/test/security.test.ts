import { allowCallers, createServer } from '@agora/core'
import type { Event } from 'nostr-tools/pure'
import { finalizeEvent, generateSecretKey, getPublicKey } from 'nostr-tools/pure'
import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import { DVMCP_DRAFT } from '../src/index.ts'
import { contentOf, type NostrHarness, nostrTestbed, rawPublish, startLooseRelay } from './nostr-helpers.ts'

const { request: REQ, response: RES } = DVMCP_DRAFT.kinds
const now = () => Math.floor(Date.now() / 1000)

/** A server counting how often its tool really ran. */
function counter() {
  const runs: string[] = []
  const server = createServer({ name: 'counter', version: '1.0.0' })
    .tool('count', { description: 'Counts', input: z.object({ tag: z.string() }) }, ({ tag }) => {
      runs.push(tag)
      return `ran ${tag}`
    })
    .tool('delay', { description: 'Waits', input: z.object({ ms: z.number(), tag: z.string() }) }, async ({ ms, tag }) => {
      await new Promise((r) => setTimeout(r, ms))
      return tag
    })
  return { server, runs }
}

interface RequestSpec {
  method?: string
  id?: string | number
  params?: Record<string, unknown>
  serverId?: string
  createdAt?: number
  content?: string
  tags?: string[][]
}

function request(sk: Uint8Array, server: string, spec: RequestSpec = {}): Event {
  const method = spec.method ?? 'tools/call'
  const message = { jsonrpc: '2.0', id: spec.id ?? 1, method, params: spec.params ?? { name: 'count', arguments: { tag: 'x' } } }
  return finalizeEvent(
    {
      kind: REQ,
      created_at: spec.createdAt ?? now(),
      tags: spec.tags ?? [['method', method], ['p', server], ...(spec.serverId ? [['s', spec.serverId]] : [])],
      content: spec.content ?? JSON.stringify(message),
    },
    sk,
  )
}

const answers = (events: Event[], requestId: string) =>
  events.filter((e) => e.kind === RES && e.tags.some((t) => t[0] === 'e' && t[1] === requestId))

const settle = (ms = 150) => new Promise((r) => setTimeout(r, ms))

const bed = nostrTestbed()
const { h } = bed

describe('events a relay should never have delivered', () => {
  it('ignores a forged signature, an event for another pubkey and a duplicate; still serves good ones', async () => {
    const loose = await startLooseRelay()
    h.add(() => loose.close())
    const { server, runs } = counter()
    const nostr = await h.serve(server, { relays: [loose.url] })
    const sk = generateSecretKey()

    const forged = { ...request(sk, nostr.pubkey, { params: { name: 'count', arguments: { tag: 'forged' } } }) }
    forged.content = forged.content.replace('forged', 'tampered')
    loose.inject(forged)
    const elsewhere = request(sk, getPublicKey(generateSecretKey()), {
      params: { name: 'count', arguments: { tag: 'elsewhere' } },
    })
    loose.inject(elsewhere)
    const good = request(sk, nostr.pubkey, { params: { name: 'count', arguments: { tag: 'good' } } })
    loose.inject(good)
    loose.inject(good)
    loose.inject({ ...good })

    await expect.poll(() => answers(loose.received, good.id).length).toBe(1)
    await settle()
    expect(runs).toEqual(['good'])
    expect(answers(loose.received, good.id)).toHaveLength(1)
    expect(answers(loose.received, forged.id)).toHaveLength(0)
    expect(answers(loose.received, elsewhere.id)).toHaveLength(0)
  })

  it('the client accepts only responses signed by the server it called', async () => {
    const loose = await startLooseRelay()
    h.add(() => loose.close())
    const nostr = await h.serve(counter().server, { relays: [loose.url] })
    const { client, transport } = await h.client({ relays: [loose.url], serverPubkey: nostr.pubkey })
    const call = client.callTool({ name: 'delay', arguments: { ms: 300, tag: 'genuine' } })
    await expect.poll(() => loose.received.find((e) => e.kind === REQ && e.content.includes('genuine'))).toBeDefined()
    const req = loose.received.find((e) => e.kind === REQ && e.content.includes('genuine')) as Event
    const forgedResult = JSON.stringify({
      jsonrpc: '2.0',
      id: contentOf(req).id,
      result: { content: [{ type: 'text', text: 'forged' }] },
    })
    const tags = [
      ['e', req.id],
      ['p', transport.pubkey],
    ]
    // An impostor key, correctly signed.
    loose.inject(finalizeEvent({ kind: RES, created_at: now(), tags, content: forgedResult }, generateSecretKey()))
    // The server's pubkey with a signature that does not match.
    const stolen = finalizeEvent({ kind: RES, created_at: now(), tags, content: forgedResult }, generateSecretKey())
    loose.inject({ ...stolen, pubkey: nostr.pubkey })
    expect((await call).content).toEqual([{ type: 'text', text: 'genuine' }])
  })
})

describe('requests the server refuses', () => {
  async function setup(options: Parameters<NostrHarness['serve']>[1] = { relays: [] }) {
    const fx = counter()
    const nostr = await h.serve(fx.server, { ...options, relays: [bed.relay.url] })
    const sk = generateSecretKey()
    const me = getPublicKey(sk)
    const spy = await h.spy(bed.relay.url, { kinds: [RES], '#p': [me] })
    const ask = async (spec: RequestSpec, key = sk) => {
      const event = request(key, nostr.pubkey, { serverId: nostr.serverId, ...spec })
      await nostr.pool.publish(event)
      return { event, answer: spy.waitFor((e) => e.tags.some((t) => t[0] === 'e' && t[1] === event.id)).then(contentOf) }
    }
    return { ...fx, nostr, sk, me, spy, ask }
  }

  it('refuses a request replayed after the replay window, and one dated in the future', async () => {
    // A long-running server's subscription reaches back to its start: a request from before the
    // window but after the start still arrives, and must be refused. Window 1 s, replayed 2 s later.
    const loose = await startLooseRelay()
    h.add(() => loose.close())
    const { server, runs } = counter()
    const nostr = await h.serve(server, { relays: [loose.url], replayWindowSeconds: 1 })
    const sk = generateSecretKey()
    const old = request(sk, nostr.pubkey, { params: { name: 'count', arguments: { tag: 'old' } } })
    const future = request(sk, nostr.pubkey, { createdAt: now() + 600, params: { name: 'count', arguments: { tag: 'future' } } })
    await settle(2100)
    loose.inject(old)
    loose.inject(future)
    await expect.poll(() => answers(loose.received, old.id).length + answers(loose.received, future.id).length).toBe(2)
    expect(contentOf(answers(loose.received, old.id)[0] as Event)).toMatchObject({
      jsonrpc: '2.0',
      id: 1,
      error: { code: -32600, message: expect.stringMatching(/the event is \d+ s old; the limit is 1 s/) },
    })
    expect(contentOf(answers(loose.received, future.id)[0] as Event)).toMatchObject({
      error: { code: -32600, message: expect.stringContaining('in the future') },
    })
    expect(runs).toEqual([])
  })

  it('never sees a stored request older than its window on a real relay', async () => {
    const { ask, spy, runs } = await setup()
    const stale = await ask({ createdAt: now() - 600, params: { name: 'count', arguments: { tag: 'stale' } } })
    const fresh = await ask({ id: 2, params: { name: 'count', arguments: { tag: 'fresh' } } })
    await fresh.answer
    await settle()
    expect(answers(spy.events, stale.event.id)).toHaveLength(0)
    expect(runs).toEqual(['fresh'])
  })

  it('a restarted server does not run again a stored request it already answered, but serves one it missed', async () => {
    const sk = generateSecretKey()
    const fx = counter()
    const first = await h.serve(fx.server, { relays: [bed.relay.url], secretKey: sk })
    const client = generateSecretKey()
    const spy = await h.spy(bed.relay.url, { kinds: [RES], '#p': [getPublicKey(client)] })
    const answered = request(client, first.pubkey, { params: { name: 'count', arguments: { tag: 'once' } } })
    await first.pool.publish(answered)
    await spy.waitFor((e) => e.tags.some((t) => t[0] === 'e' && t[1] === answered.id))
    await first.close()

    // Sent while no server listens: stored by the relay.
    const missed = request(client, first.pubkey, { id: 2, params: { name: 'count', arguments: { tag: 'missed' } } })
    expect((await rawPublish(bed.relay.url, missed)).ok).toBe(true)

    await h.serve(fx.server, { relays: [bed.relay.url], secretKey: sk })
    await spy.waitFor((e) => e.tags.some((t) => t[0] === 'e' && t[1] === missed.id))
    await settle()
    expect(fx.runs).toEqual(['once', 'missed'])
    expect(answers(spy.events, answered.id)).toHaveLength(1)
  })

  it('answers malformed content with JSON-RPC errors the client can correlate by e', async () => {
    const { ask } = await setup()
    expect(await (await ask({ content: 'this is not json' })).answer).toMatchObject({
      jsonrpc: '2.0',
      id: null,
      error: { code: -32700, message: expect.stringContaining('Parse error') },
    })
    expect(await (await ask({ content: JSON.stringify({ id: 7, hello: 'world' }) })).answer).toMatchObject({
      id: 7,
      error: { code: -32600, message: expect.stringContaining('JSON-RPC') },
    })
    expect(
      await (await ask({ content: JSON.stringify({ jsonrpc: '2.0', id: 8, method: 'tools/call', params: 'nope' }) })).answer,
    ).toMatchObject({ id: 8, error: { code: -32600 } })
  })

  it('refuses oversized content, naming the limit', async () => {
    const { ask, runs } = await setup({ relays: [], maxContentBytes: 2000 })
    const big = await ask({ id: 'big', params: { name: 'count', arguments: { tag: 'x'.repeat(5000) } } })
    expect(await big.answer).toMatchObject({ id: 'big', error: { code: -32600, message: expect.stringContaining('2000 bytes') } })
    expect(runs).toEqual([])
  })

  it('answers an unknown method with -32601 and a method tag that lies with -32600', async () => {
    const { ask, me, nostr } = await setup()
    expect(await (await ask({ method: 'foo/bar', params: {} })).answer).toMatchObject({ error: { code: -32601 } })
    const lying = await ask({
      tags: [
        ['method', 'tools/list'],
        ['p', nostr.pubkey],
      ],
    })
    expect(await lying.answer).toMatchObject({ error: { code: -32600, message: expect.stringContaining('method tag') } })
    expect(me).toHaveLength(64)
  })

  it('ignores requests for another server id behind the same key', async () => {
    const { ask, spy, runs } = await setup()
    const other = await ask({ serverId: 'someone-else' })
    const fine = await ask({ id: 2, params: { name: 'count', arguments: { tag: 'mine' } } })
    await fine.answer
    await settle()
    expect(answers(spy.events, other.event.id)).toHaveLength(0)
    expect(runs).toEqual(['mine'])
  })

  it('blocks and allows pubkeys, and hands the pubkey to access rules as nostr:<hex>', async () => {
    const allowed = generateSecretKey()
    const blocked = generateSecretKey()
    const stranger = generateSecretKey()
    const fx = counter()
    fx.server.tool('vip', { description: 'VIP only', access: allowCallers(`nostr:${getPublicKey(allowed)}`) }, (_a, ctx) => ({
      caller: ctx.caller.id,
      kind: ctx.caller.kind,
      authenticated: ctx.caller.authenticated,
      transport: ctx.transport.kind,
      remote: ctx.transport.remote,
    }))
    const nostr = await h.serve(fx.server, { relays: [bed.relay.url], block: [getPublicKey(blocked)] })
    const as = async (sk: Uint8Array) =>
      (await h.client({ relays: [bed.relay.url], serverPubkey: nostr.pubkey, secretKey: sk })).client

    const vip = await (await as(allowed)).callTool({ name: 'vip', arguments: {} })
    expect(vip.structuredContent).toEqual({
      caller: `nostr:${getPublicKey(allowed)}`,
      kind: 'nostr',
      authenticated: true,
      transport: 'nostr',
      remote: getPublicKey(allowed),
    })
    const denied = await (await as(stranger)).callTool({ name: 'vip', arguments: {} }).catch((e: unknown) => e)
    expect(denied).toMatchObject({ code: -31403 })

    const err = await as(blocked).catch((e: unknown) => e)
    expect(err).toMatchObject({ code: -31403, message: expect.stringContaining('blocked') })

    const onlyAllowed = await h.serve(counter().server, { relays: [bed.relay.url], allow: [getPublicKey(allowed)] })
    const outsider = await h
      .client({ relays: [bed.relay.url], serverPubkey: onlyAllowed.pubkey, secretKey: stranger })
      .catch((e: unknown) => e)
    expect(outsider).toMatchObject({ code: -31403, message: expect.stringContaining('allowlist') })
  })

  it('two processes sharing a key may use the same JSON-RPC ids at once, and cancel only their own', async () => {
    const aborted: string[] = []
    const server = createServer({ name: 'shared', version: '1.0.0' }).tool(
      'wait',
      { description: 'Waits unless cancelled', input: z.object({ ms: z.number(), tag: z.string() }) },
      async ({ ms, tag }, ctx) => {
        await new Promise<void>((resolve, reject) => {
          const timer = setTimeout(resolve, ms)
          ctx.signal.addEventListener('abort', () => {
            clearTimeout(timer)
            aborted.push(tag)
            reject(new Error('aborted'))
          })
        })
        return tag
      },
    )
    const nostr = await h.serve(server, { relays: [bed.relay.url] })
    const sk = generateSecretKey()
    const a = await h.client({ relays: [bed.relay.url], serverPubkey: nostr.pubkey, secretKey: sk })
    const b = await h.client({ relays: [bed.relay.url], serverPubkey: nostr.pubkey, secretKey: sk })
    // Both SDK clients number their requests the same way: the ids collide on the server.
    const controller = new AbortController()
    const fromA = a.client.callTool({ name: 'wait', arguments: { ms: 400, tag: 'from-a' } }, { signal: controller.signal })
    const fromB = b.client.callTool({ name: 'wait', arguments: { ms: 400, tag: 'from-b' } })
    const other = a.client.callTool({ name: 'wait', arguments: { ms: 10, tag: 'quick' } })
    expect((await other).content).toEqual([{ type: 'text', text: 'quick' }])
    controller.abort('only mine')
    await expect(fromA).rejects.toThrow()
    expect((await fromB).content).toEqual([{ type: 'text', text: 'from-b' }])
    await expect.poll(() => aborted).toEqual(['from-a'])
  })
})
