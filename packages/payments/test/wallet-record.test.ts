import { appendFileSync, mkdtempSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import type { PaymentEntry } from '../src/wallet/index.ts'
import { budgetRefusal, checkBudgetPolicy, openPaymentRecord, withFileLock } from '../src/wallet/index.ts'

const dir = mkdtempSync(join(tmpdir(), 'agora-record-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const ASSET = '0x5FbDB2315678afecb367f032d93F642f64180aa3'
let n = 0
const entry = (over: Partial<PaymentEntry> = {}): PaymentEntry => {
  const id = `0x${(++n).toString(16).padStart(64, '0')}`
  return {
    id,
    nonce: id,
    time: new Date().toISOString(),
    target: 'http://127.0.0.1:3000/mcp',
    tool: 'forecast',
    amount: '0.01',
    atomic: '10000',
    asset: ASSET,
    symbol: 'USDC',
    network: 'eip155:31337',
    payTo: '0xa0Ee7A142d267C1f36714E4a8F75612F20a79720',
    payer: '0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC',
    ...over,
  }
}

describe('payment record', () => {
  it('appends 0600 JSON lines, folds outcomes in, and survives reopening', async () => {
    const path = join(dir, 'sub', 'payments.jsonl')
    const record = openPaymentRecord(path)
    const [a, b] = [entry(), entry({ target: 'http://other/mcp', atomic: '20000', amount: '0.02' })]
    await record.append(a)
    await record.append(b)
    await record.settle(a.id, { status: 'settled', time: new Date().toISOString(), transaction: '0xabc' })
    if (process.platform !== 'win32') expect(statSync(path).mode & 0o777).toBe(0o600)
    expect(readFileSync(path, 'utf8').trim().split('\n')).toHaveLength(3)
    const reopened = openPaymentRecord(path)
    expect(await reopened.list()).toEqual([
      { ...a, outcome: expect.objectContaining({ status: 'settled', transaction: '0xabc' }) },
      b,
    ])
    const query = { network: 'eip155:31337', asset: ASSET.toLowerCase() }
    expect(await reopened.spent(query)).toBe(30000n)
    expect(await reopened.spent({ ...query, target: a.target })).toBe(10000n)
    expect(await reopened.spent({ ...query, network: 'eip155:8453' })).toBe(0n)
  })

  it('counts by time window, and skips a line cut short by a crash', async () => {
    const path = join(dir, 'window.jsonl')
    const record = openPaymentRecord(path)
    await record.append(entry({ time: new Date(Date.now() - 25 * 3600_000).toISOString() }))
    appendFileSync(path, '{"kind":"payment","id":"0xcut')
    await record.append(entry())
    const since = new Date(Date.now() - 24 * 3600_000)
    expect(await record.spent({ network: 'eip155:31337', asset: ASSET, since })).toBe(10000n)
    expect(await record.list()).toHaveLength(2)
  })
})

describe('budget math', () => {
  const q = { tool: 'forecast', target: 't', price: 10000n, decimals: 6, symbol: 'USDC', spentOnServerToday: 0n, spentTotal: 0n }
  it('compares exactly, at any precision', () => {
    expect(budgetRefusal({ maxPerCall: '0.01' }, q)).toBeUndefined()
    expect(budgetRefusal({ maxPerCall: '0.0099999999' }, q)).toMatch(/per-call limit of 0.0099999999 USDC/)
    expect(budgetRefusal({ maxTotal: '0.3' }, { ...q, spentTotal: 290000n })).toBeUndefined()
    expect(budgetRefusal({ maxTotal: '0.3' }, { ...q, spentTotal: 290001n })).toMatch(/already paid in total/)
    expect(budgetRefusal({ maxPerServerPerDay: '1' }, { ...q, spentOnServerToday: 995000n })).toMatch(
      /0.995 USDC already paid to t/,
    )
    expect(budgetRefusal({}, { ...q, price: 10n ** 30n })).toBeUndefined()
  })
  it('refuses malformed limits', () => {
    expect(() => checkBudgetPolicy({ maxPerCall: '5 cents' })).toThrow(/budget maxPerCall/)
    expect(() => checkBudgetPolicy({ maxTotal: '-1' })).toThrow(/budget maxTotal/)
    expect(() => checkBudgetPolicy({ maxPerCall: '0.05', maxTotal: undefined })).not.toThrow()
  })
})

describe('file lock', () => {
  it('runs holders one at a time and takes over a stale lock', async () => {
    const path = join(dir, 'locked')
    const order: string[] = []
    await Promise.all(
      ['a', 'b', 'c'].map((name) =>
        withFileLock(path, async () => {
          order.push(`${name}+`)
          await new Promise((r) => setTimeout(r, 10))
          order.push(`${name}-`)
        }),
      ),
    )
    expect(order).toEqual(['a+', 'a-', 'b+', 'b-', 'c+', 'c-'])
    writeFileSync(`${path}.lock`, '999999\n')
    const old = new Date(Date.now() - 60_000)
    utimesSync(`${path}.lock`, old, old)
    await expect(withFileLock(path, async () => 'taken over')).resolves.toBe('taken over')
    writeFileSync(`${path}.lock`, '999999\n')
    await expect(withFileLock(path, async () => 'never', { timeoutMs: 100 })).rejects.toMatchObject({ code: 'CONFLICT' })
    rmSync(`${path}.lock`)
  })
})
