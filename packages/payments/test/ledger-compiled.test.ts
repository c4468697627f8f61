import {
  DummyDriver,
  Kysely,
  PostgresAdapter,
  PostgresIntrospector,
  PostgresQueryCompiler,
  SqliteAdapter,
  SqliteIntrospector,
  SqliteQueryCompiler,
} from 'kysely'
import { describe, expect, it } from 'vitest'
import { compileOnce, param } from '../src/ledger/compiled.ts'
import type { LedgerDatabase } from '../src/ledger/schema.ts'

/** Kysely with each dialect's real compiler and no database: compiling needs none. */
const dialects = {
  sqlite: new Kysely<LedgerDatabase>({
    dialect: {
      createAdapter: () => new SqliteAdapter(),
      createDriver: () => new DummyDriver(),
      createIntrospector: (db) => new SqliteIntrospector(db),
      createQueryCompiler: () => new SqliteQueryCompiler(),
    },
  }),
  postgres: new Kysely<LedgerDatabase>({
    dialect: {
      createAdapter: () => new PostgresAdapter(),
      createDriver: () => new DummyDriver(),
      createIntrospector: (db) => new PostgresIntrospector(db),
      createQueryCompiler: () => new PostgresQueryCompiler(),
    },
  }),
}

describe.each(Object.entries(dialects))('queries compiled once (%s)', (_name, db) => {
  it('binds values by name, in the order the SQL wants them, and keeps constants', () => {
    const template = compileOnce(
      db
        .updateTable('agora_charges')
        .set({ status: param('status'), error: param('error') })
        .where('id', '=', param('id'))
        .where('status', 'in', [param('from0'), param('from1')])
        .where('rail', '=', 'x402-exact-evm')
        .returningAll(),
    )
    const values = { id: 'c-1', status: 'settled', error: null, from0: 'pending', from1: 'authorized' }
    const a = template.bind(values)
    const b = template.bind({ ...values, id: 'c-2', status: 'failed' })
    expect(a.sql).toBe(template.sql)
    expect(a.parameters).toEqual(['settled', null, 'c-1', 'pending', 'authorized', 'x402-exact-evm'])
    expect(b.parameters).toEqual(['failed', null, 'c-2', 'pending', 'authorized', 'x402-exact-evm'])
    // The same query built the usual way compiles to the same SQL and parameters.
    const direct = db
      .updateTable('agora_charges')
      .set({ status: 'failed', error: null })
      .where('id', '=', 'c-2')
      .where('status', 'in', ['pending', 'authorized'])
      .where('rail', '=', 'x402-exact-evm')
      .returningAll()
      .compile()
    expect([b.sql, b.parameters]).toEqual([direct.sql, direct.parameters])
  })

  it('refuses to bind a missing value (INTERNAL) instead of sending undefined to the driver', () => {
    const template = compileOnce(db.selectFrom('agora_charges').selectAll().where('proof_key', '=', param('proof_key')))
    expect(() => template.bind({ proofKey: 'wrong name' })).toThrow(expect.objectContaining({ code: 'INTERNAL' }))
    expect(template.bind({ proof_key: 'pk' }).parameters).toEqual(['pk'])
  })
})
