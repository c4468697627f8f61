import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DatabaseSync } from 'node:sqlite'
import { afterAll, describe, expect, it } from 'vitest'
import { openLedger } from '../src/ledger/open.ts'
import { LEDGER_SCHEMA_VERSION } from '../src/ledger/schema.ts'
import { sqliteLedger } from '../src/ledger/sqlite.ts'
import { codeOf, ledgerContract, newCharge } from './support/ledger-contract.ts'

const dir = mkdtempSync(join(tmpdir(), 'agora-ledger-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
let files = 0
const file = (name = `ledger-${++files}.db`) => join(dir, name)

// Alternate the URL forms openLedger accepts for SQLite: `sqlite:<path>` and a bare path.
ledgerContract('sqlite', {
  fresh: async () => (files % 2 ? `sqlite:${file()}` : file()),
  open: (url) => openLedger(url),
})

describe('sqlite ledger', () => {
  it('creates the file with mode 0600 (and its -wal/-shm files), in WAL mode', async () => {
    const path = file()
    const ledger = await sqliteLedger({ path })
    await ledger.create(newCharge())
    for (const f of [path, `${path}-wal`, `${path}-shm`]) expect(statSync(f).mode & 0o777, f).toBe(0o600)
    const raw = new DatabaseSync(path)
    expect(raw.prepare('pragma journal_mode').get()).toEqual({ journal_mode: 'wal' })
    raw.close()
    await ledger.close()
  })

  it('records applied migrations once, however often it opens', async () => {
    const path = file()
    for (let i = 0; i < 3; i++) await (await sqliteLedger({ path })).close()
    const raw = new DatabaseSync(path)
    expect(raw.prepare('select version, name from agora_ledger_migrations').all()).toEqual([
      { version: LEDGER_SCHEMA_VERSION, name: 'charges' },
    ])
    // A database from a newer Agora is refused rather than misread.
    raw.prepare('insert into agora_ledger_migrations values (?, ?, ?)').run(LEDGER_SCHEMA_VERSION + 1, 'future', 'now')
    raw.close()
    const err = await sqliteLedger({ path }).catch((e) => e)
    expect(err).toMatchObject({ code: 'CONFIG' })
    expect(err.message).toMatch(/newer/)
  })

  it('opens a second ledger on a file while the first is writing, without stalling', async () => {
    // node:sqlite waits for a lock synchronously, so a write lock held across an await in this
    // process would stall both ledgers for the whole busy timeout: none must be.
    const path = file()
    const a = await sqliteLedger({ path })
    const started = performance.now()
    const writes = Promise.all(Array.from({ length: 20 }, () => a.create(newCharge({ caller: 'both' }))))
    const b = await sqliteLedger({ path })
    await Promise.all([writes, ...Array.from({ length: 20 }, () => b.create(newCharge({ caller: 'both' })))])
    expect(performance.now() - started).toBeLessThan(2000)
    expect(await a.list({ caller: 'both' })).toHaveLength(40)
    await Promise.all([a.close(), b.close()])
  })

  it('refuses a corrupt or unopenable file with CONFIG', async () => {
    const corrupt = file('corrupt.db')
    writeFileSync(corrupt, 'this is not a SQLite database, just some text that fills a page. '.repeat(100))
    const err = await openLedger(corrupt).catch((e) => e)
    expect(err).toMatchObject({ code: 'CONFIG' })
    expect(err.message).toContain('not a SQLite database')
    expect(await codeOf(openLedger(join(dir, 'no-such-dir', 'ledger.db')))).toBe('CONFIG')
    expect(existsSync(join(dir, 'no-such-dir'))).toBe(false)
  })

  it('keeps :memory: ledgers apart and throwaway', async () => {
    const [a, b] = [await openLedger(':memory:'), await openLedger('sqlite::memory:')]
    const charge = await a.create(newCharge({ proofKey: 'pk-mem' }))
    expect(await b.get(charge.id)).toBeUndefined()
    expect((await b.create(newCharge({ proofKey: 'pk-mem' }))).proofKey).toBe('pk-mem')
    await Promise.all([a.close(), b.close()])
  })
})
