/**
 * A separate process writing to a ledger, for the contract's crash and cross-process tests.
 *
 * `node ledger-child.ts <url> settle <proofKey>`: writes a charge through pending → authorized →
 * settled (that last write `deferred`, as the engine writes it), prints `{"id":…,"result":…}` and
 * waits to be killed.
 * `node ledger-child.ts <url> race <proofKey> <caller>`: opens the ledger, prints `ready`, waits
 * for a line on stdin, then creates a charge with that proof key and prints `ok` or the error code.
 */
import { once } from 'node:events'
import { openLedger } from '../../src/ledger/open.ts'

const [url, mode, proofKey, caller = 'child'] = process.argv.slice(2)
if (!url || !proofKey) throw new Error('usage: ledger-child.ts <url> settle|race <proofKey> [caller]')

const ledger = await openLedger(url)
const charge = {
  requestKey: `req-${proofKey}`,
  caller,
  resource: 'mcp://tool/child',
  amount: '2500',
  asset: 'AUSD',
  network: 'eip155:31337',
  rail: 'test',
  proofKey,
}

if (mode === 'settle') {
  const result = { content: [{ type: 'text', text: 'paid output' }], structuredContent: { n: 7, z: [1, 2] } }
  const created = await ledger.create({ ...charge, proof: { signature: '0xabc' } })
  await ledger.transition(created.id, ['pending'], 'authorized')
  await ledger.transition(
    created.id,
    ['authorized'],
    'settled',
    { receipt: { transaction: '0xfeed' }, result },
    { durability: 'deferred' },
  )
  process.stdout.write(`${JSON.stringify({ id: created.id, result })}\n`)
  setInterval(() => {}, 60_000) // the parent kills this process with SIGKILL: no close, no clean exit
} else {
  process.stdout.write('ready\n')
  await once(process.stdin, 'data')
  try {
    await ledger.create(charge)
    process.stdout.write('ok\n')
  } catch (err) {
    process.stdout.write(`${(err as { code?: string }).code ?? (err as Error).message}\n`)
  }
  await ledger.close()
  process.exit(0)
}
