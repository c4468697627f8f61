/**
 * The charge-ledger contract: what every `ChargeLedger` must do, run against each real database.
 * `target.fresh()` gives the URL of an empty database; `target.open(url)` opens a ledger on it
 * (several at once for the concurrency tests). Cross-process tests spawn `ledger-child.ts`.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { afterEach, describe, expect, it } from 'vitest'
import type { ChargeLedger, NewCharge } from '../../src/ledger.ts'

export interface LedgerTarget {
  /** The URL of a new, empty database. */
  fresh(): Promise<string>
  /** Opens a ledger on `url`. */
  open(url: string): Promise<ChargeLedger>
}

const CHILD = fileURLToPath(new URL('./ledger-child.ts', import.meta.url))
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/
const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/

let serial = 0
export function newCharge(over: Partial<NewCharge> = {}): NewCharge {
  serial++
  return {
    requestKey: `req-${serial}`,
    caller: 'did:key:alice',
    resource: 'mcp://tool/echo',
    amount: '1000',
    asset: '0x5FbDB2315678afecb367f032d93F642f64180aa3',
    network: 'eip155:31337',
    rail: 'x402-exact-evm',
    ...over,
  }
}

/** Resolves to the rejection's `code`, or fails when the promise resolves. */
export async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p
  } catch (err) {
    return (err as { code?: string }).code ?? String(err)
  }
  throw new Error('expected a rejection')
}

/** Every JSON shape a proof, receipt or handler result can take, in an order `jsonb` would not keep. */
const RESULT = {
  zeta: 1,
  alpha: { nested: [1, 'two', null, true, false, { deep: [] }], empty: {} },
  text: 'é 😀 "quoted" \\ back\nslash \u0000 nul',
  numbers: [0, -1, 0.1, 1e21, 2 ** 53 - 1, -3.5e-7],
  big: 'x'.repeat(100_000),
  content: [{ type: 'text', text: 'ok' }],
}

function spawnChild(url: string, ...args: string[]): { child: ChildProcess; lines: AsyncIterator<string> } {
  const child = spawn(process.execPath, ['--disable-warning=ExperimentalWarning', CHILD, url, ...args], {
    stdio: ['pipe', 'pipe', 'inherit'],
  })
  return { child, lines: createInterface({ input: child.stdout! })[Symbol.asyncIterator]() }
}

async function nextLine(lines: AsyncIterator<string>): Promise<string> {
  const next = await lines.next()
  if (next.done) throw new Error('the child process ended early')
  return next.value
}

export function ledgerContract(name: string, target: LedgerTarget): void {
  describe(`ledger contract: ${name}`, () => {
    const opened: ChargeLedger[] = []
    const open = async (url: string) => {
      const ledger = await target.open(url)
      opened.push(ledger)
      return ledger
    }
    const fresh = async () => open(await target.fresh())
    afterEach(async () => {
      await Promise.all(opened.splice(0).map((l) => l.close()))
    })

    it('create persists a pending charge with a UUID and timestamps', async () => {
      const ledger = await fresh()
      const input = newCharge({ proofKey: 'eip155:31337:0xpayer:0x01', proof: { payload: { signature: '0x12' } } })
      const charge = await ledger.create(input)
      expect(charge).toMatchObject({ ...input, status: 'pending', receipt: null, result: null, error: null })
      expect(charge.id).toMatch(UUID)
      expect(charge.createdAt).toMatch(ISO)
      expect(charge.updatedAt).toBe(charge.createdAt)
      expect(await ledger.get(charge.id)).toEqual(charge)
      expect(await ledger.findByProofKey('eip155:31337:0xpayer:0x01')).toEqual(charge)
      expect(await ledger.get('00000000-0000-4000-8000-000000000000')).toBeUndefined()
      expect(await ledger.findByProofKey('nope')).toBeUndefined()
    })

    it('create keeps an explicit status; charges without a proof key never conflict', async () => {
      const ledger = await fresh()
      const a = await ledger.create(newCharge({ status: 'quoted' }))
      const b = await ledger.create(newCharge({ proofKey: null }))
      expect([a.status, a.proofKey, b.status, b.proofKey]).toEqual(['quoted', null, 'pending', null])
      expect(a.id).not.toBe(b.id)
    })

    it('a second charge with the same proof key is a CONFLICT carrying the stored one; one row', async () => {
      const ledger = await fresh()
      const first = await ledger.create(newCharge({ caller: 'dup', proofKey: 'pk-dup' }))
      const err = await ledger.create(newCharge({ caller: 'dup', proofKey: 'pk-dup' })).catch((e) => e)
      expect(err).toMatchObject({ name: 'AgoraError', code: 'CONFLICT', data: { existing: first } })
      expect(err.message).toContain(first.id)
      expect(await ledger.list({ caller: 'dup' })).toHaveLength(1)
    })

    it('transition moves along the state machine and round-trips JSON exactly', async () => {
      const ledger = await fresh()
      const created = await ledger.create(newCharge({ proofKey: null }))
      const authorized = await ledger.transition(created.id, ['pending'], 'authorized', {
        proofKey: 'pk-late',
        proof: 'a bare JSON string',
      })
      expect(authorized).toMatchObject({ status: 'authorized', proofKey: 'pk-late', proof: 'a bare JSON string' })
      const receipt = { success: true, transaction: `0x${'ab'.repeat(32)}`, network: 'eip155:31337', extra: [3, 2, 1] }
      const settled = await ledger.transition(created.id, ['authorized'], 'settled', { receipt, result: RESULT })
      expect(settled.status).toBe('settled')
      expect(settled.createdAt).toBe(created.createdAt)
      expect(settled.updatedAt >= created.updatedAt).toBe(true)
      const stored = (await ledger.get(created.id))!
      expect(stored).toEqual(settled)
      expect(JSON.stringify(stored.result)).toBe(JSON.stringify(RESULT))
      expect(JSON.stringify(stored.receipt)).toBe(JSON.stringify(receipt))
      expect(stored.proof).toBe('a bare JSON string')
      const failed = await ledger.transition((await ledger.create(newCharge())).id, ['pending', 'authorized'], 'failed', {
        error: 'insufficient_funds',
        proof: null,
      })
      expect(failed).toMatchObject({ status: 'failed', error: 'insufficient_funds', proof: null })
    })

    it('transition from another status is a CONFLICT naming the actual one, and changes nothing', async () => {
      const ledger = await fresh()
      const charge = await ledger.create(newCharge())
      const err = await ledger.transition(charge.id, ['authorized'], 'settled', { result: { no: 1 } }).catch((e) => e)
      expect(err).toMatchObject({ code: 'CONFLICT', data: { id: charge.id, status: 'pending', expected: ['authorized'] } })
      expect(err.message).toContain('pending')
      expect(await ledger.get(charge.id)).toEqual(charge)
    })

    it('move is the same compare-and-set as transition, without reading the charge back', async () => {
      const ledger = await fresh()
      const charge = await ledger.create(newCharge({ proofKey: 'pk-move', proof: { sig: '0x04' } }))
      expect(
        await ledger.move(charge.id, ['pending'], 'authorized', { result: RESULT }, { durability: 'deferred' }),
      ).toBeUndefined()
      expect(await ledger.get(charge.id)).toMatchObject({ status: 'authorized', result: RESULT, proof: { sig: '0x04' } })
      const err = await ledger.move(charge.id, ['pending'], 'failed', { error: 'late' }).catch((e: unknown) => e)
      expect(err).toMatchObject({ code: 'CONFLICT', data: { id: charge.id, status: 'authorized', expected: ['pending'] } })
      expect(await codeOf(ledger.move('00000000-0000-4000-8000-000000000000', ['pending'], 'failed'))).toBe('NOT_FOUND')
      expect(await codeOf(ledger.move(charge.id, [], 'settled'))).toBe('INVALID_PARAMS')
      await ledger.move(charge.id, ['pending', 'authorized'], 'settled', { receipt: { tx: '0x05' } })
      expect(await ledger.get(charge.id)).toMatchObject({
        status: 'settled',
        result: RESULT,
        receipt: { tx: '0x05' },
        error: null,
      })
      // Racing moves: exactly one wins.
      const outcomes = await Promise.allSettled([1, 2, 3, 4].map(() => ledger.move(charge.id, ['settled'], 'refunded')))
      expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1)
    })

    it('transition of an unknown id is NOT_FOUND', async () => {
      const ledger = await fresh()
      expect(await codeOf(ledger.transition('00000000-0000-4000-8000-000000000000', ['pending'], 'authorized'))).toBe('NOT_FOUND')
    })

    it("a patch that takes another charge's proof key is a CONFLICT", async () => {
      const ledger = await fresh()
      const holder = await ledger.create(newCharge({ proofKey: 'pk-held' }))
      const other = await ledger.create(newCharge())
      const err = await ledger.transition(other.id, ['pending'], 'authorized', { proofKey: 'pk-held' }).catch((e) => e)
      expect(err).toMatchObject({ code: 'CONFLICT', data: { existing: holder } })
      expect((await ledger.get(other.id))?.status).toBe('pending')
    })

    it('parallel creates with one proof key on one ledger: exactly one succeeds', async () => {
      const ledger = await fresh()
      const outcomes = await Promise.allSettled(
        Array.from({ length: 8 }, () => ledger.create(newCharge({ caller: 'race-1', proofKey: 'pk-race-1' }))),
      )
      expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1)
      for (const o of outcomes) if (o.status === 'rejected') expect(o.reason.code).toBe('CONFLICT')
      expect(await ledger.list({ caller: 'race-1' })).toHaveLength(1)
    })

    it('parallel creates with one proof key from two ledgers and three processes: exactly one succeeds', async () => {
      const url = await target.fresh()
      const [a, b] = [await open(url), await open(url)]
      const children = [1, 2, 3].map(() => spawnChild(url, 'race', 'pk-race-2', 'race-2'))
      try {
        for (const c of children) expect(await nextLine(c.lines)).toBe('ready')
        for (const c of children) c.child.stdin!.write('go\n')
        const local = await Promise.allSettled(
          [a, b, a, b].map((l) => l.create(newCharge({ caller: 'race-2', proofKey: 'pk-race-2' }))),
        )
        const remote = await Promise.all(children.map((c) => nextLine(c.lines)))
        const outcomes = [...local.map((o) => (o.status === 'fulfilled' ? 'ok' : o.reason.code)), ...remote]
        expect(outcomes.filter((o) => o === 'ok')).toHaveLength(1)
        expect(outcomes.filter((o) => o === 'CONFLICT')).toHaveLength(outcomes.length - 1)
        expect(await a.list({ caller: 'race-2' })).toHaveLength(1)
      } finally {
        for (const c of children) c.child.kill()
      }
    })

    it('parallel transitions authorized → settled: exactly one succeeds', async () => {
      const url = await target.fresh()
      const [a, b] = [await open(url), await open(url)]
      const charge = await a.create(newCharge({ status: 'authorized' }))
      const outcomes = await Promise.allSettled(
        Array.from({ length: 8 }, (_, i) =>
          (i % 2 ? a : b).transition(charge.id, ['authorized'], 'settled', { result: { winner: i } }),
        ),
      )
      const won = outcomes.filter((o) => o.status === 'fulfilled')
      expect(won).toHaveLength(1)
      for (const o of outcomes)
        if (o.status === 'rejected') expect(o.reason).toMatchObject({ code: 'CONFLICT', data: { status: 'settled' } })
      expect((await a.get(charge.id))?.result).toEqual((won[0] as PromiseFulfilledResult<{ result: unknown }>).value.result)
    })

    it('everything survives close and reopen (migrations run again, idempotently)', async () => {
      const url = await target.fresh()
      const first = await target.open(url)
      const charge = await first.create(newCharge({ proofKey: 'pk-durable', proof: { sig: '0x01' } }))
      const settled = await first.transition(charge.id, ['pending'], 'settled', { receipt: { tx: '0x02' }, result: RESULT })
      await first.close()
      await first.close()
      expect(await codeOf(first.get(charge.id))).toBe('CONNECTION')
      const again = await open(url)
      expect(await again.get(charge.id)).toEqual(settled)
      expect(await again.findByProofKey('pk-durable')).toEqual(settled)
      const third = await open(url)
      expect(await third.list()).toEqual([settled])
    })

    it('a settled charge survives its writer being killed with SIGKILL (the settle record written deferred)', async () => {
      const url = await target.fresh()
      const { child, lines } = spawnChild(url, 'settle', 'pk-killed')
      const written = JSON.parse(await nextLine(lines)) as { id: string; result: unknown }
      child.kill('SIGKILL')
      const [, signal] = await once(child, 'exit')
      expect(signal).toBe('SIGKILL')
      const ledger = await open(url)
      const charge = await ledger.get(written.id)
      expect(charge).toMatchObject({ status: 'settled', proofKey: 'pk-killed', receipt: { transaction: '0xfeed' } })
      expect(charge?.result).toEqual(written.result)
      // A retry with the same proof finds the charge and its stored result.
      expect(await codeOf(ledger.create(newCharge({ proofKey: 'pk-killed' })))).toBe('CONFLICT')
    })

    it('an aborted signal cancels a call before it starts: CANCELLED, and nothing is written', async () => {
      const ledger = await fresh()
      const charge = await ledger.create(newCharge({ caller: 'cancel', proofKey: 'pk-cancel', status: 'authorized' }))
      const signal = AbortSignal.abort(new Error('client went away'))
      expect(await codeOf(ledger.create(newCharge({ caller: 'cancel' }), { signal }))).toBe('CANCELLED')
      expect(await codeOf(ledger.transition(charge.id, ['authorized'], 'settled', {}, { signal }))).toBe('CANCELLED')
      expect(await codeOf(ledger.get(charge.id, { signal }))).toBe('CANCELLED')
      expect(await codeOf(ledger.findByProofKey('pk-cancel', { signal }))).toBe('CANCELLED')
      expect(await codeOf(ledger.list({ caller: 'cancel' }, { signal }))).toBe('CANCELLED')
      expect(await ledger.list({ caller: 'cancel' })).toEqual([charge])
      // A live signal changes nothing.
      const live = new AbortController().signal
      expect(await ledger.findByProofKey('pk-cancel', { signal: live })).toEqual(charge)
      const settled = await ledger.transition(charge.id, ['authorized'], 'settled', { receipt: { ok: 1 } }, { signal: live })
      expect(settled.status).toBe('settled')
    })

    it('deferred writes read back at once, through this ledger and another one', async () => {
      const url = await target.fresh()
      const [a, b] = [await open(url), await open(url)]
      const charge = await a.create(newCharge({ proofKey: 'pk-deferred', status: 'authorized' }), { durability: 'deferred' })
      const settled = await a.transition(
        charge.id,
        ['authorized'],
        'settled',
        { receipt: { tx: '0x03' }, result: RESULT },
        {
          durability: 'deferred',
        },
      )
      expect(await b.findByProofKey('pk-deferred')).toEqual(settled)
      // The compare-and-set holds for deferred writes too.
      expect(await codeOf(b.transition(charge.id, ['authorized'], 'failed', {}, { durability: 'deferred' }))).toBe('CONFLICT')
      expect(await codeOf(b.create(newCharge({ proofKey: 'pk-deferred' }), { durability: 'deferred' }))).toBe('CONFLICT')
      // Closing waits for the background sync; the charge is still there afterwards.
      await a.close()
      expect(await b.get(charge.id)).toEqual(settled)
    })

    it('list filters by caller, status and resource, newest first, with a limit', async () => {
      const ledger = await fresh()
      const made = []
      for (const [caller, resource] of [
        ['bob', 'mcp://tool/a'],
        ['bob', 'mcp://tool/b'],
        ['carol', 'mcp://tool/a'],
        ['bob', 'mcp://tool/a'],
      ] as const) {
        made.push(await ledger.create(newCharge({ caller, resource })))
      }
      await ledger.transition(made[1]!.id, ['pending'], 'settled')
      const ids = (charges: { id: string }[]) => charges.map((c) => c.id)
      expect(ids(await ledger.list())).toEqual(ids(made).reverse())
      expect(ids(await ledger.list({ caller: 'bob' }))).toEqual([made[3]!.id, made[1]!.id, made[0]!.id])
      expect(ids(await ledger.list({ caller: 'bob', resource: 'mcp://tool/a' }))).toEqual([made[3]!.id, made[0]!.id])
      expect(ids(await ledger.list({ status: 'settled' }))).toEqual([made[1]!.id])
      expect(ids(await ledger.list({ caller: 'bob', limit: 2 }))).toEqual([made[3]!.id, made[1]!.id])
      expect(await ledger.list({ caller: 'nobody' })).toEqual([])
    })

    it('rejects malformed input with INVALID_PARAMS before touching the database', async () => {
      const ledger = await fresh()
      expect(await codeOf(ledger.create(newCharge({ amount: '1.5' })))).toBe('INVALID_PARAMS')
      expect(await codeOf(ledger.create(newCharge({ amount: '007' })))).toBe('INVALID_PARAMS')
      expect(await codeOf(ledger.create(newCharge({ caller: '' })))).toBe('INVALID_PARAMS')
      expect(await codeOf(ledger.create(newCharge({ status: 'paid' as never })))).toBe('INVALID_PARAMS')
      expect(await codeOf(ledger.create(newCharge({ proof: { n: 1n } })))).toBe('INVALID_PARAMS')
      const charge = await ledger.create(newCharge({ amount: (2n ** 256n - 1n).toString() }))
      expect((await ledger.get(charge.id))?.amount).toBe((2n ** 256n - 1n).toString())
      expect(await codeOf(ledger.transition(charge.id, [], 'settled'))).toBe('INVALID_PARAMS')
      expect(await codeOf(ledger.transition(charge.id, ['pending'], 'done' as never))).toBe('INVALID_PARAMS')
      expect(await codeOf(ledger.list({ limit: 0 }))).toBe('INVALID_PARAMS')
      expect(await ledger.list()).toHaveLength(1)
    })
  })
}
