import { createHash } from 'node:crypto'
import type { PaymentNotice } from '@agora/core'
import { createSdkServer, createServer, silentLogger, TRANSPORT_EXTRA_KEY } from '@agora/core'
import type { RelayHandle } from '@agora/transport-nostr/relay'
import { startRelay } from '@agora/transport-nostr/relay'
import { Client, InMemoryTransport } from '@modelcontextprotocol/client'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { openLedger } from '../../src/index.ts'
import type { LightningWallet, LocalLightning, LocalLightningWallet, ReceivedPayment } from '../../src/lightning/index.ts'
import {
  createLightningPayments,
  createLocalLightning,
  lightningPaymentHandler,
  nwcWallet,
  serveNwc,
  walletErrorReason,
} from '../../src/lightning/index.ts'
import { NWC_REQUEST_KIND, nwcPool } from '../../src/lightning/nwc-protocol.ts'

const sha256 = (hex: string) => createHash('sha256').update(Buffer.from(hex, 'hex')).digest('hex')

let relay: RelayHandle
let ln: LocalLightning
let alice: LocalLightningWallet
let shop: LocalLightningWallet
let cleanups: (() => Promise<unknown>)[] = []

beforeEach(async () => {
  relay = await startRelay({ port: 0, logger: silentLogger })
  ln = createLocalLightning()
  alice = ln.createWallet({ name: 'alice', balanceMsat: 100_000 })
  shop = ln.createWallet({ name: 'shop' })
})
afterEach(async () => {
  for (const c of cleanups.reverse()) await c()
  cleanups = []
  await ln.close()
  await relay.close()
})

async function served(wallet: LightningWallet, options: Partial<Parameters<typeof serveNwc>[1]> = {}) {
  const service = await serveNwc(wallet, { relays: [relay.url], ...options })
  cleanups.push(() => service.close())
  return service
}

async function connected(uri: string, options: Parameters<typeof nwcWallet>[1] = {}) {
  const wallet = await nwcWallet(uri, { timeoutMs: 3000, ...options })
  cleanups.push(() => wallet.close())
  return wallet
}

/** Watches the relay for NWC requests, recording each one's `encryption` tag ('' when none). */
async function watchRequests() {
  const pool = nwcPool()
  const schemes: string[] = []
  let sub: { close(): void } | undefined
  await new Promise<void>((oneose) => {
    sub = pool.subscribe(
      [relay.url],
      { kinds: [NWC_REQUEST_KIND] },
      {
        onevent: (e) => schemes.push(e.tags.find((t) => t[0] === 'encryption')?.[1] ?? ''),
        oneose,
      },
    )
  })
  cleanups.push(async () => {
    sub?.close()
    pool.destroy()
  })
  return schemes
}

async function rejection(p: Promise<unknown>) {
  return (await p.then(
    () => {
      throw new Error('expected a rejection')
    },
    (e: unknown) => e,
  )) as { code?: string; message: string; data?: Record<string, unknown> }
}

describe('Nostr Wallet Connect over a relay', () => {
  it('pays, makes and looks up invoices, and reads balance and info (NIP-44)', async () => {
    const schemes = await watchRequests()
    const service = await served(alice)
    expect(service.connectionUri).toMatch(
      /^nostr\+walletconnect:\/\/[0-9a-f]{64}\?relay=ws%3A%2F%2F127\.0\.0\.1%3A\d+&secret=[0-9a-f]{64}$/,
    )
    const wallet = await connected(service.connectionUri)
    expect(wallet.onPaymentReceived).toBeTypeOf('function')

    expect(await wallet.getBalance()).toEqual({ balanceMsat: 100_000 })
    expect(await wallet.getInfo()).toMatchObject({ alias: 'alice', pubkey: alice.pubkey, network: 'regtest' })

    const bill = await shop.makeInvoice({ amountMsat: 10_000, description: 'forecast' })
    const paid = await wallet.payInvoice(bill.invoice)
    expect(sha256(paid.preimage)).toBe(bill.paymentHash)
    expect(await shop.getBalance()).toEqual({ balanceMsat: 10_000 })
    expect(await wallet.getBalance()).toEqual({ balanceMsat: 90_000 })

    const heard = new Promise<ReceivedPayment>((resolve) => wallet.onPaymentReceived?.(resolve))
    const invoice = await wallet.makeInvoice({ amountMsat: 2_000, description: 'tip', expirySeconds: 60 })
    expect(await wallet.lookupInvoice({ paymentHash: invoice.paymentHash })).toMatchObject({
      state: 'pending',
      amountMsat: 2_000,
    })
    const tip = await shop.payInvoice(invoice.invoice)
    expect(await heard).toMatchObject({ paymentHash: invoice.paymentHash, preimage: tip.preimage, amountMsat: 2_000 })
    expect(await wallet.lookupInvoice({ invoice: invoice.invoice })).toMatchObject({ state: 'settled', preimage: tip.preimage })
    expect(schemes.length).toBeGreaterThanOrEqual(6)
    expect(new Set(schemes)).toEqual(new Set(['nip44_v2']))
  })

  it('carries wallet errors with their NIP-47 codes, over NIP-04 too', async () => {
    const schemes = await watchRequests()
    const service = await served(alice, { encryption: ['nip04'] })
    const wallet = await connected(service.connectionUri)
    const bill = await shop.makeInvoice({ amountMsat: 10_000 })
    await wallet.payInvoice(bill.invoice)
    const twice = await rejection(wallet.payInvoice(bill.invoice))
    expect(walletErrorReason(twice)).toBe('PAYMENT_FAILED')
    expect(twice.message).toMatch(/already paid/)
    const big = await shop.makeInvoice({ amountMsat: 1_000_000 })
    expect(walletErrorReason(await rejection(wallet.payInvoice(big.invoice)))).toBe('INSUFFICIENT_BALANCE')
    const missing = await rejection(wallet.lookupInvoice({ paymentHash: '00'.repeat(32) }))
    expect(missing.code).toBe('NOT_FOUND')
    expect(await wallet.getBalance()).toEqual({ balanceMsat: 90_000 })
    expect(new Set(schemes)).toEqual(new Set(['']))
  })

  it('refuses a client whose secret is not the one in the connection URI', async () => {
    const service = await served(alice)
    const forged = service.connectionUri.replace(/secret=[0-9a-f]{64}/, `secret=${'42'.repeat(32)}`)
    const intruder = await connected(forged)
    const bill = await shop.makeInvoice({ amountMsat: 10_000 })
    const denied = await rejection(intruder.payInvoice(bill.invoice))
    expect(walletErrorReason(denied)).toBe('UNAUTHORIZED')
    expect(denied.code).toBe('UNAUTHENTICATED')
    expect(await alice.getBalance()).toEqual({ balanceMsat: 100_000 })
  })

  it('fails clearly when the relay is gone, or the URI is bad', async () => {
    const service = await served(alice)
    const wallet = await connected(service.connectionUri)
    expect(await wallet.getBalance()).toEqual({ balanceMsat: 100_000 })
    await relay.close()
    const t0 = Date.now()
    const lost = await rejection(wallet.getBalance())
    expect(lost.code).toBe('CONNECTION')
    expect(lost.message).toMatch(/relay/)
    expect(Date.now() - t0).toBeLessThan(2500)
    const unreachable = await rejection(nwcWallet(service.connectionUri))
    expect(unreachable.code).toBe('CONNECTION')
    expect(unreachable.message).toMatch(/cannot reach the wallet's relays/)
    expect((await rejection(nwcWallet('https://example.com'))).code).toBe('CONFIG')
    relay = await startRelay({ port: 0, logger: silentLogger })
  })

  it('times out when no wallet service answers', async () => {
    const service = await served(alice)
    await service.close()
    const wallet = await connected(service.connectionUri, { timeoutMs: 300, infoTimeoutMs: 300 })
    const silent = await rejection(wallet.getBalance())
    expect(silent.code).toBe('TIMEOUT')
  })

  it('runs the hold-until-paid flow with both wallets reached over NWC', async () => {
    const shopWallet = await connected((await served(shop)).connectionUri)
    const aliceWallet = await connected((await served(alice)).connectionUri)
    const ledger = await openLedger(':memory:')
    cleanups.push(() => ledger.close())
    const runs: string[] = []
    const server = createServer({ name: 'shop', version: '1.0.0' })
      .payments(createLightningPayments({ ledger, wallet: shopWallet }))
      .tool('forecast', { price: '10 sats' }, () => {
        runs.push('forecast')
        return 'sunny'
      })
    const pay = lightningPaymentHandler({ wallet: aliceWallet })
    const notices: PaymentNotice[] = []
    const notifyPaymentRequired = async (notice: PaymentNotice) => {
      notices.push(notice)
      setTimeout(() => void pay(notice), 5)
    }
    const [clientSide, serverSide] = InMemoryTransport.createLinkedPair()
    await createSdkServer(server, { logger: silentLogger }).connect(serverSide)
    const identity = { id: 'nostr:alice', kind: 'nostr', authenticated: true, scopes: [] }
    const authInfo = {
      token: '',
      clientId: '',
      scopes: [],
      extra: { [TRANSPORT_EXTRA_KEY]: { kind: 'nostr', identity, notifyPaymentRequired } },
    }
    const send = clientSide.send.bind(clientSide)
    clientSide.send = (message, options) => send(message, { ...options, authInfo })
    const client = new Client({ name: 'payer', version: '1.0.0' })
    await client.connect(clientSide)
    cleanups.push(() => client.close())

    const result = await client.callTool({ name: 'forecast', arguments: {} })
    expect((result as { content: { text: string }[] }).content[0]?.text).toBe('sunny')
    expect(runs).toEqual(['forecast'])
    expect(notices).toHaveLength(1)
    expect(await alice.getBalance()).toEqual({ balanceMsat: 90_000 })
    expect(await shop.getBalance()).toEqual({ balanceMsat: 10_000 })
    const [charge] = await ledger.list()
    expect(charge).toMatchObject({ status: 'settled', network: 'lightning:regtest' })
  })
})
