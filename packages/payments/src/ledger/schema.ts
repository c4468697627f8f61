/**
 * The ledger's tables and their versioned migrations, the same on SQLite and PostgreSQL except for
 * a few column types (PostgreSQL gets `numeric`, `json` and `timestamptz`; SQLite stores text).
 * Migrations run when a ledger opens, under a lock (`BEGIN IMMEDIATE` on SQLite, an advisory lock
 * on PostgreSQL), so several processes opening one database at once apply each migration once.
 */
import { AgoraError } from '@agora/core/errors'
import { type ColumnType, type Generated, type Kysely, sql } from 'kysely'
import type { ChargeStatus } from '../ledger.ts'

/** Which SQL dialect a ledger runs on. */
export type LedgerFlavor = 'sqlite' | 'postgres'

export const CHARGES = 'agora_charges'
export const MIGRATIONS = 'agora_ledger_migrations'
/** The statuses a charge can have, in the order of the state machine. */
export const CHARGE_STATUSES: readonly ChargeStatus[] = ['quoted', 'pending', 'authorized', 'settled', 'failed', 'refunded']

/** JSON columns: written as JSON text; read back as text (SQLite) or parsed by `pg` (PostgreSQL `json`). */
type JsonColumn = ColumnType<unknown, string | null, string | null>
/** Timestamps: ISO 8601 text on SQLite, `timestamptz` (read as `Date`) on PostgreSQL. */
type TimeColumn = ColumnType<string | Date, string, string>

export interface ChargesTable {
  /** Insertion order (newest first in `list`); never exposed. `bigint` on PostgreSQL reads as a string. */
  seq: Generated<number | string>
  id: string
  request_key: string
  proof_key: string | null
  caller: string
  resource: string
  /** `numeric(78,0)` on PostgreSQL reads as a string, like the text SQLite stores. */
  amount: string
  asset: string
  network: string
  rail: string
  status: ChargeStatus
  proof: JsonColumn
  receipt: JsonColumn
  result: JsonColumn
  error: string | null
  created_at: TimeColumn
  updated_at: TimeColumn
}

export interface MigrationsTable {
  version: number
  name: string
  applied_at: string
}

export interface LedgerDatabase {
  [CHARGES]: ChargesTable
  [MIGRATIONS]: MigrationsTable
}

interface Migration {
  version: number
  name: string
  // biome-ignore lint/suspicious/noExplicitAny: DDL runs before the typed schema exists.
  up(db: Kysely<any>, flavor: LedgerFlavor): Promise<void>
}

const LEDGER_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'charges',
    async up(db, flavor) {
      const pg = flavor === 'postgres'
      const json = pg ? 'json' : 'text'
      const time = pg ? 'timestamptz' : 'text'
      const statuses = sql.join(CHARGE_STATUSES.map((s) => sql.lit(s)))
      await db.schema
        .createTable(CHARGES)
        .$call((t) =>
          pg
            ? t.addColumn('seq', 'bigint', (c) => c.generatedAlwaysAsIdentity().primaryKey())
            : t.addColumn('seq', 'integer', (c) => c.primaryKey()),
        )
        .addColumn('id', 'text', (c) => c.notNull().unique())
        .addColumn('request_key', 'text', (c) => c.notNull())
        .addColumn('proof_key', 'text')
        .addColumn('caller', 'text', (c) => c.notNull())
        .addColumn('resource', 'text', (c) => c.notNull())
        .addColumn('amount', pg ? sql`numeric(78, 0)` : 'text', (c) => c.notNull())
        .addColumn('asset', 'text', (c) => c.notNull())
        .addColumn('network', 'text', (c) => c.notNull())
        .addColumn('rail', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull().check(sql`status in (${statuses})`))
        .addColumn('proof', json)
        .addColumn('receipt', json)
        .addColumn('result', json)
        .addColumn('error', 'text')
        .addColumn('created_at', time, (c) => c.notNull())
        .addColumn('updated_at', time, (c) => c.notNull())
        .execute()
      // One proof backs one charge: the database, not the caller, guarantees it.
      await db.schema.createIndex(`${CHARGES}_proof_key`).unique().on(CHARGES).column('proof_key').execute()
      await db.schema.createIndex(`${CHARGES}_request_key`).on(CHARGES).column('request_key').execute()
      for (const column of ['caller', 'status', 'resource']) {
        await db.schema.createIndex(`${CHARGES}_${column}`).on(CHARGES).columns([column, 'seq']).execute()
      }
    },
  },
]

/** The schema version this code writes. */
export const LEDGER_SCHEMA_VERSION = LEDGER_MIGRATIONS.at(-1)!.version

/** An arbitrary constant: the PostgreSQL advisory lock that serializes ledger migrations. */
const PG_MIGRATION_LOCK = 0x61676f72 // "agor"

/**
 * Brings the database to {@link LEDGER_SCHEMA_VERSION}: idempotent; the pending migrations and
 * their version rows commit together or not at all. Returns the versions it applied. Throws
 * `CONFIG` when the database was written by a newer Agora.
 *
 * @example
 * ```ts
 * const applied = await migrateLedger(db, 'sqlite') // [1] on a new file, [] afterwards
 * ```
 */
export async function migrateLedger(db: Kysely<LedgerDatabase>, flavor: LedgerFlavor): Promise<number[]> {
  return db.connection().execute(async (conn) => {
    // Up to date (every open but the first): a plain read, no write lock taken.
    const current = await appliedVersions(conn).catch(() => undefined) // no table yet
    if (current && checkVersions(current).length === 0) return []
    await sql.raw(flavor === 'sqlite' ? 'begin immediate' : 'begin').execute(conn)
    try {
      if (flavor === 'postgres') await sql`select pg_advisory_xact_lock(${PG_MIGRATION_LOCK})`.execute(conn)
      await conn.schema
        .createTable(MIGRATIONS)
        .ifNotExists()
        .addColumn('version', 'integer', (c) => c.primaryKey())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('applied_at', 'text', (c) => c.notNull())
        .execute()
      const pending = checkVersions(await appliedVersions(conn))
      for (const migration of pending) {
        await migration.up(conn, flavor)
        await conn
          .insertInto(MIGRATIONS)
          .values({ version: migration.version, name: migration.name, applied_at: new Date().toISOString() })
          .execute()
      }
      await sql`commit`.execute(conn)
      return pending.map((m) => m.version)
    } catch (err) {
      await sql`rollback`.execute(conn).catch(() => {})
      throw err
    }
  })
}

async function appliedVersions(db: Kysely<LedgerDatabase>): Promise<Set<number>> {
  return new Set((await db.selectFrom(MIGRATIONS).select('version').execute()).map((r) => Number(r.version)))
}

/** The migrations still to apply; `CONFIG` when the database is newer than this code. */
function checkVersions(done: Set<number>): Migration[] {
  const newest = Math.max(0, ...done)
  if (newest > LEDGER_SCHEMA_VERSION) {
    throw new AgoraError(
      'CONFIG',
      `the ledger database is at schema version ${newest}, newer than this Agora knows (${LEDGER_SCHEMA_VERSION}); upgrade Agora`,
    )
  }
  return LEDGER_MIGRATIONS.filter((m) => !done.has(m.version))
}
