/**
 * The PostgreSQL ledger: the same Kysely code as SQLite, over a `pg` pool, for when one machine is
 * outgrown (several servers sharing one ledger). Connecting is bounded by a timeout, so an
 * unreachable server fails with `CONNECTION` instead of hanging.
 */
import { AgoraError, isAgoraError } from '@agora/core/errors'
import { Kysely, PostgresDialect } from 'kysely'
import type { ChargeLedger } from '../ledger.ts'
import { kyselyLedger, type LedgerComponents, type LedgerDriver } from './kysely-ledger.ts'
import { CHARGES, type LedgerDatabase, migrateLedger } from './schema.ts'

export interface PostgresLedgerOptions extends LedgerComponents {
  /** `postgres://user:password@host:port/database` (`postgresql://` too; libpq query parameters apply). */
  connectionString: string
  /** Connections in the pool (default 10). */
  poolSize?: number
  /** How long to wait for a connection before failing with `CONNECTION` (default 5000 ms). */
  connectTimeoutMs?: number
}

/**
 * Opens (migrating if needed) a charge ledger in a PostgreSQL database.
 *
 * @example
 * ```ts
 * const ledger = await postgresLedger({ connectionString: 'postgres://agora@db.internal:5432/agora' })
 * const settled = await ledger.list({ status: 'settled', limit: 20 })
 * await ledger.close()
 * ```
 */
export async function postgresLedger(options: PostgresLedgerOptions): Promise<ChargeLedger> {
  const { connectionString, poolSize = 10, connectTimeoutMs = 5000 } = options
  const where = describePostgresUrl(connectionString)
  const { default: pg } = await import('pg')
  const pool = new pg.Pool({
    connectionString,
    max: poolSize,
    connectionTimeoutMillis: connectTimeoutMs,
    application_name: 'agora-ledger',
  })
  // An idle connection that drops emits 'error' on the pool (fatal if unheard); the next query
  // gets a fresh connection or reports CONNECTION itself.
  pool.on('error', () => {})
  const db = new Kysely<LedgerDatabase>({ dialect: new PostgresDialect({ pool }) })
  try {
    await migrateLedger(db, 'postgres')
  } catch (err) {
    await db.destroy().catch(() => {})
    throw postgresError(err, where)
  }
  return kyselyLedger(db, postgresDriver(db, where), options)
}

/**
 * Checks a PostgreSQL URL and returns `host:port/database` for messages (never the password).
 * Throws `CONFIG` for a malformed one.
 */
export function describePostgresUrl(connectionString: string): string {
  let url: URL
  try {
    url = new URL(connectionString)
  } catch (err) {
    throw new AgoraError(
      'CONFIG',
      `malformed PostgreSQL connection string "${redact(String(connectionString))}": expected postgres://user:password@host:port/database`,
      { cause: err },
    )
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
    throw new AgoraError('CONFIG', `a PostgreSQL connection string starts with postgres:// (got ${url.protocol}//)`)
  }
  return `${url.hostname || 'localhost'}:${url.port || '5432'}${url.pathname.length > 1 ? url.pathname : '/'}`
}

const redact = (s: string) => s.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:***@')

function postgresDriver(db: Kysely<LedgerDatabase>, where: string): LedgerDriver {
  return {
    flavor: 'postgres',
    isUniqueViolation: (err, column) =>
      (err as { code?: unknown }).code === '23505' && (err as { constraint?: unknown }).constraint === `${CHARGES}_${column}`,
    toAgoraError: (err) => postgresError(err, where),
    // Every commit waits for PostgreSQL's WAL flush (`deferred` included). A read stops waiting
    // when its signal aborts; a write, once sent, is waited for: it may have committed.
    execute: async (query, { write, signal }) => (await db.executeQuery(query, write ? {} : { signal })).rows,
  }
}

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
  'ENOENT',
])

/** Maps a `pg` error: unreachable or dropped → `CONNECTION`, refused login or no such database → `CONFIG`. */
function postgresError(err: unknown, where: string): AgoraError {
  if (isAgoraError(err)) return err
  const message = err instanceof Error ? err.message || err.name : String(err)
  const code = (err as { code?: unknown } | null)?.code
  if (typeof code === 'string') {
    if (NETWORK_CODES.has(code)) {
      return new AgoraError('CONNECTION', `cannot reach PostgreSQL at ${where} (${code})`, { cause: err })
    }
    if (code.startsWith('08') || code.startsWith('57P')) {
      return new AgoraError('CONNECTION', `lost the connection to PostgreSQL at ${where}: ${message}`, { cause: err })
    }
    if (code.startsWith('28') || code === '3D000') {
      return new AgoraError('CONFIG', `PostgreSQL at ${where} refused the ledger: ${message}`, { cause: err })
    }
  }
  if (/timeout|connection terminated|not queryable/i.test(message)) {
    return new AgoraError('CONNECTION', `cannot reach PostgreSQL at ${where}: ${message}`, { cause: err })
  }
  return new AgoraError('INTERNAL', `ledger: ${message}`, { cause: err })
}
