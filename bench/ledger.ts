/**
 * `npm run bench:ledger`: what the charge ledger's writes cost per paid call, the part of the
 * engine's ≤ 0.5 ms per-call target (chain calls excluded) that is storage. Sequential, one
 * charge at a time, as one request sees it:
 * - `lookup`: `findByProofKey` for a proof never seen (the engine's read before verifying);
 * - `create+settle`: `create` then `transition(['pending'], 'settled', { receipt, result })`, both `sync`;
 * - `create+settle(deferred)`: the engine's path: the charge `sync` (on disk before money moves),
 *   the settle record `deferred` (synced in the background);
 * - `create+authorize+settle`: `pending → authorized → settled`, all `sync`.
 *
 * SQLite runs on a file in the OS temp dir with `synchronous=full` (the default: a commit survives
 * power loss) and `normal` (survives a process crash). PostgreSQL runs when `--postgres=<url>` is
 * given. Flags: `--n=<charges>` (default 2000), `--json`.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { openLedger } from '../packages/payments/src/ledger/open.ts'
import type { ChargeLedger, LedgerDurability } from '../packages/payments/src/ledger.ts'

const argv = process.argv.slice(2)
const flag = (name: string) => argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3)
const n = Number(flag('n') ?? 2000)
const postgres = flag('postgres')
const json = argv.includes('--json')

const receipt = { success: true, transaction: `0x${'ab'.repeat(32)}`, network: 'eip155:31337', payer: `0x${'cd'.repeat(20)}` }
const result = { content: [{ type: 'text', text: 'hello, paid world' }], structuredContent: { echoed: 'hello' } }

async function perLookup(ledger: ChargeLedger, count: number, tag: string): Promise<number> {
  const started = performance.now()
  for (let i = 0; i < count; i++) await ledger.findByProofKey(`${tag}-unseen-${i}`)
  return ((performance.now() - started) * 1000) / count
}

async function perCharge(
  ledger: ChargeLedger,
  steps: 2 | 3,
  count: number,
  tag: string,
  durability: LedgerDurability = 'sync',
): Promise<number> {
  const started = performance.now()
  for (let i = 0; i < count; i++) {
    const charge = await ledger.create({
      requestKey: `${tag}-req-${i}`,
      proofKey: `${tag}-proof-${i}`,
      caller: 'did:key:z6Mkbench',
      resource: 'mcp://tool/echo',
      amount: '1000',
      asset: '0x5FbDB2315678afecb367f032d93F642f64180aa3',
      network: 'eip155:31337',
      rail: 'x402-exact-evm',
      proof: { x402Version: 2, payload: { signature: `0x${'ef'.repeat(65)}` } },
    })
    if (steps === 3) await ledger.transition(charge.id, ['pending'], 'authorized')
    await ledger.transition(charge.id, [steps === 3 ? 'authorized' : 'pending'], 'settled', { receipt, result }, { durability })
  }
  return ((performance.now() - started) * 1000) / count
}

const rows: { db: string; path: string; usPerCharge: number; usPerWrite: number }[] = []
async function measure(db: string, open: () => Promise<ChargeLedger>) {
  const ledger = await open()
  try {
    await perCharge(ledger, 3, Math.min(200, n), `${db}-warm`)
    const lookup = await perLookup(ledger, n, db)
    rows.push({ db, path: 'lookup', usPerCharge: lookup, usPerWrite: Number.NaN })
    for (const [path, steps, durability] of [
      ['create+settle', 2, 'sync'],
      ['create+settle(deferred)', 2, 'deferred'],
      ['create+authorize+settle', 3, 'sync'],
    ] as const) {
      const us = await perCharge(ledger, steps, n, `${db}-${path}`, durability)
      rows.push({ db, path, usPerCharge: us, usPerWrite: us / steps })
    }
  } finally {
    await ledger.close()
  }
}

const dir = mkdtempSync(join(tmpdir(), 'agora-bench-ledger-'))
try {
  await measure('sqlite (synchronous=full)', () => openLedger(join(dir, 'full.db'), { synchronous: 'full' }))
  await measure('sqlite (synchronous=normal)', () => openLedger(join(dir, 'normal.db'), { synchronous: 'normal' }))
  if (postgres) await measure('postgres', () => openLedger(postgres))
} finally {
  rmSync(dir, { recursive: true, force: true })
}

if (json) process.stdout.write(`${JSON.stringify({ n, rows })}\n`)
else {
  console.log(`charge ledger writes, ${n} charges each, sequential (µs)`)
  for (const r of rows) {
    console.log(
      Number.isNaN(r.usPerWrite)
        ? `${r.db.padEnd(28)} ${r.path.padEnd(24)} ${r.usPerCharge.toFixed(0).padStart(6)} per read`
        : `${r.db.padEnd(28)} ${r.path.padEnd(24)} ${r.usPerCharge.toFixed(0).padStart(6)} per charge  ${r.usPerWrite.toFixed(0).padStart(5)} per write`,
    )
  }
}
