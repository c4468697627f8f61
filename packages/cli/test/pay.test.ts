import { chmodSync, existsSync, mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Started } from './helpers.ts'
import { AGORA, agora, start } from './helpers.ts'

interface DevReady {
  event: 'ready'
  servers: Array<{ name: string; http: string }>
  devchain: {
    rpcUrl: string
    faucetUrl: string
    token: { address: string; symbol: string; decimals: number }
    payments?: { payTo: string; servers: string[] }
  }
}

let dev: Started<DevReady>
let home: string
let weather: string
let rpc: string
const env = () => ({ AGORA_HOME: home })
const cli = (args: string[]) => agora(args, { env: env(), timeoutMs: 30_000 })

async function balance(): Promise<string> {
  const r = await cli(['wallet', 'balance', '--rpc', rpc, '--json'])
  expect(r.code, r.stderr).toBe(0)
  return JSON.parse(r.stdout).balance as string
}

async function rpcCall(method: string, params: unknown[]): Promise<Record<string, unknown>> {
  const res = await fetch(rpc, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
  })
  return ((await res.json()) as { result: Record<string, unknown> }).result
}

beforeAll(async () => {
  home = mkdtempSync(join(tmpdir(), 'agora-pay-home-'))
  dev = await start<DevReady>('node', [AGORA, 'dev', '--json', '--port', '0'], { timeoutMs: 30_000 })
  weather = dev.ready.servers.find((s) => s.name === 'weather')!.http
  rpc = dev.ready.devchain.rpcUrl
}, 40_000)

afterAll(async () => {
  await dev?.stop()
  rmSync(home, { recursive: true, force: true })
})

describe('paying from the command line, against agora dev', () => {
  it('agora dev makes the weather forecast payable on its dev chain', () => {
    expect(dev.ready.devchain.payments).toMatchObject({
      servers: ['weather'],
      payTo: expect.stringMatching(/^0x[0-9a-fA-F]{40}$/),
    })
  })

  it('creates and funds a private wallet', async () => {
    const created = await cli(['wallet', 'create', '--json'])
    expect(created.code, created.stderr).toBe(0)
    const { address, path } = JSON.parse(created.stdout) as { address: string; path: string }
    expect(path).toBe(join(home, 'wallet.json'))
    expect(statSync(path).mode & 0o777).toBe(0o600)
    expect(statSync(home).mode & 0o777).toBe(0o700)

    const again = await cli(['wallet', 'create'])
    expect(again.code).toBe(1)
    expect(again.stderr).toMatch(/a wallet already exists at .*wallet create --force replaces it/)

    const shown = await cli(['wallet', 'address'])
    expect(shown).toMatchObject({ code: 0, stdout: `${address}\n` })

    const funded = await cli(['wallet', 'fund', '1', '--faucet', dev.ready.devchain.faucetUrl, '--json'])
    expect(funded.code, funded.stderr).toBe(0)
    expect(JSON.parse(funded.stdout)).toMatchObject({ address, amount: '1', balance: '1' })
    expect(await balance()).toBe('1')
  })

  it('without --max-price, says what the tool costs', async () => {
    const r = await cli(['call', weather, 'forecast', '--args', '{"city":"Oslo"}', '--rpc', rpc])
    expect(r.code).toBe(1)
    expect(r.stderr).toBe('agora: forecast costs 0.01 USDC; pass --max-price to pay (e.g. --max-price 0.01)\n')
    expect(r.stdout).toBe('')
  })

  it('refuses a price above --max-price without signing anything', async () => {
    const r = await cli(['call', weather, 'forecast', '--args', '{"city":"Oslo"}', '--max-price', '0.001', '--rpc', rpc])
    expect(r.code).toBe(1)
    expect(r.stderr).toBe(
      'agora: not paid: forecast costs 0.01 USDC, over the per-call limit of 0.001 USDC (--max-price 0.001); nothing was signed\n',
    )
    expect(existsSync(join(home, 'payments.jsonl'))).toBe(false)
    expect(await balance()).toBe('1')
  })

  it('pays within --max-price, with a receipt whose transaction is on the dev chain', async () => {
    const r = await cli(['call', weather, 'forecast', '--args', '{"city":"Oslo"}', '--max-price', '0.05', '--rpc', rpc, '--json'])
    expect(r.code, r.stderr).toBe(0)
    const result = JSON.parse(r.stdout) as { content: Array<{ text: string }>; _meta: Record<string, Record<string, unknown>> }
    expect(JSON.parse(result.content[0]!.text)).toMatchObject({ city: 'Oslo', days: expect.any(Array) })
    const receipt = result._meta['agora/receipt']!
    const tx = receipt.transaction as string
    expect(receipt).toMatchObject({
      amount: '10000',
      asset: dev.ready.devchain.token.address,
      transaction: expect.stringMatching(/^0x[0-9a-f]{64}$/),
    })
    expect(result._meta['x402/payment-response']).toMatchObject({ success: true, transaction: tx, network: 'eip155:31337' })
    expect(r.stderr).toContain(
      `agora: paid 0.01 USDC for forecast to ${dev.ready.devchain.payments!.payTo} on eip155:31337 (transaction ${tx})`,
    )

    const onChain = await rpcCall('eth_getTransactionReceipt', [tx])
    expect(onChain).toMatchObject({ status: '0x1', transactionHash: tx })
    expect(await balance()).toBe('0.99')
    expect(statSync(join(home, 'payments.jsonl')).mode & 0o777).toBe(0o600)
  })

  it('refuses a wallet file other users can read', async () => {
    const path = join(home, 'wallet.json')
    chmodSync(path, 0o644)
    try {
      const r = await cli(['wallet', 'address'])
      expect(r.code).toBe(1)
      expect(r.stderr).toContain(`chmod 600 ${path}`)
    } finally {
      chmodSync(path, 0o600)
    }
  })
})
