import { createServer } from 'node:net'
import type { FacilitatorClient } from '@x402/core/server'
import { Hono } from 'hono'
import type { Address } from 'viem'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { DevChain, Listening, LocalFacilitator, TokenInfo } from '../src/evm/index.ts'
import {
  createFacilitatorApp,
  createFaucet,
  createLocalFacilitator,
  deployAgoraUsd,
  httpFacilitator,
  serveFacilitator,
  startDevChain,
  tokenBalance,
  x402ExactRail,
} from '../src/evm/index.ts'
import { listen } from '../src/evm/listen.ts'
import type { PaymentPayload, PaymentRequirements } from '../src/rail.ts'
import { pay } from './evm-helpers.ts'

describe('the x402 facilitator over HTTP', () => {
  let chain: DevChain
  let token: TokenInfo
  let local: LocalFacilitator
  let served: Listening
  let payTo: Address
  const cleanup: Array<() => Promise<void>> = []

  beforeAll(async () => {
    chain = await startDevChain()
    token = await deployAgoraUsd({ publicClient: chain.publicClient, deployer: chain.walletClients[0]! })
    await createFaucet({ publicClient: chain.publicClient, minter: chain.walletClients[0]!, token }).fund(
      chain.accounts[2]!.address,
      '10',
    )
    local = createLocalFacilitator({ chain, account: chain.accounts[1]! })
    served = await serveFacilitator(local, { port: 0 })
    payTo = chain.accounts[5]!.address
  })
  afterAll(async () => {
    for (const stop of cleanup) await stop()
    await served?.close()
    await chain?.close()
  })

  const railWith = (facilitator: FacilitatorClient, timeouts: { verifyTimeoutMs?: number; settleTimeoutMs?: number } = {}) =>
    x402ExactRail({ facilitator, payTo, network: chain.network, assets: { USDC: token }, ...timeouts })
  const paid = async (): Promise<{ payload: PaymentPayload; requirements: PaymentRequirements }> => {
    const [requirements] = await railWith(local).requirements({ amount: '0.01', asset: 'USDC' })
    return { payload: await pay(chain, chain.accounts[2]!, requirements!), requirements: requirements! }
  }

  it('GET /supported lists the exact scheme on eip155:31337 and the settling address', async () => {
    const supported = await httpFacilitator(served.url).getSupported()
    expect(supported.kinds).toEqual([{ x402Version: 2, scheme: 'exact', network: 'eip155:31337' }])
    expect(Object.values(supported.signers).flat()).toContain(local.address)
  })

  it('POST /verify and /settle take a real payment through httpFacilitator', async () => {
    const rail = railWith(httpFacilitator(served.url))
    const { payload, requirements } = await paid()
    const before = await tokenBalance(chain.publicClient, token.address, payTo)
    expect(await rail.verify(payload, requirements)).toEqual({ isValid: true, payer: chain.accounts[2]!.address })
    const settled = await rail.settle(payload, requirements)
    expect(settled).toMatchObject({ success: true, network: 'eip155:31337' })
    expect(await tokenBalance(chain.publicClient, token.address, payTo)).toBe(before + 10_000n)
    // The facilitator's reasons come through HTTP unchanged.
    expect(await rail.verify(payload, requirements)).toMatchObject({
      isValid: false,
      invalidReason: 'invalid_exact_evm_nonce_already_used',
    })
    expect(await rail.settle(payload, requirements)).toMatchObject({
      success: false,
      errorReason: 'invalid_exact_evm_nonce_already_used',
    })
  })

  it('answers a malformed request with HTTP 400 and a clear message', async () => {
    const app = createFacilitatorApp(local)
    const post = (path: string, body: string) =>
      app.request(path, { method: 'POST', body, headers: { 'content-type': 'application/json' } })
    const notJson = await post('/verify', '{"paymentPayload":')
    expect(notJson.status).toBe(400)
    expect((await notJson.json()).error).toMatch(/not valid JSON/)
    const missing = await post('/settle', '{"x402Version":2}')
    expect(missing.status).toBe(400)
    expect((await missing.json()).error).toMatch(/paymentPayload is not an x402 v2 PaymentPayload/)
    const { payload } = await paid()
    const badRequirements = await post(
      '/verify',
      JSON.stringify({ x402Version: 2, paymentPayload: payload, paymentRequirements: {} }),
    )
    expect(badRequirements.status).toBe(400)
    expect((await badRequirements.json()).error).toMatch(/paymentRequirements/)
    expect((await post('/verify', '[1]')).status).toBe(400)
  })

  it('a facilitator that is down gives PAYMENT_UNAVAILABLE at once', async () => {
    const port = await closedPort()
    const rail = railWith(httpFacilitator(`http://127.0.0.1:${port}`))
    const { payload, requirements } = await paid()
    const started = Date.now()
    await expect(rail.verify(payload, requirements)).rejects.toMatchObject({
      name: 'AgoraError',
      code: 'PAYMENT_UNAVAILABLE',
      message: expect.stringMatching(/facilitator failed to verify/),
    })
    await expect(rail.settle(payload, requirements)).rejects.toMatchObject({
      code: 'PAYMENT_UNAVAILABLE',
      data: { operation: 'settle', indeterminate: true },
    })
    expect(Date.now() - started).toBeLessThan(2_000)
  })

  it('a facilitator that hangs gives PAYMENT_UNAVAILABLE within the timeout, over HTTP and in process', async () => {
    const hanging = new Hono()
    const never = new Promise<Response>(() => {})
    hanging.all('*', () => never)
    const server = await listen(hanging, { port: 0 })
    cleanup.push(() => server.close())
    const stuck: FacilitatorClient = {
      verify: () => new Promise(() => {}),
      settle: () => new Promise(() => {}),
      getSupported: () => new Promise(() => {}),
    }
    const { payload, requirements } = await paid()
    for (const facilitator of [httpFacilitator(server.url), stuck]) {
      const rail = railWith(facilitator, { verifyTimeoutMs: 200, settleTimeoutMs: 300 })
      let started = Date.now()
      await expect(rail.verify(payload, requirements)).rejects.toMatchObject({
        code: 'PAYMENT_UNAVAILABLE',
        message: expect.stringMatching(/did not answer verify within 200 ms/),
      })
      expect(Date.now() - started).toBeLessThan(1_500)
      started = Date.now()
      await expect(rail.settle(payload, requirements)).rejects.toMatchObject({
        code: 'PAYMENT_UNAVAILABLE',
        data: { operation: 'settle', indeterminate: true, timeoutMs: 300 },
      })
      expect(Date.now() - started).toBeLessThan(1_500)
    }
  })

  it("stops waiting when the caller's signal aborts (CANCELLED)", async () => {
    const stuck: FacilitatorClient = {
      verify: () => new Promise(() => {}),
      settle: () => new Promise(() => {}),
      getSupported: () => new Promise(() => {}),
    }
    const rail = railWith(stuck)
    const { payload, requirements } = await paid()
    await expect(rail.verify(payload, requirements, { signal: AbortSignal.timeout(50) })).rejects.toMatchObject({
      code: 'CANCELLED',
    })
    await expect(rail.settle(payload, requirements, { signal: AbortSignal.abort() })).rejects.toMatchObject({ code: 'CANCELLED' })
  })

  it('a facilitator that errors gives PAYMENT_UNAVAILABLE; one that answers 4xx with a verdict passes its reason through', async () => {
    const app = new Hono()
    app.post('/verify', (c) =>
      c.json({ isValid: false, invalidReason: 'insufficient_funds', invalidMessage: 'no money', payer: '0xabc' }, 402),
    )
    app.post('/settle', (c) => c.text('upstream exploded', 502))
    const server = await listen(app, { port: 0 })
    cleanup.push(() => server.close())
    const rail = railWith(httpFacilitator(server.url))
    const { payload, requirements } = await paid()
    expect(await rail.verify(payload, requirements)).toEqual({
      isValid: false,
      invalidReason: 'insufficient_funds',
      invalidMessage: 'no money',
      payer: '0xabc',
    })
    await expect(rail.settle(payload, requirements)).rejects.toMatchObject({
      code: 'PAYMENT_UNAVAILABLE',
      message: expect.stringMatching(/502/),
    })
  })
})

/** A loopback port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}
