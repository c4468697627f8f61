/**
 * The SQLite ledger: Kysely's `SqliteDialect` over Node's built-in `node:sqlite` (no native build).
 * The file is created with mode 0600 (SQLite gives its `-wal`/`-shm` files the same mode) and
 * opened in WAL mode with a busy timeout, so several processes can share it: each write is one
 * statement, and a writer that finds the file locked waits instead of failing. The ledger's
 * queries run on cached `node:sqlite` statements, synchronously (Kysely builds and compiles them
 * once). Writes never block the event loop on the disk: a `sync` write's fsync runs on the thread
 * pool and the call resolves after it, a `deferred` write's runs in the background (see `deferred.ts`).
 */
import { closeSync, openSync } from 'node:fs'
import { resolve } from 'node:path'
import type { DatabaseSync, SQLInputValue, StatementSync } from 'node:sqlite'
import { AgoraError, isAgoraError } from '@agora/core/errors'
import { Kysely, type SqliteDatabase, SqliteDialect, type SqliteStatement } from 'kysely'
import type { ChargeLedger } from '../ledger.ts'
import { type DeferredWrites, deferredWrites } from './deferred.ts'
import { kyselyLedger, type LedgerComponents, type LedgerDriver } from './kysely-ledger.ts'
import { CHARGES, type LedgerDatabase, migrateLedger } from './schema.ts'

export interface SqliteLedgerOptions extends LedgerComponents {
  /** The database file (created if missing), or `:memory:` for a throwaway ledger. */
  path: string
  /** How long a write waits for another process's lock before failing (default 5000 ms). */
  busyTimeoutMs?: number
  /**
   * `full` (default): a `sync` write is on disk when it returns, so it survives power loss
   * (`deferred` writes reach the disk in the background). `normal`: every write survives a crash
   * of the process but not of the machine, and nothing waits for the disk.
   */
  synchronous?: 'full' | 'normal'
}

/**
 * Opens (creating and migrating if needed) a charge ledger in a SQLite file.
 *
 * @example
 * ```ts
 * const ledger = await sqliteLedger({ path: './agora-ledger.db' })
 * const charge = await ledger.create({ requestKey, caller, resource: 'mcp://tool/echo', amount: '1000',
 *   asset, network: 'eip155:31337', rail: 'x402-exact-evm' })
 * await ledger.close()
 * ```
 */
export async function sqliteLedger(options: SqliteLedgerOptions): Promise<ChargeLedger> {
  const { path, busyTimeoutMs = 5000, synchronous = 'full' } = options
  if (typeof path !== 'string' || path === '') throw new AgoraError('CONFIG', 'the SQLite ledger needs a file path or ":memory:"')
  const memory = path === ':memory:'
  if (!memory) createPrivateFile(path)
  const { DatabaseSync } = await import('node:sqlite')
  let database: DatabaseSync | undefined
  let wal = false
  try {
    database = new DatabaseSync(path)
    database.exec(`PRAGMA busy_timeout = ${Math.max(0, Math.trunc(busyTimeoutMs))}`)
    if (!memory) wal = (database.prepare('PRAGMA journal_mode = WAL').get() as { journal_mode?: string }).journal_mode === 'wal'
    database.exec(`PRAGMA synchronous = ${synchronous === 'normal' ? 'NORMAL' : 'FULL'}`)
  } catch (err) {
    database?.close()
    throw sqliteError(err, path)
  }
  const statements = new NodeSqliteDatabase(database)
  const db = new Kysely<LedgerDatabase>({ dialect: new SqliteDialect({ database: statements }) })
  try {
    await oncePerFile(memory ? undefined : resolve(path), () => migrateLedger(db, 'sqlite'))
  } catch (err) {
    await db.destroy()
    throw isAgoraError(err) ? err : sqliteError(err, path)
  }
  // Deferring only changes something when commits otherwise wait for the disk.
  const deferred = wal && synchronous === 'full' ? deferredWrites(database, `${resolve(path)}-wal`) : undefined
  return kyselyLedger(db, sqliteDriver(path, statements, deferred), options)
}

function createPrivateFile(path: string): void {
  try {
    closeSync(openSync(path, 'wx', 0o600))
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return
    throw new AgoraError('CONFIG', `cannot create the ledger file ${path}: ${(err as Error).message}`, { cause: err })
  }
}

/**
 * Two ledgers of one process migrating one file at once would deadlock: `node:sqlite` is
 * synchronous, so the second one's busy wait would block the thread the first one needs to
 * commit. Migrations of the same file in this process therefore take turns.
 */
const migrating = new Map<string, Promise<unknown>>()
async function oncePerFile<T>(file: string | undefined, fn: () => Promise<T>): Promise<T> {
  if (file === undefined) return fn()
  const previous = migrating.get(file) ?? Promise.resolve()
  const current = previous.then(fn, fn)
  const settled = current.catch(() => {})
  migrating.set(file, settled)
  void settled.then(() => migrating.get(file) === settled && migrating.delete(file))
  return current
}

interface SqliteErrorLike {
  code?: string
  errcode?: number
  message: string
}

const isSqliteError = (err: unknown): err is SqliteErrorLike =>
  err instanceof Error && (err as SqliteErrorLike).code === 'ERR_SQLITE_ERROR'

function sqliteDriver(path: string, statements: NodeSqliteDatabase, deferred: DeferredWrites | undefined): LedgerDriver {
  return {
    flavor: 'sqlite',
    isUniqueViolation: (err, column) =>
      isSqliteError(err) &&
      (err.errcode === 2067 || err.errcode === 1555) && // SQLITE_CONSTRAINT_UNIQUE / _PRIMARYKEY
      err.message.includes(`${CHARGES}.${column}`),
    toAgoraError: (err) => sqliteError(err, path),
    // Every statement runs synchronously, as node:sqlite does: no statement of this ledger ever
    // waits on another's await, and a write's PRAGMA switch cannot interleave with another write.
    // Only a `sync` write's wait for the disk is asynchronous: its fsync runs on the thread pool
    // (`deferred.ts`), so the event loop goes on meanwhile (the engine overlaps it with `verify`).
    execute(query, { write, durability }) {
      const statement = statements.statement(query.sql)
      const params = query.parameters as SQLInputValue[]
      const all = () => statement.all(...params) as never[]
      if (!write || !deferred) return all()
      return durability === 'deferred' ? deferred.run(all) : deferred.durable(all)
    },
    flush: async () => deferred?.close(),
  }
}

/** Maps a `node:sqlite` error to `CONFIG` (not a database, cannot open), `CONNECTION` (locked) or `INTERNAL`. */
function sqliteError(err: unknown, path: string): AgoraError {
  if (isAgoraError(err)) return err
  const message = err instanceof Error ? err.message : String(err)
  if (!isSqliteError(err)) return new AgoraError('INTERNAL', `ledger: ${message}`, { cause: err })
  switch ((err.errcode ?? 0) & 0xff) {
    case 11: // SQLITE_CORRUPT
    case 26: // SQLITE_NOTADB
      return new AgoraError('CONFIG', `the ledger file ${path} is not a SQLite database or is corrupt (${message})`, {
        cause: err,
      })
    case 3: // SQLITE_PERM
    case 8: // SQLITE_READONLY
    case 14: // SQLITE_CANTOPEN
    case 23: // SQLITE_AUTH
      return new AgoraError('CONFIG', `cannot open the ledger file ${path} for writing (${message})`, { cause: err })
    case 5: // SQLITE_BUSY
    case 6: // SQLITE_LOCKED
      return new AgoraError('CONNECTION', `the ledger file ${path} stayed locked by another writer (${message})`, { cause: err })
    default:
      return new AgoraError('INTERNAL', `ledger: ${message}`, { cause: err })
  }
}

/**
 * Kysely's `SqliteDialect` is written against better-sqlite3 (a native module that compiles from
 * source here); `node:sqlite`'s `DatabaseSync` has the same synchronous model but a different
 * surface: statements take parameters spread rather than as one array, and have no `reader` flag
 * (a statement that yields columns returns rows, `INSERT … RETURNING` included). This adapter
 * bridges the two and caches prepared statements, which Kysely prepares anew for every query; the
 * ledger's own queries use the cached statements directly (`statement`).
 */
class NodeSqliteDatabase implements SqliteDatabase {
  readonly #db: DatabaseSync
  readonly #cache = new Map<string, { raw: StatementSync; adapted?: SqliteStatement }>()

  constructor(db: DatabaseSync) {
    this.#db = db
  }

  #entry(sql: string): { raw: StatementSync; adapted?: SqliteStatement } {
    const cached = this.#cache.get(sql)
    if (cached) return cached
    const entry = { raw: this.#db.prepare(sql) }
    if (this.#cache.size >= 128) this.#cache.delete(this.#cache.keys().next().value!)
    this.#cache.set(sql, entry)
    return entry
  }

  /** The prepared statement for `sql`, prepared once. */
  statement(sql: string): StatementSync {
    return this.#entry(sql).raw
  }

  prepare(sql: string): SqliteStatement {
    const entry = this.#entry(sql)
    entry.adapted ??= adapt(entry.raw)
    return entry.adapted
  }

  close(): void {
    this.#cache.clear()
    if (this.#db.isOpen) this.#db.close()
  }
}

function adapt(statement: StatementSync): SqliteStatement {
  return {
    reader: statement.columns().length > 0,
    all: (params) => statement.all(...(params as SQLInputValue[])),
    run: (params) => statement.run(...(params as SQLInputValue[])),
    iterate: (params) => statement.iterate(...(params as SQLInputValue[])),
  }
}
