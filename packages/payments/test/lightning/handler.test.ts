import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import type { LocalLightning } from '../../src/lightning/index.ts'
import { createLocalLightning, lightningPaymentHandler, preimageMatches } from '../../src/lightning/index.ts'
import { openPaymentRecord } from '../../src/wallet/index.ts'

let ln: LocalLightning
const dirs: string[] = []
afterEach(async () => {
  await ln?.close()
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
})

function wallets() {
  ln = createLocalLightning()
  return { shop: ln.createWallet({ name: 'shop' }), alice: ln.createWallet({ name: 'alice', balanceMsat: 100_000 }) }
}

describe('lightningPaymentHandler', () => {
  it('pays a matching invoice once, however often it is presented', async () => {
    const { shop, alice } = wallets()
    const pay = lightningPaymentHandler({ wallet: alice })
    const bill = await shop.makeInvoice({ amountMsat: 10_000 })
    const notice = { amount: '10', unit: 'sats', invoice: bill.invoice, expiresAt: bill.expiresAt }
    const [a, b] = await Promise.all([pay(notice), pay(notice)])
    expect(a).toEqual(b)
    expect(a.paid && preimageMatches(a.preimage, bill.paymentHash)).toBe(true)
    expect(await pay(notice)).toEqual(a)
    expect(await alice.getBalance()).toEqual({ balanceMsat: 90_000 })
  })

  it('declines over budget, a mismatched amount, an expired or foreign invoice', async () => {
    const { shop, alice } = wallets()
    const pay = lightningPaymentHandler({ wallet: alice, budget: { maxPerCallSats: 20, maxTotalSats: 25 } })
    const big = await shop.makeInvoice({ amountMsat: 30_000 })
    const perCall = await pay({ amount: '30', unit: 'sats', invoice: big.invoice, tool: 'report' })
    expect(perCall).toEqual({ paid: false, reason: 'report costs 30 sats, over the per-call limit of 20 sats' })

    const first = await shop.makeInvoice({ amountMsat: 15_000 })
    expect((await pay({ amount: '15', unit: 'sats', invoice: first.invoice })).paid).toBe(true)
    const second = await shop.makeInvoice({ amountMsat: 15_000 })
    const total = await pay({ amount: '15', unit: 'sats', invoice: second.invoice })
    expect(total).toMatchObject({ paid: false })
    expect(total.paid === false && total.reason).toMatch(/15 sats already paid, that is over the total limit of 25 sats/)

    const small = await shop.makeInvoice({ amountMsat: 1_000 })
    const lie = await pay({ amount: '0.5', unit: 'sats', invoice: small.invoice })
    expect(lie.paid === false && lie.reason).toMatch(/invoice is for 1 sats, not the 0.5 sats requested/)

    const brief = await shop.makeInvoice({ amountMsat: 1_000, expirySeconds: 1 })
    await new Promise((r) => setTimeout(r, (brief.expiresAt + 0.05) * 1000 - Date.now()))
    expect(await pay({ amount: '1', unit: 'sats', invoice: brief.invoice })).toEqual({
      paid: false,
      reason: 'the invoice has expired',
    })

    const mainnet = createLocalLightning({ network: 'mainnet' })
    const foreign = await mainnet.createWallet({ name: 'shop' }).makeInvoice({ amountMsat: 1_000 })
    const wrongNet = await pay({ amount: '1', unit: 'sats', invoice: foreign.invoice })
    expect(wrongNet.paid === false && wrongNet.reason).toMatch(/for mainnet; the wallet pays on regtest/)
    await mainnet.close()

    expect(await pay({ amount: '1', unit: 'USD', invoice: small.invoice })).toEqual({ paid: false, reason: 'cannot pay in USD' })
    expect(await alice.getBalance()).toEqual({ balanceMsat: 85_000 })
  })

  it('reports a failed payment and lets it be tried again', async () => {
    const { shop } = wallets()
    const poor = ln.createWallet({ name: 'poor', balanceMsat: 500 })
    const pay = lightningPaymentHandler({ wallet: poor })
    const bill = await shop.makeInvoice({ amountMsat: 1_000 })
    const notice = { amount: '1', unit: 'sats', invoice: bill.invoice }
    const failed = await pay(notice)
    expect(failed.paid === false && failed.reason).toMatch(/does not cover/)
    // Topped up, the same invoice is paid on the next try.
    const rich = ln.createWallet({ name: 'rich', balanceMsat: 5_000 })
    await rich.payInvoice((await poor.makeInvoice({ amountMsat: 1_000 })).invoice)
    expect((await pay(notice)).paid).toBe(true)
    expect(await poor.getBalance()).toEqual({ balanceMsat: 500 })
  })

  it('records payments and budgets the total from the record', async () => {
    const { shop, alice } = wallets()
    const dir = mkdtempSync(join(tmpdir(), 'agora-ln-record-'))
    dirs.push(dir)
    const record = openPaymentRecord(join(dir, 'payments.jsonl'))
    const pay = lightningPaymentHandler({ wallet: alice, record, budget: { maxTotalSats: 15 } })
    const bill = await shop.makeInvoice({ amountMsat: 10_000 })
    await pay({ amount: '10', unit: 'sats', invoice: bill.invoice, target: 'nostr:shop', tool: 'forecast' })
    const [entry] = await record.list()
    expect(entry).toMatchObject({
      id: bill.paymentHash,
      target: 'nostr:shop',
      tool: 'forecast',
      amount: '10',
      atomic: '10000',
      asset: 'sats',
      network: 'lightning:regtest',
      payTo: shop.pubkey,
      payer: alice.pubkey,
      outcome: { status: 'settled' },
    })
    // A second handler on the same record sees what the first one paid.
    const again = lightningPaymentHandler({ wallet: alice, record, budget: { maxTotalSats: 15 } })
    const next = await shop.makeInvoice({ amountMsat: 10_000 })
    const refused = await again({ amount: '10', unit: 'sats', invoice: next.invoice })
    expect(refused.paid === false && refused.reason).toMatch(/10 sats already paid/)
    expect(await alice.getBalance()).toEqual({ balanceMsat: 90_000 })
  })
})
