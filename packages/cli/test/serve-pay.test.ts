import { mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Started } from './helpers.ts'
import { AGORA, agora, repo, start } from './helpers.ts'

interface ChainReady {
  event: 'ready'
  rpcUrl: string
  faucetUrl: string
}
interface ServeReady {
  event: 'ready'
  http: string
  payments: { network: string; symbol: string; payTo: string; ledger: string }
}

const PAY_TO = '0x000000000000000000000000000000000000bEEF'
let chain: Started<ChainReady>
let served: Started<ServeReady> | undefined
let dir: string

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'agora-serve-pay-'))
  chain = await start<ChainReady>('node', [AGORA, 'devchain', '--json', '--port', '0'], { timeoutMs: 30_000 })
}, 40_000)
afterAll(async () => {
  await served?.stop()
  await chain?.stop()
  rmSync(dir, { recursive: true, force: true })
})

describe('agora serve --pay-to', () => {
  it('refuses payment flags without --pay-to, and --facilitator without --network', async () => {
    const weather = repo('examples/weather/src/server.ts')
    const a = await agora(['serve', weather, '--ledger', 'sqlite:x.db'])
    expect(a.code).toBe(2)
    expect(a.stderr).toMatch(/goes? with --pay-to/)
    const b = await agora(['serve', weather, '--pay-to', PAY_TO, '--facilitator', 'http://127.0.0.1:9'])
    expect(b.code).toBe(2)
    expect(b.stderr).toContain('--facilitator needs --network')
  })

  it('takes payments for a priced tool on the dev chain, with charges in the ledger it was given', async () => {
    const ledger = join(dir, 'state', 'charges.db')
    served = await start<ServeReady>(
      'node',
      [
        AGORA,
        'serve',
        repo('examples/weather/src/server.ts'),
        '--http',
        '127.0.0.1:0',
        '--json',
        '--pay-to',
        PAY_TO,
        '--devchain',
        chain.ready.rpcUrl,
        '--ledger',
        `sqlite:${ledger}`,
      ],
      { timeoutMs: 30_000 },
    )
    expect(served.ready.payments).toMatchObject({ network: 'eip155:31337', symbol: 'USDC', payTo: PAY_TO })
    expect(statSync(ledger).mode & 0o777).toBe(0o600)
    const env = { AGORA_HOME: join(dir, 'home') }
    expect((await agora(['wallet', 'create'], { env })).code).toBe(0)
    expect((await agora(['wallet', 'fund', '--faucet', chain.ready.faucetUrl], { env })).code).toBe(0)
    const paid = await agora(
      [
        'call',
        served.ready.http,
        'forecast',
        '--args',
        '{"city":"Lisbon"}',
        '--max-price',
        '0.05',
        '--rpc',
        chain.ready.rpcUrl,
        '--json',
      ],
      { env, timeoutMs: 30_000 },
    )
    expect(paid.code, paid.stderr).toBe(0)
    expect(paid.stdout).toContain('Lisbon')
    expect(paid.stderr).toMatch(/paid 0\.01 USDC for forecast to 0x0{36}bEEF/i)
  }, 60_000)
})
