import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openLedger } from '../src/ledger/open.ts'
import { postgresLedger } from '../src/ledger/postgres.ts'
import { LEDGER_SCHEMA_VERSION } from '../src/ledger/schema.ts'
import { ledgerContract, newCharge } from './support/ledger-contract.ts'
import { freePort, startTestPostgres, type TestPostgres } from './support/postgres.ts'

// A real server: AGORA_TEST_POSTGRES_URL, or a throwaway cluster. Missing binaries fail here, loudly.
let server: TestPostgres
beforeAll(async () => {
  server = await startTestPostgres()
})
afterAll(async () => {
  await server?.stop()
})

/** Runs one query on a database directly, bypassing the ledger. */
async function query<T>(url: string, text: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    return (await client.query(text)).rows as T[]
  } finally {
    await client.end()
  }
}

ledgerContract('postgres', {
  fresh: () => server.freshDatabase(),
  open: (url) => openLedger(url),
})

describe('postgres ledger', () => {
  it('uses numeric, json and timestamptz columns, and records migrations once', async () => {
    const url = await server.freshDatabase()
    // Several ledgers opening one empty database at once: the advisory lock applies each migration once.
    const ledgers = await Promise.all([1, 2, 3, 4].map(() => postgresLedger({ connectionString: url })))
    const charge = await ledgers[0]!.create(newCharge({ proof: { z: 1, a: 2 } }))
    await Promise.all(ledgers.map((l) => l.close()))
    const types = await query<{ column_name: string; data_type: string }>(
      url,
      "select column_name, data_type from information_schema.columns where table_name = 'agora_charges' and column_name in ('amount', 'proof', 'created_at') order by column_name",
    )
    expect(types.map((t) => t.data_type)).toEqual(['numeric', 'timestamp with time zone', 'json'])
    expect(await query(url, 'select version, name from agora_ledger_migrations')).toEqual([
      { version: LEDGER_SCHEMA_VERSION, name: 'charges' },
    ])
    // `json` keeps the text as written (key order included), unlike `jsonb`.
    expect(await query(url, `select proof::text as proof from agora_charges where id = '${charge.id}'`)).toEqual([
      { proof: '{"z":1,"a":2}' },
    ])
  })

  it('fails fast with CONNECTION when the server is unreachable', async () => {
    const port = await freePort()
    const started = performance.now()
    const err = await openLedger(`postgres://agora:s3cret@127.0.0.1:${port}/agora`).catch((e) => e)
    expect(err).toMatchObject({ name: 'AgoraError', code: 'CONNECTION' })
    expect(err.message).toContain(`127.0.0.1:${port}/agora`)
    expect(err.message).not.toContain('s3cret')
    expect(performance.now() - started).toBeLessThan(3000)
  })

  it('bounds the wait for a server that never answers', async () => {
    // A listening socket that accepts and stays silent: connecting can only end by the timeout.
    const { createServer } = await import('node:net')
    const sockets: import('node:net').Socket[] = []
    const silent = createServer((s) => sockets.push(s))
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve))
    const { port } = silent.address() as { port: number }
    const started = performance.now()
    try {
      const err = await openLedger(`postgres://agora@127.0.0.1:${port}/agora`, { connectTimeoutMs: 500 }).catch((e) => e)
      expect(err).toMatchObject({ code: 'CONNECTION' })
      expect(performance.now() - started).toBeLessThan(3000)
    } finally {
      for (const s of sockets) s.destroy()
      silent.close()
    }
  })

  it('reports a database that does not exist as CONFIG', async () => {
    const url = new URL(server.url)
    url.pathname = '/agora_no_such_database'
    const err = await openLedger(url.toString()).catch((e) => e)
    expect(err).toMatchObject({ code: 'CONFIG' })
    expect(err.message).toContain('agora_no_such_database')
  })
})
