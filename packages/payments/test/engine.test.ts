import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { open } from 'node:fs/promises'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import type { AgoraServer } from '@agora/core'
import { createSdkServer, createServer, silentLogger } from '@agora/core'
import { serveHttp } from '@agora/core/http'
import { Client, InMemoryTransport } from '@modelcontextprotocol/client'
import { x402Client } from '@x402/core/client'
import { toClientEvmSigner } from '@x402/evm'
import { ExactEvmScheme } from '@x402/evm/exact/client'
import type { PrivateKeyAccount } from 'viem'
import { createWalletClient, custom } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { z } from 'zod'
import type { Devchain } from '../src/evm/index.ts'
import { agoraUsdAbi, httpFacilitator, tokenBalance, x402ExactRail } from '../src/evm/index.ts'
import type { ChargeLedger, PaymentPayload, PaymentRail, PaymentRequirements } from '../src/index.ts'
import { createPaymentEngine, requestKeyOf, sqliteLedger } from '../src/index.ts'
import { handMadePayload, startPaidChain } from './evm-helpers.ts'
import type { EngineChildConfig } from './support/engine-child.ts'

let devchain: Devchain
let dir: string
let rail: PaymentRail
let payTo: `0x${string}`
let payer: PrivateKeyAccount
let runs: string[]
let ledgers: ChargeLedger[] = []
let clients: Client[] = []
let children: ChildProcess[] = []

let paid: Awaited<ReturnType<typeof startPaidChain>>
beforeAll(async () => {
  paid = await startPaidChain('agora-engine-')
  ;({ devchain, payTo, rail, dir } = paid)
  payer = privateKeyToAccount(devchain.accounts[2]!.privateKey)
})
afterAll(() => paid?.close())
afterEach(async () => {
  for (const child of children) child.kill('SIGKILL')
  children = []
  for (const c of clients) await c.close()
  for (const l of ledgers) await l.close()
  clients = []
  ledgers = []
})

let n = 0
async function ledger(path = join(dir, `charges-${++n}.db`)) {
  const l = await sqliteLedger({ path })
  ledgers.push(l)
  return { ledger: l, path }
}

function shop(engine: ReturnType<typeof createPaymentEngine>): AgoraServer {
  runs = []
  return createServer({ name: 'shop', version: '1.0.0' })
    .payments(engine)
    .tool('forecast', { input: z.object({ city: z.string() }), price: '0.01 USDC' }, ({ city }) => {
      runs.push(city)
      if (city === 'Fail') throw new Error('no data for Fail')
      if (city === 'Flaky' && runs.filter((c) => c === city).length === 1) throw new Error('Flaky: try again')
      if (city === 'Drain') return drainPayer().then(() => `sunny in ${city}`)
      return `sunny in ${city}`
    })
    .tool('premium', { price: '0.02 USDC' }, () => 'premium')
}

/** Moves all of the payer's tokens away mid-call, so settlement fails on chain. */
async function drainPayer() {
  const balance = await tokenBalance(devchain.chain.publicClient, devchain.token.address, payer.address)
  const wallet = createWalletClient({ account: payer, chain: devchain.chain.chain, transport: custom(devchain.chain.provider) })
  const hash = await wallet.writeContract({
    address: devchain.token.address,
    abi: agoraUsdAbi,
    functionName: 'transfer',
    args: ['0x000000000000000000000000000000000000dEaD', balance],
  })
  await devchain.chain.publicClient.waitForTransactionReceipt({ hash })
}

async function connect(server: AgoraServer) {
  const [a, b] = InMemoryTransport.createLinkedPair()
  await createSdkServer(server, { logger: silentLogger }).connect(a)
  const client = new Client({ name: 'payer', version: '1.0.0' })
  await client.connect(b)
  clients.push(client)
  return client
}

/** Calls, expecting SEP-2009's -32803; returns the x402 PaymentRequired from error.data. */
async function challenged(client: Client, name: string, args: Record<string, unknown>, meta?: Record<string, unknown>) {
  const err = (await client.callTool({ name, arguments: args, ...(meta ? { _meta: meta } : {}) }).catch((e: unknown) => e)) as {
    code?: number
    message?: string
    data?: { protocol?: string; paymentInfo?: { accepts: PaymentRequirements[]; error?: string; resource: { url: string } } }
  }
  expect(err.code).toBe(-32803)
  expect(err.data?.protocol).toBe('x402')
  return err.data?.paymentInfo as {
    accepts: PaymentRequirements[]
    error?: string
    resource: { url: string }
    x402Version: number
  }
}

/** What a real x402 client does with a challenge: sign an EIP-3009 authorization for its first offer. */
async function payFor(info: {
  x402Version: number
  resource: { url: string }
  accepts: PaymentRequirements[]
}): Promise<PaymentPayload> {
  const client = new x402Client()
    .register('eip155:31337', new ExactEvmScheme(toClientEvmSigner(payer, devchain.chain.publicClient as never)))
    .setSpendControls({ allowedAssets: true })
  return (await client.createPaymentPayload(info as never)) as unknown as PaymentPayload
}

/**
 * A charge as a server that crashed mid-call leaves it: `authorized`, with the output stored (the
 * process died after storing it), or `pending` without output (it died before, or a power cut lost
 * the output's deferred write).
 */
function orphanCharge(
  ledger: ChargeLedger,
  city: string,
  proof: PaymentPayload,
  status: 'authorized' | 'pending' = 'authorized',
) {
  return ledger.create({
    requestKey: requestKeyOf('local', 'mcp://tool/forecast', { city }),
    proofKey: rail.proofKey(proof),
    caller: 'local',
    resource: 'mcp://tool/forecast',
    amount: '10000',
    asset: devchain.token.address,
    network: devchain.chain.network,
    rail: rail.id,
    status,
    proof,
    ...(status === 'authorized' ? { result: { content: [{ type: 'text', text: `sunny in ${city}` }] } } : {}),
  })
}

/** Writes `fsync` to `events` each time a `FileHandle.datasync()` of this process completes (the SQLite ledger's syncs). */
async function recordingSyncs(events: string[], fn: () => Promise<void>): Promise<void> {
  const probe = await open(join(dir, 'probe'), 'w')
  const proto = Object.getPrototypeOf(probe) as { datasync: () => Promise<void> }
  await probe.close()
  const original = proto.datasync
  proto.datasync = async function (this: unknown) {
    await original.call(this)
    events.push('fsync')
  }
  try {
    await fn()
  } finally {
    proto.datasync = original
  }
}

const balanceOf = (a: `0x${string}`) => tokenBalance(devchain.chain.publicClient, devchain.token.address, a)
const text = (r: { content?: unknown }) => (r.content as { text?: string }[] | undefined)?.[0]?.text

describe('payment engine: challenge → retry with proof, x402 exact on the local chain', () => {
  it('challenges an unpaid call with SEP-2009 -32803 carrying an x402 v2 PaymentRequired', async () => {
    const { ledger: l } = await ledger()
    const client = await connect(shop(createPaymentEngine({ ledger: l, rails: [rail] })))
    const info = await challenged(client, 'forecast', { city: 'Oslo' })
    expect(info).toMatchObject({ x402Version: 2, resource: { url: 'mcp://tool/forecast' } })
    expect(info.accepts).toEqual([
      expect.objectContaining({
        scheme: 'exact',
        network: 'eip155:31337',
        amount: '10000',
        payTo,
        asset: devchain.token.address,
      }),
    ])
    expect(runs).toEqual([])
    expect(await l.list()).toEqual([])
  })

  it('runs, settles on chain and returns the output with the settlement, once per proof', async () => {
    const { ledger: l } = await ledger()
    const client = await connect(shop(createPaymentEngine({ ledger: l, rails: [rail] })))
    const info = await challenged(client, 'forecast', { city: 'Oslo' })
    const proof = await payFor(info)
    const [payerBefore, payeeBefore] = [await balanceOf(payer.address), await balanceOf(payTo)]
    const r = await client.callTool({ name: 'forecast', arguments: { city: 'Oslo' }, _meta: { 'x402/payment': proof } })
    expect(text(r)).toBe('sunny in Oslo')
    expect(r._meta?.['x402/payment-response']).toMatchObject({
      success: true,
      network: 'eip155:31337',
      transaction: expect.stringMatching(/^0x[0-9a-f]{64}$/),
    })
    expect(r._meta?.['agora/receipt']).toMatchObject({ amount: '10000', resource: 'mcp://tool/forecast' })
    expect(await balanceOf(payer.address)).toBe(payerBefore - 10000n)
    expect(await balanceOf(payTo)).toBe(payeeBefore + 10000n)
    const [charge] = await l.list()
    expect(charge).toMatchObject({ status: 'settled', amount: '10000', resource: 'mcp://tool/forecast', caller: 'local' })

    // A retry with the same proof: the stored result, no second run, no second charge.
    const again = await client.callTool({ name: 'forecast', arguments: { city: 'Oslo' }, _meta: { 'x402/payment': proof } })
    expect(text(again)).toBe('sunny in Oslo')
    expect(again._meta?.['agora/receipt']).toEqual(r._meta?.['agora/receipt'])
    expect(runs).toEqual(['Oslo'])
    expect(await balanceOf(payer.address)).toBe(payerBefore - 10000n)
    expect(await l.list()).toHaveLength(1)

    // The same proof for another request is refused.
    const other = await challenged(client, 'forecast', { city: 'Lima' }, { 'x402/payment': proof })
    expect(other.error).toContain('already used for another request')
    expect(runs).toEqual(['Oslo'])
  })

  it('records the settlement right behind the answer: an immediate retry replays it, drain() waits for it', async () => {
    const { ledger: l } = await ledger()
    const engine = createPaymentEngine({ ledger: l, rails: [rail] })
    const client = await connect(shop(engine))
    const proof = await payFor(await challenged(client, 'forecast', { city: 'Accra' }))
    const before = await balanceOf(payer.address)
    const call = () => client.callTool({ name: 'forecast', arguments: { city: 'Accra' }, _meta: { 'x402/payment': proof } })
    const first = await call()
    // No pause: the retry arrives while the settle record may still be on its way.
    const again = await call()
    expect(text(first)).toBe('sunny in Accra')
    expect(text(again)).toBe('sunny in Accra')
    expect(again._meta?.['agora/receipt']).toEqual(first._meta?.['agora/receipt'])
    expect(runs).toEqual(['Accra'])
    await engine.drain()
    expect((await l.list()).map((c) => c.status)).toEqual(['settled'])
    expect(await balanceOf(payer.address)).toBe(before - 10000n)
  })

  it('writes the charge to disk while verifying, before money moves; output and settle record deferred only when the rail can look it up', async () => {
    const { ledger: store, path } = await ledger()
    // Another connection to the file: what another process (or a restart) would read.
    const { ledger: observer } = await ledger(path)
    const events: string[] = []
    // The real ledger and rail, with each call the engine makes written down in order.
    const durability = (options?: { durability?: string }) => options?.durability ?? 'sync'
    const recording: ChargeLedger = {
      ...store,
      findByProofKey: (key, options) => {
        events.push(`lookup, signal: ${options?.signal instanceof AbortSignal}`)
        return store.findByProofKey(key, options)
      },
      create: async (charge, options) => {
        events.push(`charge ${charge.status} ${durability(options)}, signal: ${options?.signal instanceof AbortSignal}`)
        const created = await store.create(charge, options)
        events.push('charge written')
        return created
      },
      transition: (id, from, to, patch, options) => {
        events.push(`${to} ${durability(options)}`)
        return store.transition(id, from, to, patch, options)
      },
      move: (id, from, to, patch, options) => {
        events.push(`${to} ${durability(options)}`)
        return store.move(id, from, to, patch, options)
      },
    }
    const watched = (r: PaymentRail): PaymentRail => ({
      ...r,
      verify: async (...args) => {
        events.push('verify')
        const verdict = await r.verify(...args)
        events.push('verified')
        return verdict
      },
      settle: async (...args) => {
        const charge = await observer.findByProofKey(r.proofKey(args[0]))
        events.push(`chain settle: charge ${charge?.status}, output ${charge?.result ? 'stored' : 'missing'}`)
        return r.settle(...args)
      },
    })
    const { settlement: _lookup, ...withoutLookup } = rail
    await recordingSyncs(events, async () => {
      for (const [city, r] of [
        ['Oslo', watched(rail)],
        ['Bergen', watched(withoutLookup)],
      ] as const) {
        const engine = createPaymentEngine({ ledger: recording, rails: [r] })
        const client = await connect(shop(engine))
        const proof = await payFor(await challenged(client, 'forecast', { city }))
        const result = await client.callTool({ name: 'forecast', arguments: { city }, _meta: { 'x402/payment': proof } })
        expect(result._meta?.['x402/payment-response']).toMatchObject({ success: true })
        // With a rail that can look settlements up, the settle record is written after the answer.
        await engine.drain()
      }
    })
    const calls = events
      .join('\n')
      .split(/\n(?=lookup)/)
      .map((call) => call.split('\n'))
    expect(calls).toHaveLength(2)
    for (const [call, later] of [
      [calls[0]!, 'deferred'],
      [calls[1]!, 'sync'],
    ] as const) {
      const at = (event: string) => call.indexOf(event)
      // The charge write and verify run at once: verify starts before the charge is on disk…
      expect(call.filter((e) => e !== 'fsync' && e !== 'verified' && e !== 'charge written')).toEqual([
        'lookup, signal: true',
        'charge pending sync, signal: true',
        'verify',
        `authorized ${later}`,
        'chain settle: charge authorized, output stored',
        `settled ${later}`,
      ])
      expect(at('verify')).toBeLessThan(at('charge written'))
      // …and the write returns only after an fsync of the ledger, well before money moves.
      const fsync = call.indexOf('fsync', at('charge pending sync, signal: true'))
      expect(fsync).toBeGreaterThan(-1)
      expect(fsync).toBeLessThan(at('charge written'))
      expect(Math.max(at('charge written'), at('verified'))).toBeLessThan(at(`authorized ${later}`))
    }
    // Without a settlement lookup, the output is on disk (synced) before money moves too.
    const second = calls[1]!
    const synced = second.indexOf('fsync', second.indexOf('authorized sync'))
    expect(synced).toBeGreaterThan(-1)
    expect(synced).toBeLessThan(second.indexOf('chain settle: charge authorized, output stored'))
    expect((await store.list()).map((c) => c.status)).toEqual(['settled', 'settled'])
  })

  it('refuses malformed proofs and proofs for other terms, charging nothing', async () => {
    const { ledger: l } = await ledger()
    const client = await connect(shop(createPaymentEngine({ ledger: l, rails: [rail] })))
    const info = await challenged(client, 'forecast', { city: 'Oslo' })
    expect((await challenged(client, 'forecast', { city: 'Oslo' }, { 'x402/payment': 'not-base64-json' })).error).toMatch(
      /^invalid_payload/,
    )
    expect((await challenged(client, 'forecast', { city: 'Oslo' }, { 'x402/payment': { x402Version: 1 } })).error).toMatch(
      /x402Version must be 2/,
    )
    // A proof for the other tool's price, another asset, another network, another payee.
    const premium = await challenged(client, 'premium', {})
    const forPremium = await payFor(premium)
    const req = info.accepts[0]!
    for (const accepted of [
      forPremium.accepted,
      { ...req, asset: devchain.accounts[3]!.address },
      { ...req, network: 'eip155:8453' },
      { ...req, payTo: devchain.accounts[3]!.address },
    ]) {
      const proof = { ...forPremium, accepted }
      const res = await challenged(client, 'forecast', { city: 'Oslo' }, { 'x402/payment': proof })
      expect(res.error).toMatch(/^invalid_payment_requirements/)
    }
    // Underpayment and an expired authorization: the terms match, the signed authorization does not.
    const under = await handMadePayload(devchain.chain, devchain.token, payer, req, { value: 9999n })
    expect((await challenged(client, 'forecast', { city: 'Oslo' }, { 'x402/payment': under })).error).toMatch(/value/)
    const now = BigInt(Math.floor(Date.now() / 1000))
    const expired = await handMadePayload(devchain.chain, devchain.token, payer, req, { validBefore: now - 10n })
    expect((await challenged(client, 'forecast', { city: 'Oslo' }, { 'x402/payment': expired })).error).toMatch(/valid_before/)
    expect(runs).toEqual([])
    // The two that reached the facilitator were written while it verified them, and failed.
    expect((await l.list()).map((c) => [c.status, c.error])).toEqual([
      ['failed', expect.stringMatching(/valid_before/)],
      ['failed', expect.stringMatching(/value/)],
    ])
  })

  it('a proof the facilitator rejects leaves a failed charge; the same proof stays refused, another one pays', async () => {
    const { ledger: l } = await ledger()
    const client = await connect(shop(createPaymentEngine({ ledger: l, rails: [rail] })))
    const info = await challenged(client, 'forecast', { city: 'Oslo' })
    const under = await handMadePayload(devchain.chain, devchain.token, payer, info.accepts[0]!, { value: 9999n })
    const before = await balanceOf(payer.address)
    expect((await challenged(client, 'forecast', { city: 'Oslo' }, { 'x402/payment': under })).error).toMatch(/value/)
    const [failed] = await l.list()
    expect(failed).toMatchObject({ status: 'failed', proofKey: rail.proofKey(under), result: null })
    const again = await challenged(client, 'forecast', { city: 'Oslo' }, { 'x402/payment': under })
    expect(again.error).toMatch(/^invalid_transaction_state: this payment authorization failed earlier: .*value/)
    const paid = await client.callTool({
      name: 'forecast',
      arguments: { city: 'Oslo' },
      _meta: { 'x402/payment': await payFor(info) },
    })
    expect(text(paid)).toBe('sunny in Oslo')
    expect(runs).toEqual(['Oslo'])
    expect(await balanceOf(payer.address)).toBe(before - 10000n)
    expect((await l.list()).map((c) => c.status)).toEqual(['settled', 'failed'])
  })

  it('lets exactly one of two racing requests use one authorization', async () => {
    const { ledger: l } = await ledger()
    const server = shop(createPaymentEngine({ ledger: l, rails: [rail] }))
    const [c1, c2] = [await connect(server), await connect(server)]
    const info = await challenged(c1, 'forecast', { city: 'Rome' })
    const proof = await payFor(info)
    const before = await balanceOf(payer.address)
    const outcomes = await Promise.allSettled(
      [c1, c2].map((c) => c.callTool({ name: 'forecast', arguments: { city: 'Rome' }, _meta: { 'x402/payment': proof } })),
    )
    expect(runs).toEqual(['Rome'])
    expect(await balanceOf(payer.address)).toBe(before - 10000n)
    const succeeded = outcomes.filter((o) => o.status === 'fulfilled' && text(o.value) === 'sunny in Rome')
    expect(succeeded.length).toBeGreaterThanOrEqual(1)
    expect((await l.list()).filter((c) => c.status === 'settled')).toHaveLength(1)
  })

  it('charges nothing when the handler fails, and the same proof stays usable for a retry', async () => {
    const { ledger: l } = await ledger()
    const client = await connect(shop(createPaymentEngine({ ledger: l, rails: [rail] })))
    const info = await challenged(client, 'forecast', { city: 'Fail' })
    const proof = await payFor(info)
    const before = await balanceOf(payer.address)
    const failed = await client.callTool({ name: 'forecast', arguments: { city: 'Fail' }, _meta: { 'x402/payment': proof } })
    expect(failed).toMatchObject({ isError: true, content: [{ type: 'text', text: 'no data for Fail' }] })
    expect(await balanceOf(payer.address)).toBe(before)
    const [released] = await l.list()
    expect(released).toMatchObject({ status: 'failed', error: 'released', result: null })
    const retried = await client.callTool({ name: 'forecast', arguments: { city: 'Fail' }, _meta: { 'x402/payment': proof } })
    expect(retried.isError).toBe(true)
    expect(runs).toEqual(['Fail', 'Fail'])
    expect(await balanceOf(payer.address)).toBe(before)
    // The retry took the same charge over, and released it again.
    expect(await l.list()).toEqual([expect.objectContaining({ id: released!.id, status: 'failed', error: 'released' })])
  })

  it('a retry after the handler failed runs again on the same proof and is charged once', async () => {
    const { ledger: l } = await ledger()
    const client = await connect(shop(createPaymentEngine({ ledger: l, rails: [rail] })))
    const proof = await payFor(await challenged(client, 'forecast', { city: 'Flaky' }))
    const before = await balanceOf(payer.address)
    const call = () => client.callTool({ name: 'forecast', arguments: { city: 'Flaky' }, _meta: { 'x402/payment': proof } })
    expect(await call()).toMatchObject({ isError: true, content: [{ text: 'Flaky: try again' }] })
    const [charge] = await l.list()
    expect(charge).toMatchObject({ status: 'failed', error: 'released' })
    const paid = await call()
    expect(text(paid)).toBe('sunny in Flaky')
    expect(paid._meta?.['x402/payment-response']).toMatchObject({ success: true })
    expect(paid._meta?.['agora/receipt']).toMatchObject({ chargeId: charge!.id })
    expect(await balanceOf(payer.address)).toBe(before - 10000n)
    // Once paid, the proof replays the stored result: no third run, no second charge.
    expect(text(await call())).toBe('sunny in Flaky')
    expect(runs).toEqual(['Flaky', 'Flaky'])
    expect(await balanceOf(payer.address)).toBe(before - 10000n)
    expect(await l.list()).toEqual([expect.objectContaining({ id: charge!.id, status: 'settled' })])
  })

  it('withholds the output when settlement fails on chain, and marks the charge failed', async () => {
    const { ledger: l } = await ledger()
    const client = await connect(shop(createPaymentEngine({ ledger: l, rails: [rail] })))
    const info = await challenged(client, 'forecast', { city: 'Drain' })
    const proof = await payFor(info)
    const err = (await client
      .callTool({ name: 'forecast', arguments: { city: 'Drain' }, _meta: { 'x402/payment': proof } })
      .catch((e: unknown) => e)) as { code: number; message: string; data: Record<string, unknown> }
    expect(err.code).toBe(-32803)
    expect(err.message).toMatch(/^Payment settlement failed/)
    expect(err.data.settlement).toMatchObject({ success: false })
    expect(JSON.stringify(err)).not.toContain('sunny')
    expect(await l.list()).toEqual([expect.objectContaining({ status: 'failed', result: null })])
    await devchain.faucet.fund(payer.address, '100')
  })

  it('answers clearly and charges nothing when the facilitator is down; the same proof pays once it is back', async () => {
    const { ledger: l } = await ledger()
    const dead = x402ExactRail({
      facilitator: httpFacilitator('http://127.0.0.1:9/facilitator', { timeoutMs: 2000 }),
      payTo,
      network: devchain.chain.network,
      assets: { USDC: devchain.token },
    })
    // The server's rail, whose facilitator is unreachable until it comes back.
    let down = true
    const flaky: PaymentRail = { ...rail, verify: (...args) => (down ? dead : rail).verify(...args) }
    const client = await connect(shop(createPaymentEngine({ ledger: l, rails: [flaky] })))
    const info = await challenged(client, 'forecast', { city: 'Oslo' })
    const proof = await payFor(info)
    const before = await balanceOf(payer.address)
    const call = () => client.callTool({ name: 'forecast', arguments: { city: 'Oslo' }, _meta: { 'x402/payment': proof } })
    const err = (await call().catch((e: unknown) => e)) as { code: number; message: string }
    expect(err.code).toBe(-31402)
    expect(err.message).toMatch(/facilitator/i)
    expect(runs).toEqual([])
    const [charge] = await l.list()
    expect(charge).toMatchObject({ status: 'failed', error: expect.stringMatching(/^verify_unavailable: /), result: null })
    down = false
    const paid = await call()
    expect(text(paid)).toBe('sunny in Oslo')
    expect(paid._meta?.['x402/payment-response']).toMatchObject({ success: true })
    expect(runs).toEqual(['Oslo'])
    expect(await balanceOf(payer.address)).toBe(before - 10000n)
    expect(await l.list()).toEqual([expect.objectContaining({ id: charge!.id, status: 'settled', error: null })])
  })

  it('after a restart, returns the stored result for a retried proof (also when the crash hit between chain and ledger)', async () => {
    const { ledger: first, path } = await ledger()
    const client = await connect(shop(createPaymentEngine({ ledger: first, rails: [rail] })))
    const info = await challenged(client, 'forecast', { city: 'Kyiv' })
    const proof = await payFor(info)
    await client.callTool({ name: 'forecast', arguments: { city: 'Kyiv' }, _meta: { 'x402/payment': proof } })
    // "Restart": a new engine over a new ledger connection to the same file.
    const { ledger: reopened } = await ledger(path)
    const engine = createPaymentEngine({ ledger: reopened, rails: [rail] })
    const after = await connect(shop(engine))
    const r = await after.callTool({ name: 'forecast', arguments: { city: 'Kyiv' }, _meta: { 'x402/payment': proof } })
    expect(text(r)).toBe('sunny in Kyiv')
    expect(runs).toEqual([])

    // Crash between settling on chain and recording it: the charge is still `authorized`, with its output.
    const info2 = await challenged(after, 'forecast', { city: 'Quito' })
    const proof2: PaymentPayload = await payFor(info2)
    const stuck = await orphanCharge(reopened, 'Quito', proof2)
    expect((await rail.settle(proof2, info2.accepts[0]!)).success).toBe(true)
    const recovered = await after.callTool({ name: 'forecast', arguments: { city: 'Quito' }, _meta: { 'x402/payment': proof2 } })
    expect(text(recovered)).toBe('sunny in Quito')
    expect(runs).toEqual([])
    expect(await reopened.get(stuck.id)).toMatchObject({ status: 'settled' })

    // Crash after writing the charge, before settling: nothing moved on chain. The retry settles now
    // (the payer authorized exactly this) and returns the stored output, without running again.
    const info3 = await challenged(after, 'forecast', { city: 'Lagos' })
    const proof3 = await payFor(info3)
    const orphan = await orphanCharge(reopened, 'Lagos', proof3)
    const before = await balanceOf(payer.address)
    const settledNow = await after.callTool({ name: 'forecast', arguments: { city: 'Lagos' }, _meta: { 'x402/payment': proof3 } })
    expect(text(settledNow)).toBe('sunny in Lagos')
    expect(settledNow._meta?.['x402/payment-response']).toMatchObject({ success: true })
    expect(await balanceOf(payer.address)).toBe(before - 10000n)
    expect(runs).toEqual([])
    await engine.drain()
    expect(await reopened.get(orphan.id)).toMatchObject({ status: 'settled' })
  })

  it('recovers a pending charge whose money moved (a power cut lost its output): runs the handler again, settles nothing twice', async () => {
    const { ledger: l } = await ledger()
    let settles = 0
    const counting: PaymentRail = {
      ...rail,
      settle: (...args) => {
        settles++
        return rail.settle(...args)
      },
    }
    const client = await connect(shop(createPaymentEngine({ ledger: l, rails: [counting] })))
    const info = await challenged(client, 'forecast', { city: 'Quito' })
    const proof = await payFor(info)
    const call = () => client.callTool({ name: 'forecast', arguments: { city: 'Quito' }, _meta: { 'x402/payment': proof } })
    // The server wrote the charge, stored the output and settled, then lost power: the output and
    // settle records were deferred and never reached the disk. Only the pending charge did.
    const stuck = await orphanCharge(l, 'Quito', proof, 'pending')
    const before = await balanceOf(payer.address)
    expect((await rail.settle(proof, info.accepts[0]!)).success).toBe(true)
    const recovered = await call()
    expect(text(recovered)).toBe('sunny in Quito')
    expect(recovered._meta?.['x402/payment-response']).toMatchObject({ success: true })
    expect(recovered._meta?.['agora/receipt']).toMatchObject({ chargeId: stuck.id, amount: '10000' })
    expect(runs).toEqual(['Quito'])
    expect(settles).toBe(0)
    expect(await balanceOf(payer.address)).toBe(before - 10000n)
    expect(await l.get(stuck.id)).toMatchObject({ status: 'settled', result: { content: [{ text: 'sunny in Quito' }] } })
    // From now on the stored result comes back.
    expect(text(await call())).toBe('sunny in Quito')
    expect([runs, settles]).toEqual([['Quito'], 0])
    expect(await balanceOf(payer.address)).toBe(before - 10000n)
  })

  it('a pending charge whose money did not move is an ordinary paid retry', async () => {
    const { ledger: l } = await ledger()
    const client = await connect(shop(createPaymentEngine({ ledger: l, rails: [rail] })))
    const proof = await payFor(await challenged(client, 'forecast', { city: 'Lagos' }))
    // The server died after writing the charge, before settling (in the handler, say).
    const stuck = await orphanCharge(l, 'Lagos', proof, 'pending')
    const before = await balanceOf(payer.address)
    const call = () => client.callTool({ name: 'forecast', arguments: { city: 'Lagos' }, _meta: { 'x402/payment': proof } })
    const paid = await call()
    expect(text(paid)).toBe('sunny in Lagos')
    expect(paid._meta?.['agora/receipt']).toMatchObject({ chargeId: stuck.id, transaction: expect.stringMatching(/^0x/) })
    expect(await balanceOf(payer.address)).toBe(before - 10000n)
    expect(text(await call())).toBe('sunny in Lagos')
    expect(runs).toEqual(['Lagos'])
    expect(await balanceOf(payer.address)).toBe(before - 10000n)
    expect(await l.list()).toEqual([expect.objectContaining({ id: stuck.id, status: 'settled' })])
  })

  it('two servers on one ledger file (separate engines and connections, as two processes) racing with one authorization: one charge', async () => {
    const { path } = await ledger()
    // The second request starts at once, or once the first one's charge is written, or mid-verify.
    for (const stagger of [0, 1, 3]) {
      const [la, lb] = [(await ledger(path)).ledger, (await ledger(path)).ledger]
      const [first, second] = [
        shop(createPaymentEngine({ ledger: la, rails: [rail] })),
        shop(createPaymentEngine({ ledger: lb, rails: [rail] })),
      ]
      const [a, b] = [await connect(first), await connect(second)]
      const city = `Race ${stagger}`
      const proof = await payFor(await challenged(a, 'forecast', { city }))
      const before = await balanceOf(payer.address)
      const attempt = (c: Client) =>
        c.callTool({ name: 'forecast', arguments: { city }, _meta: { 'x402/payment': proof } }).then(
          (r) =>
            text(r) === `sunny in ${city}` && (r._meta?.['x402/payment-response'] as { success?: boolean })?.success
              ? 'paid'
              : 'refused',
          () => 'refused',
        )
      const outcomes = await Promise.all([attempt(a), new Promise((r) => setTimeout(r, stagger)).then(() => attempt(b))])
      expect(outcomes).toContain('paid')
      expect(await balanceOf(payer.address)).toBe(before - 10000n)
      const charges = (await la.list()).filter((c) => c.proofKey === rail.proofKey(proof))
      expect(charges).toEqual([expect.objectContaining({ status: 'settled' })])
      // Whoever lost gets the stored result on a retry, with nothing charged again.
      expect(await attempt(b)).toBe('paid')
      expect(await balanceOf(payer.address)).toBe(before - 10000n)
    }
  })
})

const ENGINE_CHILD = fileURLToPath(new URL('./support/engine-child.ts', import.meta.url))

/** A paid server in its own process on the ledger file `path` (see `support/engine-child.ts`). */
async function spawnEngine(path: string, hang?: EngineChildConfig['hang']) {
  const config: EngineChildConfig = {
    ledger: path,
    rpcUrl: devchain.rpcUrl,
    facilitatorUrl: devchain.facilitatorUrl,
    network: devchain.chain.network,
    token: devchain.token,
    payTo,
    hang,
  }
  const child = spawn(process.execPath, ['--disable-warning=ExperimentalWarning', ENGINE_CHILD, JSON.stringify(config)], {
    stdio: ['pipe', 'pipe', 'inherit'],
  })
  children.push(child)
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]()
  const next = async () => {
    const line = await lines.next()
    if (line.done) throw new Error('the server process ended early')
    return line.value
  }
  expect(await next()).toBe('ready')
  return {
    call: (city: string, proof: PaymentPayload) => child.stdin!.write(`${JSON.stringify({ city, proof })}\n`),
    next,
    async kill() {
      child.kill('SIGKILL')
      const [, signal] = await once(child, 'exit')
      expect(signal).toBe('SIGKILL')
    },
  }
}

describe('payment engine: crashes and other processes (a server in a child process, killed with SIGKILL)', () => {
  it('killed while the handler runs: the charge is pending; the retry on a restarted server runs and pays once', async () => {
    const { ledger: l, path } = await ledger()
    const client = await connect(shop(createPaymentEngine({ ledger: l, rails: [rail] })))
    const proof = await payFor(await challenged(client, 'forecast', { city: 'Kyiv' }))
    const before = await balanceOf(payer.address)
    const server = await spawnEngine(path, 'handler')
    server.call('Kyiv', proof)
    expect(await server.next()).toBe('hang handler')
    expect(await l.list()).toEqual([expect.objectContaining({ status: 'pending', proofKey: rail.proofKey(proof), result: null })])
    await server.kill()
    const paid = await client.callTool({ name: 'forecast', arguments: { city: 'Kyiv' }, _meta: { 'x402/payment': proof } })
    expect(text(paid)).toBe('sunny in Kyiv')
    expect(paid._meta?.['x402/payment-response']).toMatchObject({ success: true })
    expect(runs).toEqual(['Kyiv'])
    expect(await balanceOf(payer.address)).toBe(before - 10000n)
    expect((await l.list()).map((c) => c.status)).toEqual(['settled'])
  })

  it('killed once the chain settled, before recording it: the output survived; the retry returns it, running and charging nothing again', async () => {
    const { ledger: l, path } = await ledger()
    const client = await connect(shop(createPaymentEngine({ ledger: l, rails: [rail] })))
    const proof = await payFor(await challenged(client, 'forecast', { city: 'Lima' }))
    const before = await balanceOf(payer.address)
    const server = await spawnEngine(path, 'settled')
    server.call('Lima', proof)
    expect(await server.next()).toBe('hang settled')
    await server.kill()
    expect(await balanceOf(payer.address)).toBe(before - 10000n)
    // The output was written `deferred`: a killed process loses none of it.
    expect(await l.list()).toEqual([
      expect.objectContaining({
        status: 'authorized',
        result: expect.objectContaining({ content: [{ type: 'text', text: 'sunny in Lima' }] }),
      }),
    ])
    const retried = await client.callTool({ name: 'forecast', arguments: { city: 'Lima' }, _meta: { 'x402/payment': proof } })
    expect(text(retried)).toBe('sunny in Lima')
    expect(retried._meta?.['x402/payment-response']).toMatchObject({ success: true })
    expect(runs).toEqual([])
    expect(await balanceOf(payer.address)).toBe(before - 10000n)
    expect((await l.list()).map((c) => c.status)).toEqual(['settled'])
  })

  it('two processes racing with one authorization: one charge, and a retry gets the stored result', async () => {
    const { ledger: l, path } = await ledger()
    const client = await connect(shop(createPaymentEngine({ ledger: l, rails: [rail] })))
    const server = await spawnEngine(path)
    const proof = await payFor(await challenged(client, 'forecast', { city: 'Rome' }))
    const before = await balanceOf(payer.address)
    server.call('Rome', proof)
    const here = await client.callTool({ name: 'forecast', arguments: { city: 'Rome' }, _meta: { 'x402/payment': proof } }).then(
      (r) => text(r) === 'sunny in Rome' && (r._meta?.['x402/payment-response'] as { success?: boolean })?.success === true,
      () => false,
    )
    const there = JSON.parse(await server.next()) as { text?: string; settled?: boolean }
    expect([here, there.text === 'sunny in Rome' && there.settled === true]).toContain(true)
    expect(await balanceOf(payer.address)).toBe(before - 10000n)
    expect((await l.list()).map((c) => c.status)).toEqual(['settled'])
    server.call('Rome', proof)
    expect(JSON.parse(await server.next())).toEqual({ text: 'sunny in Rome', settled: true })
    expect(await balanceOf(payer.address)).toBe(before - 10000n)
  })
})

describe('payment wire forms', () => {
  it("answers in x402's MCP binding (an isError result) when the client asks for it", async () => {
    const { ledger: l } = await ledger()
    const client = await connect(shop(createPaymentEngine({ ledger: l, rails: [rail] })))
    const r = await client.callTool({
      name: 'forecast',
      arguments: { city: 'Oslo' },
      _meta: { 'agora/payment-form': 'x402-mcp' },
    })
    expect(r.isError).toBe(true)
    expect(r.structuredContent).toMatchObject({
      x402Version: 2,
      resource: { url: 'mcp://tool/forecast' },
      accepts: [expect.objectContaining({ amount: '10000' })],
    })
    expect(JSON.parse(text(r) ?? '{}')).toEqual(r.structuredContent)
  })

  it('uses the x402 binding by default when configured so', async () => {
    const { ledger: l } = await ledger()
    const client = await connect(shop(createPaymentEngine({ ledger: l, rails: [rail], form: 'x402-mcp' })))
    const r = await client.callTool({ name: 'forecast', arguments: { city: 'Oslo' } })
    expect(r.structuredContent).toMatchObject({ x402Version: 2 })
    const proof = await payFor(r.structuredContent as never)
    const paid = await client.callTool({ name: 'forecast', arguments: { city: 'Oslo' }, _meta: { 'x402/payment': proof } })
    expect(text(paid)).toBe('sunny in Oslo')
  })

  it('answers a 2026-07-28 client advertising org.x402/payment with resultType payment_required, and takes the proof from the HTTP header', async () => {
    const { ledger: l } = await ledger()
    const http = await serveHttp(shop(createPaymentEngine({ ledger: l, rails: [rail] })), { port: 0, logger: silentLogger })
    try {
      const envelope = {
        'io.modelcontextprotocol/protocolVersion': '2026-07-28',
        'io.modelcontextprotocol/clientCapabilities': { extensions: { 'org.x402/payment': {} } },
        'io.modelcontextprotocol/clientInfo': { name: 'raw', version: '1' },
      }
      const post = (params: Record<string, unknown>, headers: Record<string, string> = {}) =>
        fetch(http.mcpUrl, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            accept: 'application/json, text/event-stream',
            'mcp-protocol-version': '2026-07-28',
            'mcp-method': 'tools/call',
            'mcp-name': 'forecast',
            ...headers,
          },
          body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { ...params, _meta: envelope } }),
        }).then(async (res) => {
          const body = await res.text()
          const json = body.startsWith('{')
            ? body
            : body
                .split('\n')
                .find((l) => l.startsWith('data: '))
                ?.slice(6)
          return JSON.parse(json ?? '{}') as { result?: Record<string, unknown>; error?: unknown }
        })
      const first = await post({ name: 'forecast', arguments: { city: 'Oslo' } })
      expect(first.result).toMatchObject({ resultType: 'payment_required', paymentRequired: { x402Version: 2 } })
      const proof = await payFor(first.result?.paymentRequired as never)
      const header = Buffer.from(JSON.stringify(proof)).toString('base64')
      const paid = await post({ name: 'forecast', arguments: { city: 'Oslo' } }, { 'payment-signature': header })
      expect(paid.result).toMatchObject({ resultType: 'complete', content: [{ type: 'text', text: 'sunny in Oslo' }] })
      expect((paid.result?._meta as Record<string, unknown> | undefined)?.['x402/payment-response']).toMatchObject({
        success: true,
      })
    } finally {
      await http.close()
    }
  })

  it('answers payments/list (SEP-2009 discovery) with protocols and terms', async () => {
    const { ledger: l } = await ledger()
    const client = await connect(
      shop(
        createPaymentEngine({
          ledger: l,
          rails: [rail],
          terms: 'https://example.com/terms',
          privacy: 'https://example.com/privacy',
        }),
      ),
    )
    const list = await client.request({ method: 'payments/list', params: {} }, z.looseObject({}))
    expect(list).toMatchObject({
      protocols: { x402: { version: 2, schemes: ['eip155:31337'] } },
      terms: 'https://example.com/terms',
      privacy: 'https://example.com/privacy',
    })
  })
})
