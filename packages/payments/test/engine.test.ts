import { join } from 'node:path'
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

let devchain: Devchain
let dir: string
let rail: PaymentRail
let payTo: `0x${string}`
let payer: PrivateKeyAccount
let runs: string[]
let ledgers: ChargeLedger[] = []
let clients: Client[] = []

let paid: Awaited<ReturnType<typeof startPaidChain>>
beforeAll(async () => {
  paid = await startPaidChain('agora-engine-')
  ;({ devchain, payTo, rail, dir } = paid)
  payer = privateKeyToAccount(devchain.accounts[2]!.privateKey)
})
afterAll(() => paid?.close())
afterEach(async () => {
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

/** A charge as a server that crashed mid-call leaves it: `authorized`, with the output stored. */
function orphanCharge(ledger: ChargeLedger, city: string, proof: PaymentPayload) {
  return ledger.create({
    requestKey: requestKeyOf('local', 'mcp://tool/forecast', { city }),
    proofKey: rail.proofKey(proof),
    caller: 'local',
    resource: 'mcp://tool/forecast',
    amount: '10000',
    asset: devchain.token.address,
    network: devchain.chain.network,
    rail: rail.id,
    status: 'authorized',
    proof,
    result: { content: [{ type: 'text', text: `sunny in ${city}` }] },
  })
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

  it('writes the charge to disk before money moves; the settle record deferred only when the rail can look it up', async () => {
    const { ledger: store } = await ledger()
    const events: string[] = []
    // The real ledger and rail, with each call the engine makes written down in order.
    const recording: ChargeLedger = {
      ...store,
      findByProofKey: (key, options) => {
        events.push(`lookup, signal: ${options?.signal instanceof AbortSignal}`)
        return store.findByProofKey(key, options)
      },
      create: (charge, options) => {
        events.push(`charge ${charge.status} ${options?.durability ?? 'sync'}, signal: ${options?.signal instanceof AbortSignal}`)
        return store.create(charge, options)
      },
      transition: (id, from, to, patch, options) => {
        events.push(`${to} ${options?.durability ?? 'sync'}`)
        return store.transition(id, from, to, patch, options)
      },
    }
    const watched = (r: PaymentRail): PaymentRail => ({
      ...r,
      settle: (...args) => {
        events.push('chain settle')
        return r.settle(...args)
      },
    })
    const { settlement: _lookup, ...withoutLookup } = rail
    for (const [city, r] of [
      ['Oslo', watched(rail)],
      ['Bergen', watched(withoutLookup)],
    ] as const) {
      const client = await connect(shop(createPaymentEngine({ ledger: recording, rails: [r] })))
      const proof = await payFor(await challenged(client, 'forecast', { city }))
      const result = await client.callTool({ name: 'forecast', arguments: { city }, _meta: { 'x402/payment': proof } })
      expect(result._meta?.['x402/payment-response']).toMatchObject({ success: true })
    }
    const oneCall = (settled: string) => [
      'lookup, signal: true',
      'charge authorized sync, signal: true',
      'chain settle',
      `settled ${settled}`,
    ]
    expect(events).toEqual([...oneCall('deferred'), ...oneCall('sync')])
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
    expect(await l.list()).toEqual([])
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
    expect(await l.list()).toEqual([])
    const retried = await client.callTool({ name: 'forecast', arguments: { city: 'Fail' }, _meta: { 'x402/payment': proof } })
    expect(retried.isError).toBe(true)
    expect(runs).toEqual(['Fail', 'Fail'])
    expect(await balanceOf(payer.address)).toBe(before)
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

  it('answers clearly and charges nothing when the facilitator is down', async () => {
    const { ledger: l } = await ledger()
    const dead = x402ExactRail({
      facilitator: httpFacilitator('http://127.0.0.1:9/facilitator', { timeoutMs: 2000 }),
      payTo,
      network: devchain.chain.network,
      assets: { USDC: devchain.token },
    })
    const client = await connect(shop(createPaymentEngine({ ledger: l, rails: [dead] })))
    const info = await challenged(client, 'forecast', { city: 'Oslo' })
    const proof = await payFor(info)
    const err = (await client
      .callTool({ name: 'forecast', arguments: { city: 'Oslo' }, _meta: { 'x402/payment': proof } })
      .catch((e: unknown) => e)) as {
      code: number
      message: string
    }
    expect(err.code).toBe(-31402)
    expect(err.message).toMatch(/facilitator/i)
    expect(runs).toEqual([])
    expect(await l.list()).toEqual([])
  })

  it('after a restart, returns the stored result for a retried proof (also when the crash hit between chain and ledger)', async () => {
    const { ledger: first, path } = await ledger()
    const client = await connect(shop(createPaymentEngine({ ledger: first, rails: [rail] })))
    const info = await challenged(client, 'forecast', { city: 'Kyiv' })
    const proof = await payFor(info)
    await client.callTool({ name: 'forecast', arguments: { city: 'Kyiv' }, _meta: { 'x402/payment': proof } })
    // "Restart": a new engine over a new ledger connection to the same file.
    const { ledger: reopened } = await ledger(path)
    const after = await connect(shop(createPaymentEngine({ ledger: reopened, rails: [rail] })))
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
    expect(await reopened.get(orphan.id)).toMatchObject({ status: 'settled' })
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
