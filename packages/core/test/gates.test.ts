import type { Caller, PaymentGateway } from '@agora/core'
import { AgoraError, allOf, apiKeys, authenticated, createServer, requireScopes, tokenBucket } from '@agora/core'
import type { CallToolResult } from '@modelcontextprotocol/client'
import { afterEach, describe, expect, it } from 'vitest'
import { z } from 'zod'
import { connectMemory, rejection } from './helpers.ts'

const KEYS = {
  'sk-alice-0123456789': { name: 'alice', scopes: ['read', 'admin'] },
  'sk-bob-0123456789': { name: 'bob', scopes: ['read'] },
}
const text = (r: unknown) =>
  (r as CallToolResult).content[0]?.type === 'text' ? ((r as CallToolResult).content[0] as { text: string }).text : ''

function guarded() {
  return createServer({ name: 'guarded', version: '1.0.0' })
    .auth({ authenticators: [apiKeys({ keys: KEYS })], required: true })
    .tool('whoami', {}, (_a, ctx) => ctx.caller.id)
    .tool('admin', { access: allOf(authenticated(), requireScopes('admin')) }, () => 'admin ok')
}

let closers: (() => Promise<void>)[] = []
afterEach(async () => {
  for (const c of closers) await c()
  closers = []
})
async function connect(server: ReturnType<typeof createServer>, meta: Record<string, unknown> = {}) {
  const c = await connectMemory(server, meta)
  closers.push(c.close)
  return c.client
}

describe('authenticate gate (API keys)', () => {
  it('establishes the caller from a valid key', async () => {
    const client = await connect(guarded(), { 'agora/api-key': 'sk-bob-0123456789' })
    expect(text(await client.callTool({ name: 'whoami', arguments: {} }))).toBe('key:bob')
  })

  it('rejects a wrong key on every method with UNAUTHENTICATED', async () => {
    const client = await connect(guarded(), { 'agora/api-key': 'sk-mallory-000000000' })
    const err = await rejection(client.callTool({ name: 'whoami', arguments: {} }))
    expect(err.code).toBe(-31401)
    expect(err.message).toContain('Invalid API key')
    expect((await rejection(client.listTools())).code).toBe(-31401)
  })

  it('requires a key when auth is required', async () => {
    const client = await connect(guarded())
    const err = await rejection(client.callTool({ name: 'whoami', arguments: {} }))
    expect(err).toMatchObject({ code: -31401 })
    expect(err.message).toContain('Authentication required')
  })

  it('lets anonymous callers through when auth is optional, but still rejects a bad key', async () => {
    const server = createServer({ name: 'opt', version: '1.0.0' })
      .auth({ authenticators: [apiKeys({ keys: KEYS })] })
      .tool('whoami', {}, (_a, ctx) => `${ctx.caller.id}/${ctx.caller.authenticated}`)
    expect(text(await (await connect(server)).callTool({ name: 'whoami', arguments: {} }))).toBe('local/false')
    const bad = await connect(server, { 'agora/api-key': 'sk-wrong-00000000' })
    expect((await rejection(bad.callTool({ name: 'whoami', arguments: {} }))).code).toBe(-31401)
  })

  it('refuses keys shorter than 8 characters at definition time', () => {
    expect(() => apiKeys({ keys: { short: { name: 'x' } } })).toThrow(/too short/)
  })
})

describe('authorize gate (access rules)', () => {
  it('refuses a caller without the scope and hides the tool from its listing', async () => {
    const client = await connect(guarded(), { 'agora/api-key': 'sk-bob-0123456789' })
    const err = await rejection(client.callTool({ name: 'admin', arguments: {} }))
    expect(err.code).toBe(-31403)
    expect(err.message).toBe('Caller key:bob may not use mcp://tool/admin')
    const { tools } = await client.listTools()
    expect(tools.map((t) => t.name)).toEqual(['whoami'])
  })

  it('admits a caller that satisfies the rule', async () => {
    const client = await connect(guarded(), { 'agora/api-key': 'sk-alice-0123456789' })
    expect(text(await client.callTool({ name: 'admin', arguments: {} }))).toBe('admin ok')
    expect((await client.listTools()).tools.map((t) => t.name)).toEqual(['whoami', 'admin'])
  })

  it('applies access rules to resources and prompts too', async () => {
    const server = createServer({ name: 'r', version: '1.0.0' })
      .resource('data://secret', { access: requireScopes('admin') }, () => 'top secret')
      .prompt('p', { access: requireScopes('admin') }, () => 'hi')
    const client = await connect(server)
    expect((await rejection(client.readResource({ uri: 'data://secret' }))).code).toBe(-31401)
    expect((await client.listResources()).resources).toEqual([])
    expect((await rejection(client.getPrompt({ name: 'p' }))).code).toBe(-31401)
  })
})

describe('rate-limit gate', () => {
  it('refuses a caller over its limit with a retry hint, and keeps serving others', async () => {
    let now = 1_000_000
    const limiter = tokenBucket({ capacity: 2, refillPerSecond: 0.5, now: () => now })
    const server = guarded().rateLimit(limiter)
    const bob = await connect(server, { 'agora/api-key': 'sk-bob-0123456789' })
    const alice = await connect(server, { 'agora/api-key': 'sk-alice-0123456789' })
    await bob.callTool({ name: 'whoami', arguments: {} })
    await bob.callTool({ name: 'whoami', arguments: {} })
    const err = await rejection(bob.callTool({ name: 'whoami', arguments: {} }))
    expect(err.code).toBe(-31429)
    expect(err.message).toBe('Rate limit exceeded for key:bob; retry after 2s')
    expect(err.data).toMatchObject({ code: 'RATE_LIMITED', retryAfterMs: 2000 })
    expect(text(await alice.callTool({ name: 'whoami', arguments: {} }))).toBe('key:alice')
    now += 2000
    expect(text(await bob.callTool({ name: 'whoami', arguments: {} }))).toBe('key:bob')
  })

  it('forgets the least recently seen callers beyond maxKeys', () => {
    const limiter = tokenBucket({ capacity: 1, refillPerSecond: 0.001, maxKeys: 2, now: () => 0 })
    expect(limiter.take('a').allowed).toBe(true)
    expect(limiter.take('a').allowed).toBe(false)
    limiter.take('b')
    limiter.take('c') // evicts a
    expect(limiter.take('a').allowed).toBe(true)
  })
})

describe('validate, price and pay gates', () => {
  const calls: string[] = []
  function gateway(behaviour: { settle?: 'ok' | 'fail'; replay?: boolean } = {}): PaymentGateway {
    return {
      async authorize(inv) {
        calls.push(`authorize ${inv.price?.amount} ${inv.price?.asset} ${inv.target?.resource}`)
        if (behaviour.replay) return { kind: 'replay', result: { content: [{ type: 'text', text: 'stored result' }] } }
        return { kind: 'authorized', authorization: { id: 'charge-1' } }
      },
      async settle(auth) {
        calls.push(`settle ${(auth as { id: string }).id}`)
        if (behaviour.settle === 'fail') throw new AgoraError('PAYMENT_REQUIRED', 'settlement failed')
        return {
          kind: 'settled',
          receipt: { chargeId: 'charge-1', transaction: '0xabc' },
          meta: { 'x402/payment-response': { success: true } },
        }
      },
      async release(auth, reason) {
        calls.push(`release ${(auth as { id: string }).id}: ${reason}`)
      },
    }
  }
  const server = (gw: PaymentGateway) =>
    createServer({ name: 'shop', version: '1.0.0' })
      .payments(gw)
      .tool('buy', { input: z.object({ qty: z.number().int().min(1) }), price: ({ qty }) => `${qty * 2} USDC` }, ({ qty }) => {
        calls.push('run')
        if (qty === 13) throw new Error('unlucky')
        return `bought ${qty}`
      })
  afterEach(() => {
    calls.length = 0
  })

  it('validates before pricing, then authorizes, runs, settles and attaches the receipt', async () => {
    const client = await connect(server(gateway()))
    const bad = await rejection(client.callTool({ name: 'buy', arguments: { qty: 0 } }))
    expect(bad.code).toBe(-32602)
    expect(bad.message).toContain('qty')
    expect(calls).toEqual([])
    const r = await client.callTool({ name: 'buy', arguments: { qty: 3 } })
    expect(text(r)).toBe('bought 3')
    expect(r._meta?.['agora/receipt']).toEqual({ chargeId: 'charge-1', transaction: '0xabc' })
    expect(r._meta?.['x402/payment-response']).toEqual({ success: true })
    expect(calls).toEqual(['authorize 6 USDC mcp://tool/buy', 'run', 'settle charge-1'])
  })

  it('releases the authorization when the handler fails, charging nothing', async () => {
    const client = await connect(server(gateway()))
    const r = await client.callTool({ name: 'buy', arguments: { qty: 13 } })
    expect(r.isError).toBe(true)
    expect(calls).toEqual(['authorize 26 USDC mcp://tool/buy', 'run', 'release charge-1: handler returned an error'])
  })

  it('withholds the output when settlement fails', async () => {
    const client = await connect(server(gateway({ settle: 'fail' })))
    const err = await rejection(client.callTool({ name: 'buy', arguments: { qty: 1 } }))
    expect(err.message).toBe('settlement failed')
    expect(JSON.stringify(err)).not.toContain('bought')
  })

  it('returns the stored result for a replayed, already-settled payment without running again', async () => {
    const client = await connect(server(gateway({ replay: true })))
    expect(text(await client.callTool({ name: 'buy', arguments: { qty: 1 } }))).toBe('stored result')
    expect(calls).toEqual(['authorize 2 USDC mcp://tool/buy'])
  })

  it('runs custom gates in order after payment verification', async () => {
    const order: string[] = []
    const s = server(gateway())
      .use({
        name: 'one',
        handle: async (_i, next) => {
          order.push('one')
          return next()
        },
      })
      .use({
        name: 'two',
        handle: async (_i, next) => {
          order.push('two')
          return next()
        },
      })
    const client = await connect(s)
    await client.callTool({ name: 'buy', arguments: { qty: 1 } })
    expect(order).toEqual(['one', 'two'])
    expect(calls[0]).toMatch(/^authorize/)
  })
})

describe('caller identity', () => {
  it('is local over in-memory and stdio-like transports', async () => {
    const seen: Caller[] = []
    const s = createServer({ name: 'c', version: '1.0.0' }).tool('me', {}, (_a, ctx) => {
      seen.push(ctx.caller)
      return 'ok'
    })
    await (await connect(s)).callTool({ name: 'me', arguments: {} })
    expect(seen[0]).toMatchObject({ id: 'local', kind: 'local', authenticated: false })
  })
})

describe('token bucket recency', () => {
  it('keeps a busy caller tracked while idle ones are evicted', () => {
    let now = 0
    const limiter = tokenBucket({ capacity: 2, refillPerSecond: 0.001, maxKeys: 2, now: () => now })
    limiter.take('busy')
    limiter.take('idle')
    now = 5000
    limiter.take('busy') // busy is now the most recent
    limiter.take('new') // evicts idle, not busy
    expect(limiter.take('busy').allowed).toBe(false) // busy kept its (empty) bucket
    expect(limiter.take('idle').allowed).toBe(true) // idle was forgotten: fresh bucket
  })
})

describe('payment gateway seams', () => {
  const base = (gw: Partial<PaymentGateway>) =>
    createServer({ name: 'forms', version: '1.0.0' })
      .payments({
        authorize: async () => ({ kind: 'authorized', authorization: 'a' }),
        settle: async () => ({ kind: 'settled', receipt: { ok: true } }),
        release: async () => {},
        ...gw,
      })
      .tool('paid', { price: '1 USDC' }, () => 'secret output')

  it('answers with a challenge result without running the handler', async () => {
    const client = await connect(
      base({
        authorize: async () => ({ kind: 'challenge', result: { content: [{ type: 'text', text: 'pay first' }], isError: true } }),
      }),
    )
    const r = await client.callTool({ name: 'paid', arguments: {} })
    expect(r).toMatchObject({ isError: true, content: [{ type: 'text', text: 'pay first' }] })
  })

  it('withholds the output when settle answers with a failure result', async () => {
    const client = await connect(
      base({
        settle: async () => ({
          kind: 'failed',
          result: { content: [{ type: 'text', text: 'settlement failed' }], isError: true },
        }),
      }),
    )
    const r = await client.callTool({ name: 'paid', arguments: {} })
    expect(JSON.stringify(r)).not.toContain('secret output')
    expect(r.isError).toBe(true)
  })

  it('answers payments/list when the gateway describes itself, through the gates', async () => {
    const server = base({ paymentsList: () => ({ protocols: { x402: { version: 2, schemes: ['eip155:31337'] } } }) })
    const client = await connect(server)
    const r = await client.request({ method: 'payments/list', params: {} }, z.looseObject({}))
    expect(r).toMatchObject({ protocols: { x402: { version: 2, schemes: ['eip155:31337'] } } })
    const plain = await connect(createServer({ name: 'free', version: '1.0.0' }).tool('t', {}, () => 'x'))
    await expect(plain.request({ method: 'payments/list', params: {} }, z.looseObject({}))).rejects.toMatchObject({
      code: -32601,
    })
  })
})
