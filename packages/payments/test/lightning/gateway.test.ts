import type { AgoraServer, PaymentGateway, PaymentNotice } from '@agora/core'
import { createSdkServer, createServer, silentLogger, TRANSPORT_EXTRA_KEY } from '@agora/core'
import { Client, InMemoryTransport } from '@modelcontextprotocol/client'
import { afterEach, describe, expect, it } from 'vitest'
import { z } from 'zod'
import type { ChargeLedger } from '../../src/index.ts'
import { openLedger, routePayments } from '../../src/index.ts'
import type { LocalLightning, LocalLightningWallet } from '../../src/lightning/index.ts'
import {
  createLightningPayments,
  createLocalLightning,
  decodeInvoice,
  lightningPaymentHandler,
  PREIMAGE_META_KEY,
} from '../../src/lightning/index.ts'

interface Setup {
  ln: LocalLightning
  shop: LocalLightningWallet
  alice: LocalLightningWallet
  ledger: ChargeLedger
  runs: string[]
}

let cleanups: (() => Promise<void>)[] = []
afterEach(async () => {
  for (const c of cleanups.reverse()) await c()
  cleanups = []
})

async function setup(): Promise<Setup> {
  const ln = createLocalLightning()
  const ledger = await openLedger(':memory:')
  cleanups.push(
    () => ledger.close(),
    () => ln.close(),
  )
  return {
    ln,
    shop: ln.createWallet({ name: 'shop' }),
    alice: ln.createWallet({ name: 'alice', balanceMsat: 100_000 }),
    ledger,
    runs: [],
  }
}

/** A server with a `'10 sats'` tool; `flaky` fails its first run. */
function shop(s: Setup, payments: PaymentGateway): AgoraServer {
  let failNext = true
  return createServer({ name: 'shop', version: '1.0.0' })
    .payments(payments)
    .tool('forecast', { input: z.object({ city: z.string() }), price: '10 sats' }, ({ city }) => {
      s.runs.push(city)
      return `sunny in ${city}`
    })
    .tool('flaky', { price: '10 sats' }, () => {
      s.runs.push('flaky')
      if (failNext) {
        failNext = false
        throw new Error('flaky failed')
      }
      return 'worked'
    })
}

/**
 * Connects an in-memory client. With `notify`, the server sees a transport that can deliver
 * payment requests while a call waits (as Nostr does), and the caller `nostr:alice`.
 */
async function connect(server: AgoraServer, notify?: (notice: PaymentNotice) => Promise<void>) {
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair()
  await createSdkServer(server, { logger: silentLogger }).connect(serverSide)
  if (notify) {
    const identity = { id: 'nostr:alice', kind: 'nostr', authenticated: true, scopes: [] }
    const extra = { [TRANSPORT_EXTRA_KEY]: { kind: 'nostr', remote: 'alice', identity, notifyPaymentRequired: notify } }
    const authInfo = { token: '', clientId: '', scopes: [], extra }
    const send = clientSide.send.bind(clientSide)
    clientSide.send = (message, options) => send(message, { ...options, authInfo })
  }
  const client = new Client({ name: 'payer', version: '1.0.0' })
  await client.connect(clientSide)
  cleanups.push(() => client.close())
  return client
}

/** A payer that pays every payment request from `wallet`, a moment after it arrives (as over a relay). */
function payer(wallet: LocalLightningWallet) {
  const notices: PaymentNotice[] = []
  const pay = lightningPaymentHandler({ wallet })
  const notify = async (notice: PaymentNotice) => {
    notices.push(notice)
    setTimeout(() => void pay(notice), 5)
  }
  return { notices, notify }
}

const text = (r: unknown) => (r as { content: { text: string }[] }).content[0]?.text
const receiptOf = (r: unknown) => (r as { _meta?: Record<string, Record<string, unknown>> })._meta?.['agora/receipt']

async function failure(p: Promise<unknown>) {
  return (await p.then(
    () => {
      throw new Error('expected the call to fail')
    },
    (e: unknown) => e,
  )) as { code?: number; message: string; data?: Record<string, unknown> & { paymentInfo?: Record<string, unknown> } }
}

describe('createLightningPayments: hold until paid', () => {
  it('holds the call until the invoice is paid, then runs it and settles the charge', async () => {
    const s = await setup()
    const { notices, notify } = payer(s.alice)
    const client = await connect(shop(s, createLightningPayments({ ledger: s.ledger, wallet: s.shop })), notify)

    const result = await client.callTool({ name: 'forecast', arguments: { city: 'Oslo' } })
    expect(text(result)).toBe('sunny in Oslo')
    expect(s.runs).toEqual(['Oslo'])
    expect(notices).toHaveLength(1)
    const notice = notices[0] as PaymentNotice
    expect(notice).toMatchObject({ amount: '10', unit: 'sats' })
    const invoice = decodeInvoice(notice.invoice)
    expect(invoice).toMatchObject({ amountMsat: 10_000, payee: s.shop.pubkey, network: 'regtest' })
    expect(notice.expiresAt).toBe(invoice.expiresAt)

    const receipt = receiptOf(result)
    expect(receipt).toMatchObject({ amount: '10', asset: 'sats', network: 'lightning:regtest', paymentHash: invoice.paymentHash })
    expect(JSON.stringify(receipt)).not.toMatch(/preimage/)
    expect(await s.alice.getBalance()).toEqual({ balanceMsat: 90_000 })
    expect(await s.shop.getBalance()).toEqual({ balanceMsat: 10_000 })

    const [charge] = await s.ledger.list({ caller: 'nostr:alice' })
    expect(charge).toMatchObject({
      status: 'settled',
      rail: 'lightning-bolt11',
      asset: 'sats',
      amount: '10',
      network: 'lightning:regtest',
      proofKey: `ln:${invoice.paymentHash}`,
    })
    expect((charge?.proof as { preimage?: string } | undefined)?.preimage).toMatch(/^[0-9a-f]{64}$/)
    expect(charge?.receipt).toEqual(receipt)
  })

  it('sees the payment by polling a wallet that cannot push payments', async () => {
    const s = await setup()
    const { onPaymentReceived: _, ...pollOnly } = s.shop
    const { notify } = payer(s.alice)
    const payments = createLightningPayments({ ledger: s.ledger, wallet: pollOnly, pollIntervalMs: 50 })
    const client = await connect(shop(s, payments), notify)
    expect(text(await client.callTool({ name: 'forecast', arguments: { city: 'Oslo' } }))).toBe('sunny in Oslo')
    expect(await s.shop.getBalance()).toEqual({ balanceMsat: 10_000 })
  })

  it('an invoice that expires unpaid fails the call without running it', async () => {
    const s = await setup()
    const notices: PaymentNotice[] = []
    const payments = createLightningPayments({ ledger: s.ledger, wallet: s.shop, expirySeconds: 1, pollIntervalMs: 200 })
    const client = await connect(shop(s, payments), async (n) => {
      notices.push(n)
    })
    const err = await failure(client.callTool({ name: 'forecast', arguments: { city: 'Oslo' } }))
    expect(err.code).toBe(-32803)
    expect(err.message).toMatch(/expired unpaid; nothing ran/)
    expect(err.data).toMatchObject({ protocol: 'lightning', reason: 'expired' })
    expect(s.runs).toEqual([])
    expect(notices).toHaveLength(1)
    const [charge] = await s.ledger.list({ caller: 'nostr:alice' })
    expect(charge).toMatchObject({ status: 'failed', error: 'expired' })
    expect((await s.alice.payInvoice((notices[0] as PaymentNotice).invoice).catch((e: Error) => e)) as Error).toBeInstanceOf(
      Error,
    )
  })

  it('a call cancelled while waiting fails its charge and runs nothing', async () => {
    const s = await setup()
    const controller = new AbortController()
    const client = await connect(shop(s, createLightningPayments({ ledger: s.ledger, wallet: s.shop })), async () => {
      setTimeout(() => controller.abort(), 20)
    })
    const err = await failure(client.callTool({ name: 'forecast', arguments: { city: 'Oslo' } }, { signal: controller.signal }))
    expect(err).toBeInstanceOf(Error)
    let charge: Awaited<ReturnType<ChargeLedger['list']>>[number] | undefined
    for (let i = 0; i < 50 && charge?.status !== 'failed'; i++) {
      await new Promise((r) => setTimeout(r, 20))
      ;[charge] = await s.ledger.list({ caller: 'nostr:alice' })
    }
    expect(charge).toMatchObject({ status: 'failed', error: 'cancelled' })
    expect(s.runs).toEqual([])
    expect(await s.alice.getBalance()).toEqual({ balanceMsat: 100_000 })
  })

  it('a handler that fails after payment leaves a credit the retried request uses: paid once', async () => {
    const s = await setup()
    const { notices, notify } = payer(s.alice)
    const client = await connect(shop(s, createLightningPayments({ ledger: s.ledger, wallet: s.shop })), notify)

    const first = await client.callTool({ name: 'flaky', arguments: {} })
    expect((first as { isError?: boolean }).isError).toBe(true)
    expect(await s.alice.getBalance()).toEqual({ balanceMsat: 90_000 })
    const [credit] = await s.ledger.list({ caller: 'nostr:alice' })
    expect(credit).toMatchObject({ status: 'authorized', result: null })

    const second = await client.callTool({ name: 'flaky', arguments: {} })
    expect(text(second)).toBe('worked')
    expect(notices).toHaveLength(1)
    expect(s.runs).toEqual(['flaky', 'flaky'])
    expect(await s.alice.getBalance()).toEqual({ balanceMsat: 90_000 })
    expect(await s.shop.getBalance()).toEqual({ balanceMsat: 10_000 })
    const charges = await s.ledger.list({ caller: 'nostr:alice' })
    expect(charges).toHaveLength(1)
    expect(charges[0]).toMatchObject({ id: credit?.id, status: 'settled' })
  })

  it('a repeated request gets the stored result back without a new invoice', async () => {
    const s = await setup()
    const { notices, notify } = payer(s.alice)
    const client = await connect(shop(s, createLightningPayments({ ledger: s.ledger, wallet: s.shop })), notify)
    const first = await client.callTool({ name: 'forecast', arguments: { city: 'Oslo' } })
    const again = await client.callTool({ name: 'forecast', arguments: { city: 'Oslo' } })
    expect(text(again)).toBe('sunny in Oslo')
    expect(receiptOf(again)).toEqual(receiptOf(first))
    expect(s.runs).toEqual(['Oslo'])
    expect(notices).toHaveLength(1)
    // Other arguments are another request: a new invoice.
    await client.callTool({ name: 'forecast', arguments: { city: 'Bergen' } })
    expect(notices).toHaveLength(2)
    expect(await s.alice.getBalance()).toEqual({ balanceMsat: 80_000 })
  })
})

describe('createLightningPayments: identical requests in flight, and held calls per caller', () => {
  it('two identical calls at once: one invoice, one payment, one run, the same answer twice', async () => {
    const s = await setup()
    const { notices, notify } = payer(s.alice)
    const client = await connect(shop(s, createLightningPayments({ ledger: s.ledger, wallet: s.shop })), notify)
    const call = () => client.callTool({ name: 'forecast', arguments: { city: 'Oslo' } })
    const [a, b] = await Promise.all([call(), call()])
    expect(text(a)).toBe('sunny in Oslo')
    expect(text(b)).toBe('sunny in Oslo')
    expect(receiptOf(b)).toEqual(receiptOf(a))
    expect(notices).toHaveLength(1)
    expect(s.runs).toEqual(['Oslo'])
    expect(await s.alice.getBalance()).toEqual({ balanceMsat: 90_000 })
    expect(await s.ledger.list({ caller: 'nostr:alice' })).toHaveLength(1)
  })

  it('an identical call waiting its turn can be cancelled without touching the first', async () => {
    const s = await setup()
    const notices: PaymentNotice[] = []
    const pay = lightningPaymentHandler({ wallet: s.alice })
    const client = await connect(
      shop(s, createLightningPayments({ ledger: s.ledger, wallet: s.shop })),
      async (notice) => void notices.push(notice),
    )
    const first = client.callTool({ name: 'forecast', arguments: { city: 'Oslo' } })
    while (notices.length === 0) await new Promise((r) => setTimeout(r, 5))
    const second = client.callTool({ name: 'forecast', arguments: { city: 'Oslo' } }, { signal: AbortSignal.timeout(50) })
    expect(await failure(second)).toBeInstanceOf(Error)
    await pay(notices[0] as PaymentNotice)
    expect(text(await first)).toBe('sunny in Oslo')
    expect(notices).toHaveLength(1)
    expect(s.runs).toEqual(['Oslo'])
  })

  it('refuses more held calls per caller than maxHeldPerCaller, before making an invoice', async () => {
    const s = await setup()
    const notices: PaymentNotice[] = []
    const client = await connect(
      shop(s, createLightningPayments({ ledger: s.ledger, wallet: s.shop, maxHeldPerCaller: 2 })),
      async (notice) => void notices.push(notice),
    )
    const controller = new AbortController()
    const held = ['Oslo', 'Bergen'].map((city) =>
      client.callTool({ name: 'forecast', arguments: { city } }, { signal: controller.signal }).catch((e: unknown) => e),
    )
    while (notices.length < 2) await new Promise((r) => setTimeout(r, 5))
    const err = await failure(client.callTool({ name: 'forecast', arguments: { city: 'Tromsø' } }))
    expect(err.data).toMatchObject({ code: 'RATE_LIMITED', maxHeldPerCaller: 2 })
    expect(notices).toHaveLength(2)
    expect(await s.ledger.list({ caller: 'nostr:alice' })).toHaveLength(2)
    // Once they end, new calls are held again.
    controller.abort()
    await Promise.all(held)
    for (let i = 0; i < 50 && notices.length < 3; i++) {
      void client
        .callTool({ name: 'forecast', arguments: { city: 'Tromsø' } }, { signal: AbortSignal.timeout(200) })
        .catch(() => {})
      await new Promise((r) => setTimeout(r, 20))
    }
    expect(notices).toHaveLength(3)
    expect(s.runs).toEqual([])
  })

  it('rejects a maxHeldPerCaller that is not a positive integer', async () => {
    const s = await setup()
    expect(() => createLightningPayments({ ledger: s.ledger, wallet: s.shop, maxHeldPerCaller: 0 })).toThrow(/maxHeldPerCaller/)
  })
})

describe('createLightningPayments: transports without payment notifications', () => {
  it('answers PAYMENT_REQUIRED with the invoice; the retry with the preimage runs the call', async () => {
    const s = await setup()
    const client = await connect(shop(s, createLightningPayments({ ledger: s.ledger, wallet: s.shop })))
    const challenge = await failure(client.callTool({ name: 'forecast', arguments: { city: 'Oslo' } }))
    expect(challenge.code).toBe(-32803)
    expect(challenge.message).toContain(`_meta["${PREIMAGE_META_KEY}"]`)
    const info = challenge.data?.paymentInfo as { invoice: string; amount: string; unit: string; paymentHash: string }
    expect(challenge.data?.protocol).toBe('lightning')
    expect(info).toMatchObject({ amount: '10', unit: 'sats' })
    expect(decodeInvoice(info.invoice).paymentHash).toBe(info.paymentHash)

    // Asking again before paying gets the same invoice, not a second one to pay.
    const again = await failure(client.callTool({ name: 'forecast', arguments: { city: 'Oslo' } }))
    expect(again.data?.paymentInfo?.invoice).toBe(info.invoice)

    const wrong = await failure(
      client.callTool({ name: 'forecast', arguments: { city: 'Oslo' }, _meta: { [PREIMAGE_META_KEY]: 'ab'.repeat(32) } }),
    )
    expect(wrong.code).toBe(-32803)
    expect(wrong.data).toMatchObject({ protocol: 'lightning', reason: 'preimage_mismatch' })
    expect(wrong.message).toMatch(/matches no Lightning invoice/)
    const malformed = await failure(
      client.callTool({ name: 'forecast', arguments: { city: 'Oslo' }, _meta: { [PREIMAGE_META_KEY]: 'xyz' } }),
    )
    expect(malformed.data).toMatchObject({ reason: 'invalid_preimage' })

    const { preimage } = await s.alice.payInvoice(info.invoice)
    // The right preimage, but for other arguments: refused.
    const other = await failure(
      client.callTool({ name: 'forecast', arguments: { city: 'Bergen' }, _meta: { [PREIMAGE_META_KEY]: preimage } }),
    )
    expect(other.data).toMatchObject({ reason: 'wrong_request' })
    expect(s.runs).toEqual([])

    const paid = await client.callTool({
      name: 'forecast',
      arguments: { city: 'Oslo' },
      _meta: { [PREIMAGE_META_KEY]: preimage },
    })
    expect(text(paid)).toBe('sunny in Oslo')
    expect(receiptOf(paid)).toMatchObject({ paymentHash: info.paymentHash, asset: 'sats' })
    // Sent again (the response was lost): the stored result, nothing run or paid twice.
    const replay = await client.callTool({
      name: 'forecast',
      arguments: { city: 'Oslo' },
      _meta: { [PREIMAGE_META_KEY]: preimage },
    })
    expect(text(replay)).toBe('sunny in Oslo')
    expect(s.runs).toEqual(['Oslo'])
    expect(await s.alice.getBalance()).toEqual({ balanceMsat: 90_000 })
    const charges = await s.ledger.list({ caller: 'local' })
    expect(charges.map((c) => c.status)).toEqual(['settled'])
  })

  it('a paid invoice whose preimage never came back still counts for the retried request', async () => {
    const s = await setup()
    const client = await connect(shop(s, createLightningPayments({ ledger: s.ledger, wallet: s.shop })))
    const challenge = await failure(client.callTool({ name: 'forecast', arguments: { city: 'Oslo' } }))
    await s.alice.payInvoice(String(challenge.data?.paymentInfo?.invoice))
    const result = await client.callTool({ name: 'forecast', arguments: { city: 'Oslo' } })
    expect(text(result)).toBe('sunny in Oslo')
    expect(await s.alice.getBalance()).toEqual({ balanceMsat: 90_000 })
  })

  it('refuses a price it cannot convert, naming the asset', async () => {
    const s = await setup()
    const server = createServer({ name: 'shop', version: '1.0.0' })
      .payments(createLightningPayments({ ledger: s.ledger, wallet: s.shop }))
      .tool('eur', { price: '1 EUR' }, () => 'x')
    const client = await connect(server)
    const err = await failure(client.callTool({ name: 'eur', arguments: {} }))
    expect(err.message).toMatch(/EUR/)
    expect(await s.ledger.list()).toEqual([])
  })
})

describe('routePayments', () => {
  it('sends sats prices to Lightning and others to their gateway; payments/list merges', async () => {
    const s = await setup()
    const seen: string[] = []
    const usdc: PaymentGateway = {
      async authorize(inv) {
        seen.push(`${inv.price?.amount} ${inv.price?.asset}`)
        return { kind: 'authorized', authorization: 'usdc-auth' }
      },
      async settle(authorization) {
        seen.push(`settle ${String(authorization)}`)
        return { kind: 'settled', receipt: { asset: 'USDC' } }
      },
      async release() {},
      paymentsList: () => ({
        protocols: { x402: { version: 2, schemes: ['eip155:31337'] } },
        terms: 'https://example.test/terms',
      }),
    }
    const lightning = createLightningPayments({ ledger: s.ledger, wallet: s.shop })
    const payments = routePayments([
      { assets: ['sats', 'msat', 'BTC'], gateway: lightning },
      { assets: ['USDC'], gateway: usdc },
    ])
    expect(await payments.paymentsList?.()).toEqual({
      protocols: {
        lightning: { version: 1, schemes: ['bolt11'], description: 'Lightning BOLT11 invoices (hold until paid)' },
        x402: { version: 2, schemes: ['eip155:31337'] },
      },
      terms: 'https://example.test/terms',
    })
    const server = createServer({ name: 'shop', version: '1.0.0' })
      .payments(payments)
      .tool('zap', { price: '21 sats' }, () => 'zapped')
      .tool('forecast', { price: '0.01 USDC' }, () => 'sunny')
      .tool('euro', { price: '1 EUR' }, () => 'euro')
    const { notices, notify } = payer(s.alice)
    const client = await connect(server, notify)
    expect(text(await client.callTool({ name: 'forecast', arguments: {} }))).toBe('sunny')
    expect(seen).toEqual(['0.01 USDC', 'settle usdc-auth'])
    expect(text(await client.callTool({ name: 'zap', arguments: {} }))).toBe('zapped')
    expect(notices.map((n) => n.amount)).toEqual(['21'])
    const err = await failure(client.callTool({ name: 'euro', arguments: {} }))
    expect(err.message).toMatch(/takes no payment in EUR/)
  })
})
