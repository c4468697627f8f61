import { join } from 'node:path'
import type { AgoraClient, PaymentHook } from '@agora/client'
import { connect, contentText } from '@agora/client'
import { createServer, silentLogger } from '@agora/core'
import type { HttpServerHandle } from '@agora/core/http'
import { serveHttp } from '@agora/core/http'
import type { LocalAccount } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { z } from 'zod'
import type { Devchain } from '../src/evm/index.ts'
import { tokenBalance } from '../src/evm/index.ts'
import type { ChargeLedger, PaymentForm, PaymentRail } from '../src/index.ts'
import { createPaymentEngine, sqliteLedger } from '../src/index.ts'
import type { BudgetPolicy, PaymentRecord } from '../src/wallet/index.ts'
import { evmPaymentHook, openPaymentRecord } from '../src/wallet/index.ts'
import { startPaidChain } from './evm-helpers.ts'

let devchain: Devchain
let rail: PaymentRail
let payTo: `0x${string}`
let dir: string
let closers: Array<() => Promise<unknown>> = []

let paid: Awaited<ReturnType<typeof startPaidChain>>
beforeAll(async () => {
  paid = await startPaidChain('agora-wallet-hook-')
  ;({ devchain, payTo, rail, dir } = paid)
})
afterAll(() => paid?.close())
afterEach(async () => {
  for (const close of closers.reverse()) await close()
  closers = []
})

let n = 0
/** A shop on loopback HTTP whose `forecast` costs 0.01 USDC and `premium` 0.02, answering challenges in `form`. */
async function shop(form: PaymentForm = 'sep-2009') {
  const ledger: ChargeLedger = await sqliteLedger({ path: join(dir, `charges-${++n}.db`) })
  const runs: string[] = []
  const server = createServer({ name: 'shop', version: '1.0.0' })
    .payments(createPaymentEngine({ ledger, rails: [rail], form }))
    .tool('forecast', { input: z.object({ city: z.string() }), price: '0.01 USDC' }, ({ city }) => {
      runs.push(city)
      return `sunny in ${city}`
    })
    .tool('premium', { price: '0.02 USDC' }, () => 'premium')
    .tool('broken', { price: '0.01 USDC' }, () => {
      throw new Error('no data today')
    })
  const http: HttpServerHandle = await serveHttp(server, { port: 0, logger: silentLogger })
  closers.push(
    () => ledger.close(),
    () => http.close(),
  )
  return { url: http.mcpUrl, runs, ledger }
}

/** A fresh funded payer whose signatures are counted. */
async function payer(fund = '1') {
  const account = privateKeyToAccount(`0x${Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString('hex')}`)
  if (fund !== '0') await devchain.faucet.fund(account.address, fund)
  const counter = { signed: 0 }
  const counted: LocalAccount = {
    ...account,
    signTypedData: (args) => {
      counter.signed++
      return account.signTypedData(args as never)
    },
  }
  return { account: counted, address: account.address, counter }
}

function record(): PaymentRecord {
  return openPaymentRecord(join(dir, `payments-${++n}.jsonl`))
}

function hookFor(wallet: { account: LocalAccount }, budget: BudgetPolicy = {}, rec = record()) {
  return {
    record: rec,
    hook: evmPaymentHook({ wallet, publicClient: devchain.chain.publicClient, budget, record: rec }),
  }
}

async function client(url: string, payments?: PaymentHook): Promise<AgoraClient> {
  const c = await connect(url, { payments })
  closers.push(() => c.close())
  return c
}

const balanceOf = (a: `0x${string}`) => tokenBalance(devchain.chain.publicClient, devchain.token.address, a)

describe('evmPaymentHook through @agora/client', () => {
  it.each(['sep-2009', 'x402-mcp', 'x402-extension'] as const)(
    'pays a %s challenge once and returns the paid result',
    async (form) => {
      const s = await shop(form)
      const p = await payer()
      const { hook, record: rec } = hookFor(p, { maxPerCall: '0.05' })
      const before = await balanceOf(p.address)
      const c = await client(s.url, hook)
      const result = await c.callTool('forecast', { city: 'Oslo' })
      expect(contentText(result)).toBe('sunny in Oslo')
      const settlement = result._meta?.['x402/payment-response'] as { success: boolean; transaction: string }
      expect(settlement).toMatchObject({ success: true, transaction: expect.stringMatching(/^0x[0-9a-f]{64}$/) })
      expect(result._meta?.['agora/receipt']).toMatchObject({ amount: '10000', transaction: settlement.transaction })
      expect(await balanceOf(p.address)).toBe(before - 10000n)
      expect(p.counter.signed).toBe(1)
      expect(s.runs).toEqual(['Oslo'])
      expect(await rec.list()).toEqual([
        expect.objectContaining({
          target: s.url,
          tool: 'forecast',
          resource: 'mcp://tool/forecast',
          amount: '0.01',
          atomic: '10000',
          symbol: 'USDC',
          network: 'eip155:31337',
          asset: devchain.token.address,
          payTo,
          payer: p.address,
          outcome: expect.objectContaining({ status: 'settled', transaction: settlement.transaction }),
        }),
      ])
    },
  )

  it.each(['sep-2009', 'x402-mcp', 'x402-extension'] as const)(
    'without a hook, a %s challenge is PAYMENT_REQUIRED carrying the terms',
    async (form) => {
      const s = await shop(form)
      const c = await client(s.url)
      const err = await c.callTool('forecast', { city: 'Oslo' }).catch((e: unknown) => e)
      expect(err).toMatchObject({
        name: 'AgoraError',
        code: 'PAYMENT_REQUIRED',
        data: {
          form,
          tool: 'forecast',
          paymentRequired: { x402Version: 2, accepts: [expect.objectContaining({ scheme: 'exact', amount: '10000', payTo })] },
        },
      })
      expect(s.runs).toEqual([])
    },
  )

  it('free tools and tool errors pass through untouched', async () => {
    const s = await shop()
    const p = await payer()
    const { hook, record: rec } = hookFor(p)
    const c = await client(s.url, hook)
    const before = await balanceOf(p.address)
    const broken = await c.callTool('broken')
    expect(broken).toMatchObject({ isError: true })
    expect(contentText(broken)).toBe('no data today')
    expect(await balanceOf(p.address)).toBe(before) // released, nothing charged
    expect((await rec.list())[0]?.outcome?.status).toBe('unpaid')
  })

  it('a second challenge after paying is PAYMENT_REQUIRED with the server reason, never a loop', async () => {
    const s = await shop('x402-mcp')
    const broke = await payer('0')
    const rec = record()
    const hook = evmPaymentHook({ wallet: broke, publicClient: devchain.chain.publicClient, record: rec, checkBalance: false })
    let asked = 0
    const counting: PaymentHook = {
      onPaymentRequired: (ch, o) => {
        asked++
        return hook.onPaymentRequired(ch, o)
      },
      onPaymentResult: (o) => hook.onPaymentResult(o),
    }
    const c = await client(s.url, counting)
    const err = (await c.callTool('forecast', { city: 'Oslo' }).catch((e: unknown) => e)) as Error & {
      code: string
      data: Record<string, unknown>
    }
    expect(err).toMatchObject({ code: 'PAYMENT_REQUIRED', data: { refused: true } })
    expect(err.message).toMatch(/^forecast: the server did not accept the payment: invalid_exact_evm_insufficient_balance/)
    expect(asked).toBe(1)
    expect(s.runs).toEqual([])
    expect((await rec.list())[0]?.outcome).toMatchObject({
      status: 'refused',
      reason: expect.stringMatching(/insufficient_balance/),
    })
  })

  it('declines when the balance is too low, before signing', async () => {
    const s = await shop()
    const p = await payer('0.005')
    const { hook, record: rec } = hookFor(p)
    const c = await client(s.url, hook)
    const err = (await c.callTool('forecast', { city: 'Oslo' }).catch((e: unknown) => e)) as Error
    expect(err).toMatchObject({ code: 'PAYMENT_REQUIRED', data: { declined: true } })
    expect(err.message).toBe(`forecast costs 0.01 USDC, but the wallet ${p.address} holds 0.005 USDC on eip155:31337`)
    expect(p.counter.signed).toBe(0)
    expect(await rec.list()).toEqual([])
  })

  it('declines offers on networks it does not pay on', async () => {
    const s = await shop()
    const p = await payer()
    const rec = record()
    const hook = evmPaymentHook({ wallet: p, publicClient: devchain.chain.publicClient, networks: ['eip155:8453'], record: rec })
    const c = await client(s.url, hook)
    await expect(c.callTool('forecast', { city: 'Oslo' })).rejects.toMatchObject({
      code: 'PAYMENT_REQUIRED',
      message:
        'forecast: no payment option this wallet can pay (it pays x402 exact on eip155:8453; the server offers exact on eip155:31337)',
    })
    expect(p.counter.signed).toBe(0)
  })
})

describe('budgets', () => {
  it('refuses over the per-call limit before signing, recording nothing', async () => {
    const s = await shop()
    const p = await payer()
    const { hook, record: rec } = hookFor(p, { maxPerCall: '0.001' })
    const c = await client(s.url, hook)
    const before = await balanceOf(p.address)
    const err = (await c.callTool('forecast', { city: 'Oslo' }).catch((e: unknown) => e)) as Error
    expect(err).toMatchObject({ name: 'AgoraError', code: 'PAYMENT_REQUIRED', data: { declined: true } })
    expect(err.message).toBe('forecast costs 0.01 USDC, over the per-call limit of 0.001 USDC')
    expect(p.counter.signed).toBe(0)
    expect(await rec.list()).toEqual([])
    expect(await balanceOf(p.address)).toBe(before)
    expect(s.runs).toEqual([])
  })

  it('refuses over the per-server daily limit, counting only that server', async () => {
    const [a, b] = [await shop(), await shop()]
    const p = await payer()
    const { hook, record: rec } = hookFor(p, { maxPerServerPerDay: '0.025' })
    const [ca, cb] = [await client(a.url, hook), await client(b.url, hook)]
    await ca.callTool('forecast', { city: 'Oslo' })
    await ca.callTool('forecast', { city: 'Lima' })
    const err = (await ca.callTool('forecast', { city: 'Rome' }).catch((e: unknown) => e)) as Error
    expect(err.message).toBe(
      `forecast costs 0.01 USDC; with 0.02 USDC already paid to ${a.url} in the last 24 hours, that is over the limit of 0.025 USDC per server per day`,
    )
    expect(p.counter.signed).toBe(2)
    expect(await rec.list()).toHaveLength(2)
    expect(contentText(await cb.callTool('forecast', { city: 'Rome' }))).toBe('sunny in Rome') // another server
    expect(a.runs).toEqual(['Oslo', 'Lima'])
  })

  it('refuses over the total limit, also after the record is reopened', async () => {
    const s = await shop()
    const p = await payer()
    const path = join(dir, 'total.jsonl')
    const first = hookFor(p, { maxTotal: '0.03' }, openPaymentRecord(path))
    const c1 = await client(s.url, first.hook)
    await c1.callTool('premium')
    // A new process, as far as the record goes: the same file, a new hook.
    const again = hookFor(p, { maxTotal: '0.03' }, openPaymentRecord(path))
    const c2 = await client(s.url, again.hook)
    await c2.callTool('forecast', { city: 'Oslo' })
    const err = (await c2.callTool('forecast', { city: 'Lima' }).catch((e: unknown) => e)) as Error
    expect(err.message).toBe(
      'forecast costs 0.01 USDC; with 0.03 USDC already paid in total, that is over the total limit of 0.03 USDC',
    )
    expect(p.counter.signed).toBe(2)
    expect((await openPaymentRecord(path).list()).map((e) => [e.tool, e.amount, e.outcome?.status])).toEqual([
      ['premium', '0.02', 'settled'],
      ['forecast', '0.01', 'settled'],
    ])
  })

  it('lets concurrent calls through the lock one by one, never over the total', async () => {
    const s = await shop()
    const p = await payer()
    const { hook, record: rec } = hookFor(p, { maxTotal: '0.02' })
    const c = await client(s.url, hook)
    const outcomes = await Promise.allSettled(['Oslo', 'Lima', 'Rome', 'Kyiv'].map((city) => c.callTool('forecast', { city })))
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(2)
    expect(p.counter.signed).toBe(2)
    expect(await rec.list()).toHaveLength(2)
  })
})
