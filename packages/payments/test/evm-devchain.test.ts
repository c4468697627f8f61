import { x402Client } from '@x402/core/client'
import { toClientEvmSigner } from '@x402/evm'
import { ExactEvmScheme } from '@x402/evm/exact/client'
import type { Address, Hex } from 'viem'
import { createPublicClient, http } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { AGORA, start } from '../../cli/test/helpers.ts'
import type { Devchain } from '../src/evm/index.ts'
import { agoraUsdAbi, httpFacilitator, startDevchain, tokenBalance, x402ExactRail } from '../src/evm/index.ts'
import type { PaymentPayload } from '../src/rail.ts'

describe('startDevchain: chain, token, facilitator and faucet behind one loopback port', () => {
  let devchain: Devchain
  beforeAll(async () => {
    devchain = await startDevchain({ port: 0 })
  })
  afterAll(() => devchain?.close())

  const post = (path: string, body: unknown) =>
    fetch(`${devchain.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    })

  it('describes itself at GET / and pre-funds the payer accounts', async () => {
    const info = await (await fetch(`${devchain.url}/`)).json()
    expect(info).toEqual({
      chainId: 31337,
      network: 'eip155:31337',
      rpcUrl: devchain.url,
      token: { address: devchain.token.address, symbol: 'USDC', decimals: 6, name: 'USD Coin', version: '2' },
      facilitatorUrl: `${devchain.url}/facilitator`,
      faucetUrl: `${devchain.url}/faucet`,
    })
    expect(devchain.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
    expect(devchain.accounts).toHaveLength(8)
    for (const a of devchain.accounts) {
      expect(privateKeyToAccount(a.privateKey).address).toBe(a.address)
      expect(await tokenBalance(devchain.chain.publicClient, devchain.token.address, a.address)).toBe(1_000_000_000n)
    }
  })

  it('answers Ethereum JSON-RPC at POST /, single and batched, with provider error codes', async () => {
    expect(await (await post('/', { jsonrpc: '2.0', id: 1, method: 'eth_chainId' })).json()).toEqual({
      jsonrpc: '2.0',
      id: 1,
      result: '0x7a69',
    })
    const batch = await (
      await post('/', [
        { jsonrpc: '2.0', id: 'a', method: 'eth_blockNumber' },
        { jsonrpc: '2.0', id: 'b', method: 'no_such_method' },
        { jsonrpc: '2.0', method: 'eth_chainId' }, // a notification: no answer
      ])
    ).json()
    expect(batch).toHaveLength(2)
    expect(batch[0]).toMatchObject({ id: 'a', result: expect.stringMatching(/^0x/) })
    // The provider's own code and message pass through (EDR: -32004 "Method no_such_method is not supported").
    expect(batch[1]).toMatchObject({ id: 'b', error: { code: -32004, message: expect.stringMatching(/not supported/) } })
    const bad = await post('/', '{"jsonrpc":')
    expect(bad.status).toBe(400)
    expect((await bad.json()).error.code).toBe(-32700)
    expect((await (await post('/', { id: 3 })).json()).error.code).toBe(-32600)
  })

  it('reports reverts over HTTP JSON-RPC the way viem understands', async () => {
    const client = createPublicClient({ chain: devchain.chain.chain, transport: http(devchain.rpcUrl, { retryCount: 0 }) })
    await expect(
      client.simulateContract({
        address: devchain.token.address,
        abi: agoraUsdAbi,
        functionName: 'mint',
        args: [devchain.accounts[0]!.address, 1n],
        account: devchain.accounts[0]!.address,
      }),
    ).rejects.toThrow(/caller is not the minter/)
  })

  it('POST /faucet mints the token (whole units) and refuses bad requests with 400', async () => {
    const someone = privateKeyToAccount(`0x${'11'.repeat(32)}`).address
    const res = await post('/faucet', { address: someone, amount: '12.5' })
    expect(res.status).toBe(200)
    expect(await res.json()).toMatchObject({
      address: someone,
      amount: '12.5',
      balance: '12.5',
      transaction: expect.stringMatching(/^0x/),
    })
    expect(await tokenBalance(devchain.chain.publicClient, devchain.token.address, someone)).toBe(12_500_000n)
    expect(await devchain.chain.publicClient.getBalance({ address: someone })).toBe(10n ** 18n) // and 1 ETH for gas
    for (const body of [{ address: 'nope', amount: '1' }, { address: someone, amount: '0.0000001' }, { address: someone }, '{']) {
      const r = await post('/faucet', body)
      expect(r.status, JSON.stringify(body)).toBe(400)
      expect((await r.json()).error).toEqual(expect.any(String))
    }
  })
})

interface DevchainReady {
  event: string
  rpcUrl: string
  chainId: number
  network: string
  token: { address: Address; symbol: string; decimals: number }
  facilitatorUrl: string
  faucetUrl: string
  accounts: Array<{ address: Address; privateKey: Hex }>
}

describe('agora devchain --json', () => {
  it('serves the chain, facilitator and faucet to other processes, and pays across them', async () => {
    const proc = await start<DevchainReady>('node', [AGORA, 'devchain', '--json', '--port', '0'], { timeoutMs: 30_000 })
    try {
      const { ready } = proc
      expect(ready).toMatchObject({
        event: 'ready',
        chainId: 31337,
        network: 'eip155:31337',
        token: { address: expect.stringMatching(/^0x[0-9a-fA-F]{40}$/), symbol: 'USDC', decimals: 6 },
        facilitatorUrl: `${ready.rpcUrl}/facilitator`,
        faucetUrl: `${ready.rpcUrl}/faucet`,
      })
      expect(ready.rpcUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)

      const rpc = await fetch(ready.rpcUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_chainId' }),
      })
      expect((await rpc.json()).result).toBe('0x7a69')
      const facilitator = httpFacilitator(ready.facilitatorUrl)
      expect((await facilitator.getSupported()).kinds).toContainEqual({
        x402Version: 2,
        scheme: 'exact',
        network: 'eip155:31337',
      })

      // A payment made entirely over HTTP: payer signs against the RPC URL, rail uses the facilitator URL.
      const publicClient = createPublicClient({ transport: http(ready.rpcUrl, { retryCount: 0 }) })
      const payer = privateKeyToAccount(ready.accounts[0]!.privateKey)
      const payTo = ready.accounts[1]!.address
      const token = { address: ready.token.address, name: 'USD Coin', version: '2', decimals: ready.token.decimals }
      const rail = x402ExactRail({ facilitator, payTo, network: ready.network, assets: { USDC: token } })
      const [requirements] = await rail.requirements({ amount: '0.25', asset: 'USDC' })
      const client = new x402Client()
        .register('eip155:31337', new ExactEvmScheme(toClientEvmSigner(payer, publicClient as never)))
        .setSpendControls({ allowedAssets: true })
      const paymentRequired = { x402Version: 2, resource: { url: 'mcp://tool/paid' }, accepts: [requirements] }
      const payload = (await client.createPaymentPayload(paymentRequired as never)) as unknown as PaymentPayload
      const balance = (who: Address) =>
        publicClient.readContract({ address: token.address, abi: agoraUsdAbi, functionName: 'balanceOf', args: [who] })
      const before = (await balance(payTo)) as bigint
      expect((await rail.verify(payload, requirements!)).isValid).toBe(true)
      expect(await rail.settle(payload, requirements!)).toMatchObject({ success: true })
      expect(await balance(payTo)).toBe(before + 250_000n)

      const drip = await fetch(ready.faucetUrl, { method: 'POST', body: JSON.stringify({ address: payTo, amount: '1' }) })
      expect(drip.status).toBe(200)
    } finally {
      expect(await proc.stop()).toBe(0)
    }
  })
})

describe('agora dev --json', () => {
  it('starts the dev chain first and lists it in the ready line', async () => {
    const proc = await start<{ event: string; servers: unknown[]; devchain?: DevchainReady }>(
      'node',
      [AGORA, 'dev', '--json', '--port', '0'],
      { timeoutMs: 30_000 },
    )
    try {
      expect(proc.ready.devchain).toMatchObject({ chainId: 31337, network: 'eip155:31337', token: { symbol: 'USDC' } })
      const supported = await httpFacilitator(proc.ready.devchain!.facilitatorUrl).getSupported()
      expect(supported.kinds[0]).toMatchObject({ scheme: 'exact', network: 'eip155:31337' })
    } finally {
      expect(await proc.stop()).toBe(0)
    }
  })
})
