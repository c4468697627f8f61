/**
 * A paid server in a process of its own, for the engine's crash and cross-process tests.
 *
 * `node engine-child.ts <config JSON>` opens the SQLite ledger at `config.ledger`, pays through the
 * dev chain at `config.rpcUrl` (its facilitator over HTTP), and serves `forecast` (0.01 USDC) to
 * an in-process MCP client. It prints `ready`; then each stdin line `{"city":…,"proof":…}` is one
 * call, whose outcome it prints as `{"text":…,"settled":…}` or `{"error":…}`. With `config.hang`:
 * - `handler`: the handler prints `hang handler` and never returns;
 * - `settled`: once the chain settled the payment, prints `hang settled` and never records it.
 * The parent kills the process there with SIGKILL.
 */
import { createInterface } from 'node:readline'
import { createSdkServer, createServer, silentLogger } from '@agora/core'
import { Client, InMemoryTransport } from '@modelcontextprotocol/client'
import { createPublicClient, http } from 'viem'
import { z } from 'zod'
import { createPaymentEngine } from '../../src/engine/index.ts'
import { httpFacilitator } from '../../src/evm/facilitator-http.ts'
import type { TokenInfo } from '../../src/evm/token.ts'
import { x402ExactRail } from '../../src/evm/x402-rail.ts'
import { sqliteLedger } from '../../src/ledger/sqlite.ts'
import type { PaymentRail } from '../../src/rail.ts'

export interface EngineChildConfig {
  ledger: string
  rpcUrl: string
  facilitatorUrl: string
  network: string
  token: TokenInfo
  payTo: string
  hang?: 'handler' | 'settled' | undefined
}

const config = JSON.parse(process.argv[2] ?? '{}') as EngineChildConfig
const forever = () => new Promise<never>(() => {})
const say = (line: unknown) => process.stdout.write(`${typeof line === 'string' ? line : JSON.stringify(line)}\n`)

const inner = x402ExactRail({
  facilitator: httpFacilitator(config.facilitatorUrl),
  payTo: config.payTo,
  network: config.network,
  assets: { USDC: config.token },
  publicClient: createPublicClient({ transport: http(config.rpcUrl, { retryCount: 0 }) }),
})
const rail: PaymentRail = {
  ...inner,
  async settle(...args) {
    const outcome = await inner.settle(...args)
    if (config.hang === 'settled') {
      say('hang settled')
      return forever()
    }
    return outcome
  },
}
const ledger = await sqliteLedger({ path: config.ledger })
const server = createServer({ name: 'shop', version: '1.0.0' })
  .payments(createPaymentEngine({ ledger, rails: [rail] }))
  .tool('forecast', { input: z.object({ city: z.string() }), price: '0.01 USDC' }, async ({ city }) => {
    if (config.hang === 'handler') {
      say('hang handler')
      return forever()
    }
    return `sunny in ${city}`
  })
const [a, b] = InMemoryTransport.createLinkedPair()
await createSdkServer(server, { logger: silentLogger }).connect(a)
const client = new Client({ name: 'payer', version: '1.0.0' })
await client.connect(b)
say('ready')

for await (const line of createInterface({ input: process.stdin })) {
  const { city, proof } = JSON.parse(line) as { city: string; proof: unknown }
  try {
    const r = await client.callTool({ name: 'forecast', arguments: { city }, _meta: { 'x402/payment': proof } })
    const settled = (r._meta?.['x402/payment-response'] as { success?: boolean } | undefined)?.success === true
    say({ text: (r.content as { text?: string }[] | undefined)?.[0]?.text, settled })
  } catch (err) {
    say({ error: (err as Error).message })
  }
}
await client.close()
await ledger.close()
