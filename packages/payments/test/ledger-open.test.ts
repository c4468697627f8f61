import { describe, expect, it } from 'vitest'
import { openLedger, parseLedgerUrl } from '../src/ledger/open.ts'
import { codeOf } from './support/ledger-contract.ts'

describe('parseLedgerUrl', () => {
  it.each([
    ['./data/ledger.db', { kind: 'sqlite', path: './data/ledger.db' }],
    ['/var/lib/agora/ledger.db', { kind: 'sqlite', path: '/var/lib/agora/ledger.db' }],
    ['sqlite:ledger.db', { kind: 'sqlite', path: 'ledger.db' }],
    ['sqlite:///var/lib/agora/ledger.db', { kind: 'sqlite', path: '/var/lib/agora/ledger.db' }],
    ['file:///var/lib/agora/ledger.db', { kind: 'sqlite', path: '/var/lib/agora/ledger.db' }],
    [':memory:', { kind: 'sqlite', path: ':memory:' }],
    ['sqlite::memory:', { kind: 'sqlite', path: ':memory:' }],
    ['postgres://agora:pw@db:5432/agora', { kind: 'postgres', connectionString: 'postgres://agora:pw@db:5432/agora' }],
    ['postgresql://db/agora?sslmode=require', { kind: 'postgres', connectionString: 'postgresql://db/agora?sslmode=require' }],
  ])('%s', (url, location) => {
    expect(parseLedgerUrl(url)).toEqual(location)
  })

  it.each([
    ['', /empty/],
    ['   ', /empty/],
    ['sqlite:', /names no file/],
    ['mysql://root@localhost/agora', /unsupported ledger URL scheme "mysql:"/],
    ['postgres://agora:hunter2@db:99999/agora', /malformed PostgreSQL connection string .*postgres:\/\/agora:\*\*\*@/],
    ['postgres://[::1/agora', /malformed PostgreSQL connection string/],
  ])('refuses %j with CONFIG', (url, message) => {
    let err: unknown
    try {
      parseLedgerUrl(url)
    } catch (e) {
      err = e
    }
    expect(err).toMatchObject({ name: 'AgoraError', code: 'CONFIG', message: expect.stringMatching(message) })
    expect(String((err as Error).message)).not.toContain('hunter2')
  })

  it('openLedger rejects (never throws synchronously) for a bad URL', async () => {
    const pending = openLedger('postgres://x:1:2@/')
    expect(pending).toBeInstanceOf(Promise)
    expect(await codeOf(pending)).toBe('CONFIG')
  })
})
