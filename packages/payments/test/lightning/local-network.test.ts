import { createHash } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import {
  createLocalLightning,
  decodeInvoice,
  newPreimage,
  nodeKey,
  preimageMatches,
  signInvoice,
  walletErrorReason,
} from '../../src/lightning/index.ts'
import { bech32Join, bech32Split } from './bech32.ts'

const sha256 = (hex: string) => createHash('sha256').update(Buffer.from(hex, 'hex')).digest('hex')

async function rejection(p: Promise<unknown>) {
  return p.then(
    () => {
      throw new Error('expected a rejection')
    },
    (err: { code?: string; message: string; data?: Record<string, unknown> }) => err,
  )
}

describe('BOLT11 invoices', () => {
  it('signs and decodes a regtest invoice, recovering the payee from the signature', () => {
    const key = nodeKey()
    const { preimage, paymentHash } = newPreimage()
    const invoice = signInvoice({
      key,
      network: 'regtest',
      amountMsat: 10_500,
      paymentHash,
      description: 'forecast',
      expirySeconds: 600,
    })
    expect(invoice.startsWith('lnbcrt')).toBe(true)
    const d = decodeInvoice(invoice)
    expect(d).toMatchObject({
      network: 'regtest',
      payee: key.publicKey,
      paymentHash,
      amountMsat: 10_500,
      description: 'forecast',
    })
    expect(d.expiresAt - d.createdAt).toBe(600)
    expect(d.paymentSecret).toMatch(/^[0-9a-f]{64}$/)
    expect(preimageMatches(preimage, paymentHash)).toBe(true)
    expect(preimageMatches(newPreimage().preimage, paymentHash)).toBe(false)
    expect(preimageMatches('not hex', paymentHash)).toBe(false)
  })

  it('uses a given node key', () => {
    const a = nodeKey('11'.repeat(32))
    expect(nodeKey('11'.repeat(32)).publicKey).toBe(a.publicKey)
    expect(a.publicKey).toMatch(/^0[23][0-9a-f]{64}$/)
    expect(() => nodeKey('00'.repeat(32))).toThrow(/not a valid secp256k1/)
  })

  it('an edited invoice recovers to another payee; a broken one does not decode', () => {
    const key = nodeKey()
    const invoice = signInvoice({ key, network: 'regtest', amountMsat: 10_000, paymentHash: newPreimage().paymentHash })
    // Raise the amount in the human-readable part (10 sats → 1000 sats) and fix the checksum.
    const { hrp, words } = bech32Split(invoice)
    expect(hrp).toBe('lnbcrt100n')
    const edited = bech32Join('lnbcrt10u', words)
    const d = decodeInvoice(edited)
    expect(d.amountMsat).toBe(1_000_000)
    expect(d.payee).not.toBe(key.publicKey)
    // Without a fresh checksum the edit is caught before the signature.
    expect(() => decodeInvoice(`${invoice.slice(0, -1)}${invoice.endsWith('q') ? 'p' : 'q'}`)).toThrow(/invalid BOLT11/)
    expect(() => decodeInvoice('hello')).toThrow(/not a BOLT11/)
  })
})

describe('createLocalLightning', () => {
  it('pays an invoice: balances move, the preimage proves payment, both sides see it settled', async () => {
    const ln = createLocalLightning()
    const shop = ln.createWallet({ name: 'shop' })
    const alice = ln.createWallet({ name: 'alice', balanceMsat: 50_000 })
    const heard: string[] = []
    shop.onPaymentReceived((p) => heard.push(p.preimage))
    const made = await shop.makeInvoice({ amountMsat: 10_000, description: 'forecast', expirySeconds: 60 })
    expect(decodeInvoice(made.invoice).payee).toBe(shop.pubkey)
    expect(await shop.lookupInvoice({ paymentHash: made.paymentHash })).toMatchObject({ state: 'pending', amountMsat: 10_000 })
    expect((await shop.lookupInvoice({ paymentHash: made.paymentHash })).preimage).toBeUndefined()

    const paid = await alice.payInvoice(made.invoice)
    expect(sha256(paid.preimage)).toBe(made.paymentHash)
    expect(paid.feesPaidMsat).toBe(0)
    expect(await alice.getBalance()).toEqual({ balanceMsat: 40_000 })
    expect(await shop.getBalance()).toEqual({ balanceMsat: 10_000 })
    const seen = await shop.lookupInvoice({ invoice: made.invoice })
    expect(seen).toMatchObject({ state: 'settled', preimage: paid.preimage })
    expect(seen.settledAt).toBeGreaterThan(0)
    expect(await alice.lookupInvoice({ paymentHash: made.paymentHash })).toMatchObject({ state: 'settled' })
    await Promise.resolve()
    expect(heard).toEqual([paid.preimage])
    expect(await shop.getInfo()).toMatchObject({ alias: 'shop', pubkey: shop.pubkey, network: 'regtest' })
    await ln.close()
  })

  it('refuses: insufficient balance, double pay, own invoice, unknown payee, edited amount', async () => {
    const ln = createLocalLightning()
    const shop = ln.createWallet({ name: 'shop' })
    const poor = ln.createWallet({ name: 'poor', balanceMsat: 5_000 })
    const rich = ln.createWallet({ name: 'rich', balanceMsat: 5_000_000 })
    const made = await shop.makeInvoice({ amountMsat: 10_000 })

    const broke = await rejection(poor.payInvoice(made.invoice))
    expect(walletErrorReason(broke)).toBe('INSUFFICIENT_BALANCE')
    expect(broke.code).toBe('PAYMENT_UNAVAILABLE')
    expect(await shop.lookupInvoice({ paymentHash: made.paymentHash })).toMatchObject({ state: 'pending' })

    await rich.payInvoice(made.invoice)
    const twice = await rejection(rich.payInvoice(made.invoice))
    expect(walletErrorReason(twice)).toBe('PAYMENT_FAILED')
    expect(twice.message).toMatch(/already paid/)
    expect((await rich.getBalance()).balanceMsat).toBe(4_990_000)

    const own = await shop.makeInvoice({ amountMsat: 1_000 })
    expect((await rejection(shop.payInvoice(own.invoice))).message).toMatch(/own invoice/)

    // Signed by a node that is not on this network.
    const stranger = signInvoice({
      key: nodeKey(),
      network: 'regtest',
      amountMsat: 1_000,
      paymentHash: newPreimage().paymentHash,
    })
    expect((await rejection(rich.payInvoice(stranger))).data).toMatchObject({ reason: 'PAYMENT_FAILED', detail: 'unknown_payee' })

    // The shop's real invoice with its amount raised: the signature no longer recovers the shop.
    const fresh = await shop.makeInvoice({ amountMsat: 1_000 })
    const { words } = bech32Split(fresh.invoice)
    const edited = bech32Join('lnbcrt1n', words)
    expect((await rejection(rich.payInvoice(edited))).data).toMatchObject({ detail: 'unknown_payee' })
    expect((await rich.getBalance()).balanceMsat).toBe(4_990_000)
    expect(await shop.lookupInvoice({ paymentHash: fresh.paymentHash })).toMatchObject({ state: 'pending' })

    expect(walletErrorReason(await rejection(shop.lookupInvoice({ paymentHash: '00'.repeat(32) })))).toBe('NOT_FOUND')
    expect((await rejection(rich.payInvoice('lnbc1garbage'))).data).toMatchObject({ detail: 'invalid_invoice' })
    await ln.close()
  })

  it('refuses an expired invoice and reports it expired', async () => {
    const ln = createLocalLightning()
    const shop = ln.createWallet({ name: 'shop' })
    const alice = ln.createWallet({ name: 'alice', balanceMsat: 50_000 })
    const made = await shop.makeInvoice({ amountMsat: 1_000, expirySeconds: 1 })
    await new Promise((r) => setTimeout(r, (made.expiresAt + 0.05) * 1000 - Date.now()))
    const late = await rejection(alice.payInvoice(made.invoice))
    expect(late.data).toMatchObject({ reason: 'PAYMENT_FAILED', detail: 'expired' })
    expect(await shop.lookupInvoice({ paymentHash: made.paymentHash })).toMatchObject({ state: 'expired' })
    expect((await alice.getBalance()).balanceMsat).toBe(50_000)
    await ln.close()
  })

  it('refuses invoices for another network, duplicate names and closed wallets', async () => {
    const ln = createLocalLightning()
    const main = createLocalLightning({ network: 'mainnet' })
    const alice = ln.createWallet({ name: 'alice', balanceMsat: 50_000 })
    const shop = main.createWallet({ name: 'shop' })
    const made = await shop.makeInvoice({ amountMsat: 1_000 })
    expect(made.invoice.startsWith('lnbc1')).toBe(true)
    expect((await rejection(alice.payInvoice(made.invoice))).data).toMatchObject({ detail: 'wrong_network' })
    expect(() => ln.createWallet({ name: 'alice' })).toThrow(/already exists/)
    await alice.close()
    expect((await rejection(alice.getBalance())).code).toBe('CONNECTION')
    expect(ln.wallet('alice')).toBeUndefined()
    await ln.close()
    await main.close()
  })
})
