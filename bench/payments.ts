// bench:payments — a free call vs a paid call on the same Agora server, in one run, with the paid
// call's time split into engine (ledger + gates), verify and settle. Real parts: the in-process
// dev chain, the AgoraUSD token, the x402 facilitator code and a SQLite ledger file.
//
// engine = paid − free − verify − settle, per call: everything the paid call waits for except the
// two chain calls, so all ledger I/O it waits for is in it: the lookup before verifying, the part
// of the charge write that does not overlap verify, the output stored before settling, the settle
// record's scheduling. The charge (`pending`, `sync`) is written while verify runs: its commit runs before
// verify starts, its fsync on the thread pool during verify, and only what outlasts verify counts.
// The output is written with `deferred` durability (its fsync runs on the thread pool during
// settle); the settle record is written right after the answer (also `deferred`), so the call does
// not wait for it: the bench drains it between calls and reports it apart as "settle record".
//
//   npm run bench:payments [-- --calls 60] [--json] [--synchronous normal]
import { closeSync, fsyncSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { parseArgs } from 'node:util'
import { createSdkServer, createServer, silentLogger } from '@agora/core'
import type { PaymentPayload, PaymentRail } from '@agora/payments'
import { createPaymentEngine, sqliteLedger } from '@agora/payments'
import { startDevchain, x402ExactRail } from '@agora/payments/evm'
import { Client, InMemoryTransport } from '@modelcontextprotocol/client'
import { x402Client } from '@x402/core/client'
import { toClientEvmSigner } from '@x402/evm'
import { ExactEvmScheme } from '@x402/evm/exact/client'
import { privateKeyToAccount } from 'viem/accounts'
import { z } from 'zod'

const { values: flags } = parseArgs({
  options: {
    calls: { type: 'string', default: '60' },
    json: { type: 'boolean', default: false },
    synchronous: { type: 'string', default: 'full' },
  },
})
const CALLS = Number(flags.calls)
const log = (s: string) => {
  if (!flags.json) process.stderr.write(`${s}\n`)
}

const devchain = await startDevchain({ port: 0 })
const dir = mkdtempSync(join(tmpdir(), 'agora-bench-pay-'))
const payer = privateKeyToAccount(devchain.accounts[2]!.privateKey)

// Time the rail's two chain calls, so engine time = paid − free − verify − settle.
const inner = x402ExactRail({
  facilitator: devchain.facilitator,
  payTo: devchain.accounts[7]!.address,
  network: devchain.chain.network,
  assets: { USDC: devchain.token },
})
let verifyMs = 0
let settleMs = 0
/** When this call's verify ran (performance.now()), to tell how much of the charge write overlapped it. */
let verifySpan: [number, number] = [0, 0]
const rail: PaymentRail = {
  ...inner,
  async verify(p, r, o) {
    const t = performance.now()
    try {
      return await inner.verify(p, r, o)
    } finally {
      verifySpan = [t, performance.now()]
      verifyMs = verifySpan[1] - t
    }
  },
  async settle(p, r, o) {
    const t = performance.now()
    try {
      return await inner.settle(p, r, o)
    } finally {
      settleMs = performance.now() - t
    }
  },
}
const store = await sqliteLedger({ path: join(dir, 'charges.db'), synchronous: flags.synchronous as 'full' | 'normal' })
// Time the ledger too, per operation, so the engine's own work can be told from database I/O.
const LEDGER_OPS = ['lookup', 'charge', 'output', 'settled', 'other'] as const
type LedgerOp = (typeof LEDGER_OPS)[number]
const zero = (): Record<LedgerOp, number> => ({ lookup: 0, charge: 0, output: 0, settled: 0, other: 0 })
let ledgerMs = zero()
let chargeSpan: [number, number] = [0, 0]
const timed =
  <A extends unknown[], R>(op: LedgerOp | ((...args: A) => LedgerOp), fn: (...args: A) => Promise<R>) =>
  async (...args: A): Promise<R> => {
    const t = performance.now()
    const which = typeof op === 'string' ? op : op(...args)
    try {
      return await fn(...args)
    } finally {
      const end = performance.now()
      ledgerMs[which] += end - t
      if (which === 'charge') chargeSpan = [t, end]
    }
  }
const byStatus = (to: string): LedgerOp => (to === 'authorized' ? 'output' : to === 'settled' ? 'settled' : 'other')
const ledger: typeof store = {
  ...store,
  create: timed('charge', store.create),
  get: timed('other', store.get),
  findByProofKey: timed('lookup', store.findByProofKey),
  transition: timed((_id, _from, to) => byStatus(to), store.transition),
  move: timed((_id, _from, to) => byStatus(to), store.move),
}
const engine = createPaymentEngine({ ledger, rails: [rail] })
const server = createServer({ name: 'bench', version: '1.0.0' })
  .payments(engine)
  .tool('free', { input: z.object({ city: z.string() }) }, ({ city }) => `sunny in ${city}`)
  .tool('paid', { input: z.object({ city: z.string() }), price: '0.01 USDC' }, ({ city }) => `sunny in ${city}`)
const [a, b] = InMemoryTransport.createLinkedPair()
await createSdkServer(server, { logger: silentLogger }).connect(a)
const client = new Client({ name: 'bench', version: '1.0.0' })
await client.connect(b)

// Sign the proofs up front: signing is the payer's cost, not the server's.
log(`signing ${CALLS + 5} payment authorizations …`)
const challenge = (
  await client.callTool({ name: 'paid', arguments: { city: 'Oslo' }, _meta: { 'agora/payment-form': 'x402-mcp' } })
).structuredContent
const signer = new x402Client()
  .register('eip155:31337', new ExactEvmScheme(toClientEvmSigner(payer, devchain.chain.publicClient as never)))
  .setSpendControls({ allowedAssets: true })
const proofs: PaymentPayload[] = []
for (let i = 0; i < CALLS + 5; i++)
  proofs.push((await signer.createPaymentPayload(challenge as never)) as unknown as PaymentPayload)

const time = async (fn: () => Promise<unknown>) => {
  const t = performance.now()
  await fn()
  return performance.now() - t
}
const free: number[] = []
const paid: number[] = []
const verify: number[] = []
const settle: number[] = []
const writes: number[] = []
/** The whole charge write, and the part of it the call waited for (not overlapping verify). */
const chargeTotal: number[] = []
const ops: Record<LedgerOp, number[]> = { lookup: [], charge: [], output: [], settled: [], other: [] }
for (let i = 0; i < 5; i++) {
  await client.callTool({ name: 'free', arguments: { city: 'Oslo' } })
  await client.callTool({ name: 'paid', arguments: { city: 'Oslo' }, _meta: { 'x402/payment': proofs.pop() } })
}
log(`measuring ${CALLS} free and ${CALLS} paid calls (interleaved) …`)
for (let i = 0; i < CALLS; i++) {
  free.push(await time(() => client.callTool({ name: 'free', arguments: { city: 'Oslo' } })))
  const proof = proofs.pop()
  ledgerMs = zero()
  const ms = await time(async () => {
    const r = await client.callTool({ name: 'paid', arguments: { city: 'Oslo' }, _meta: { 'x402/payment': proof } })
    if (!(r._meta as Record<string, { success?: boolean }> | undefined)?.['x402/payment-response']?.success) {
      throw new Error(`paid call was not settled: ${JSON.stringify(r)}`)
    }
  })
  // The settle record is written right behind the answer: let it land before the next call, so it
  // is not counted in (nor slows) anything measured.
  await engine.drain()
  paid.push(ms)
  verify.push(verifyMs)
  settle.push(settleMs)
  const overlap = Math.max(0, Math.min(chargeSpan[1], verifySpan[1]) - Math.max(chargeSpan[0], verifySpan[0]))
  chargeTotal.push(ledgerMs.charge)
  ledgerMs.charge -= overlap
  // What the call waits for: everything but the settle record, which is written after the answer.
  writes.push(LEDGER_OPS.reduce((sum, op) => (op === 'settled' ? sum : sum + ledgerMs[op]), 0))
  for (const op of LEDGER_OPS) ops[op].push(ledgerMs[op])
}
// What one durable commit costs on this disk, whatever the database: appending 16 KB (a charge's
// WAL frames) and waiting for fsync, at about the pace of the paid calls above. A charge that must
// survive power loss before money moves cannot be written faster than this.
const flushes: number[] = []
const probe = openSync(join(dir, 'fsync-probe'), 'w')
for (let i = 0; i < 30; i++) {
  await new Promise((r) => setTimeout(r, 10))
  const t = performance.now()
  writeSync(probe, Buffer.alloc(16384, i))
  fsyncSync(probe)
  flushes.push(performance.now() - t)
}
closeSync(probe)

const engineMs = paid.map((p, i) => p - (free[i] ?? 0) - (verify[i] ?? 0) - (settle[i] ?? 0))
const engineLogic = engineMs.map((e, i) => e - (writes[i] ?? 0))

const q = (xs: number[], p: number) => {
  const s = [...xs].sort((x, y) => x - y)
  return s[Math.min(s.length - 1, Math.floor(p * s.length))] ?? Number.NaN
}
const row = (name: string, xs: number[]) => ({ name, p50: q(xs, 0.5), p90: q(xs, 0.9) })
const rows = [
  row('free call', free),
  row('paid call', paid),
  row('  verify', verify),
  row('  settle', settle),
  row('  engine', engineMs),
  row('    ledger', writes),
  row('      lookup', ops.lookup),
  row('      charge', ops.charge),
  row('      output', ops.output),
  row('    the rest', engineLogic),
  row('settle record', ops.settled),
  row('charge write', chargeTotal),
  row('disk fsync', flushes),
]
const verifySettle = verify.map((v, i) => v + (settle[i] ?? 0))
const result = {
  calls: CALLS,
  synchronous: flags.synchronous,
  rows,
  ratioPaidToFree: q(paid, 0.5) / q(free, 0.5),
  verifySettleP50: q(verifySettle, 0.5),
  engineP50: q(engineMs, 0.5),
  fsyncP50: q(flushes, 0.5),
  targets: { engineMs: 0.5, verifySettleMs: 15 },
}

await client.close()
await store.close()
await devchain.close()
rmSync(dir, { recursive: true, force: true })

if (flags.json) {
  process.stdout.write(`${JSON.stringify(result)}\n`)
} else {
  const f = (n: number) => n.toFixed(2).padStart(8)
  console.log(
    `\nbench:payments — ${CALLS} calls each, SQLite ledger (synchronous=${flags.synchronous}), x402 exact on the in-process chain\n`,
  )
  console.log('                  p50 ms   p90 ms')
  for (const r of rows) console.log(`${r.name.padEnd(16)}${f(r.p50)} ${f(r.p90)}`)
  console.log(`\npaid / free (p50):        ${result.ratioPaidToFree.toFixed(1)}×`)
  const pass = (ok: boolean) => (ok ? 'PASS' : 'FAIL')
  console.log(
    `verify + settle p50:      ${result.verifySettleP50.toFixed(2)} ms  (target ≤ 15 ms)  ${pass(result.verifySettleP50 <= 15)}`,
  )
  console.log(`engine overhead p50:      ${result.engineP50.toFixed(2)} ms  (target ≤ 0.5 ms) ${pass(result.engineP50 <= 0.5)}`)
  console.log(
    '\nledger: the time the call waits for. The charge is written (pending, fsynced) while verify runs: "charge"' +
      '\nis its commit before verify starts plus any fsync outlasting verify; "charge write" is the whole write.' +
      '\n"settle record": written right after the answer (a crash before it lands is recovered from the chain).',
  )
  if (flags.synchronous === 'full') {
    console.log(
      `one fsync costs ~${result.fsyncP50.toFixed(2)} ms on this disk (measured alone): the charge is on disk before money moves, ` +
        'and that fsync overlaps verify.',
    )
  }
}
