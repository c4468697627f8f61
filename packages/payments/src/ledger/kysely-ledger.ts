/**
 * The one {@link ChargeLedger} implementation, over any Kysely database that has run
 * {@link migrateLedger}. Every write is a single statement: `create` is one `INSERT … RETURNING`
 * guarded by the unique `proof_key` index, `transition` one `UPDATE … WHERE id = ? AND status IN (…)
 * RETURNING` (a compare-and-set; `move` returns only the id), so no lock is ever held between two
 * awaits and concurrent writers,
 * in this process or another, are serialized by the database. The queries of the paid-call path
 * are compiled once ({@link compileOnce}); the driver runs them (on SQLite, on cached statements).
 */
import { randomUUID } from 'node:crypto'
import { AgoraError, isAgoraError } from '@agora/core/errors'
import type { Compilable, CompiledQuery, Insertable, Kysely, Selectable } from 'kysely'
import type {
  ChargeLedger,
  ChargePatch,
  ChargeQuery,
  ChargeStatus,
  LedgerCallOptions,
  LedgerDurability,
  LedgerWriteOptions,
  NewCharge,
} from '../ledger.ts'
import { INSERT_COLUMNS, insertColumns, invalid, patchColumns, requireStatus, requireText, toCharge } from './columns.ts'
import { compileOnce, param, type QueryTemplate } from './compiled.ts'
import { CHARGES, type ChargesTable, type LedgerDatabase, type LedgerFlavor } from './schema.ts'

/** How the ledger asks a driver to run one query. */
export interface DriverCallOptions {
  /** True for statements that change data (they are never abandoned half-way by `signal`). */
  write: boolean
  durability: LedgerDurability
  signal?: AbortSignal | undefined
}

/** What differs between databases once the SQL is the same: how queries run, errors and JSON come back. */
export interface LedgerDriver {
  readonly flavor: LedgerFlavor
  /** True when `err` is a unique-index violation on `column` of the charges table. */
  isUniqueViolation(err: unknown, column: string): boolean
  /** Maps a driver error to an `AgoraError` (`CONNECTION`, `CONFIG`, `INTERNAL`). */
  toAgoraError(err: unknown): AgoraError
  /** Runs one compiled query and returns its rows (driver errors are thrown as they are). */
  execute<R>(query: CompiledQuery<R>, options: DriverCallOptions): Promise<R[]> | R[]
  /** Called once by `close()` before the database is destroyed: finish deferred work. */
  flush?(): Promise<void>
}

/** Clock and id generator, injectable for tests. */
export interface LedgerComponents {
  now?: () => Date
  randomId?: () => string
}

const DEFAULT_LIMIT = 100
const MAX_LIMIT = 10_000

type Row = Selectable<ChargesTable>

/** The paid-call queries, compiled once per ledger. */
function compileQueries(db: Kysely<LedgerDatabase>) {
  const insertValues = Object.fromEntries(INSERT_COLUMNS.map((c) => [c, param(c)])) as Insertable<ChargesTable>
  const updates = new Map<string, QueryTemplate<Row>>()
  return {
    byProofKey: compileOnce(db.selectFrom(CHARGES).selectAll().where('proof_key', '=', param('proof_key'))),
    byId: compileOnce(db.selectFrom(CHARGES).selectAll().where('id', '=', param('id'))),
    statusOf: compileOnce(db.selectFrom(CHARGES).select('status').where('id', '=', param('id'))),
    insert: compileOnce(db.insertInto(CHARGES).values(insertValues).returningAll()),
    /**
     * `UPDATE … SET <columns> WHERE id = ? AND status IN (<fromCount>) RETURNING *` (or `RETURNING
     * id` when the caller does not read the charge back), one per shape.
     */
    update(columns: readonly string[], fromCount: number, all: boolean): QueryTemplate<Row> {
      const key = `${columns.join(',')}|${fromCount}|${all}`
      let template = updates.get(key)
      if (!template) {
        const set = Object.fromEntries(columns.map((c) => [c, param(c)]))
        const from = Array.from({ length: fromCount }, (_, i) => param(`from${i}`)) as ChargeStatus[]
        const update = db.updateTable(CHARGES).set(set).where('id', '=', param('id')).where('status', 'in', from)
        template = compileOnce(
          all ? update.returningAll() : (update.returning('id') as unknown as typeof update & Compilable<Row>),
        )
        updates.set(key, template)
      }
      return template
    },
  }
}

/**
 * Builds a ledger over a migrated Kysely database; `close()` destroys `db`.
 *
 * @example
 * ```ts
 * const db = new Kysely<LedgerDatabase>({ dialect })
 * await migrateLedger(db, 'postgres')
 * const ledger = kyselyLedger(db, driver)
 * ```
 */
export function kyselyLedger(db: Kysely<LedgerDatabase>, driver: LedgerDriver, components: LedgerComponents = {}): ChargeLedger {
  const now = components.now ?? (() => new Date())
  const randomId = components.randomId ?? randomUUID
  let closed = false
  const parseJson = driver.flavor === 'sqlite'
  const charge = (row: Row) => toCharge(row, parseJson)
  const queries = compileQueries(db)

  /** Runs one query; driver errors become `AgoraError`s, an aborted signal `CANCELLED`. */
  const run = async <R>(query: CompiledQuery<R>, options: DriverCallOptions): Promise<R[]> => {
    if (closed) throw new AgoraError('CONNECTION', 'the charge ledger is closed')
    if (options.signal?.aborted) throw cancelled(options.signal)
    try {
      return await driver.execute(query, options)
    } catch (err) {
      if (isAgoraError(err)) throw err
      if (options.signal?.aborted && !options.write) throw cancelled(options.signal)
      throw driver.isUniqueViolation(err, 'proof_key') ? err : driver.toAgoraError(err)
    }
  }
  const read = (options: LedgerCallOptions = {}): DriverCallOptions => ({
    write: false,
    durability: 'sync',
    signal: options.signal,
  })
  const write = (options: LedgerWriteOptions = {}): DriverCallOptions => ({
    write: true,
    durability: options.durability ?? 'sync',
    signal: options.signal,
  })

  const findByProofKey = async (proofKey: string, options?: LedgerCallOptions) => {
    const [row] = await run(queries.byProofKey.bind({ proof_key: proofKey }), read(options))
    return row && charge(row)
  }
  /** A unique violation on `proof_key` becomes `CONFLICT` carrying the charge that holds the key. */
  const proofKeyConflict = async (err: unknown, proofKey: string | null | undefined): Promise<never> => {
    if (typeof proofKey !== 'string' || !driver.isUniqueViolation(err, 'proof_key')) {
      throw isAgoraError(err) ? err : driver.toAgoraError(err)
    }
    const existing = await findByProofKey(proofKey)
    throw new AgoraError('CONFLICT', `proof key ${proofKey} already backs charge ${existing?.id ?? '(unknown)'}`, {
      data: { existing },
    })
  }

  /** One `UPDATE … WHERE id = ? AND status IN (…)`; the row it returns (all columns, or only `id`). */
  const compareAndSet = async (
    id: string,
    from: readonly ChargeStatus[],
    to: ChargeStatus,
    patch: ChargePatch,
    options: LedgerWriteOptions | undefined,
    all: boolean,
  ): Promise<Row> => {
    requireText(id, 'id')
    if (!Array.isArray(from) || from.length === 0) throw invalid('"from" expected a non-empty list of statuses')
    for (const s of from) requireStatus(s, 'from')
    const set: Record<string, unknown> = {
      status: requireStatus(to, 'to'),
      updated_at: now().toISOString(),
      ...patchColumns(patch),
    }
    const values: Record<string, unknown> = { ...set, id }
    for (let i = 0; i < from.length; i++) values[`from${i}`] = from[i]
    const update = queries.update(Object.keys(set), from.length, all)
    const [row] = await run(update.bind(values), write(options)).catch((err) =>
      proofKeyConflict(err, set.proof_key as string | null | undefined),
    )
    if (row) return row
    const [current] = await run(queries.statusOf.bind({ id }), read())
    if (!current) throw new AgoraError('NOT_FOUND', `no charge ${id}`, { data: { id } })
    throw new AgoraError('CONFLICT', `charge ${id} is ${current.status}, not ${from.join(' or ')}`, {
      data: { id, status: current.status, expected: [...from] },
    })
  }

  return {
    create: async (input: NewCharge, options?: LedgerWriteOptions) => {
      const values = insertColumns(input, randomId(), now().toISOString())
      const rows = await run(queries.insert.bind(values), write(options)).catch((err) => proofKeyConflict(err, values.proof_key))
      return charge(rows[0]!)
    },

    get: async (id: string, options?: LedgerCallOptions) => {
      requireText(id, 'id')
      const [row] = await run(queries.byId.bind({ id }), read(options))
      return row && charge(row)
    },

    findByProofKey,

    transition: async (
      id: string,
      from: readonly ChargeStatus[],
      to: ChargeStatus,
      patch: ChargePatch = {},
      options?: LedgerWriteOptions,
    ) => charge(await compareAndSet(id, from, to, patch, options, true)),

    move: async (
      id: string,
      from: readonly ChargeStatus[],
      to: ChargeStatus,
      patch: ChargePatch = {},
      options?: LedgerWriteOptions,
    ) => {
      await compareAndSet(id, from, to, patch, options, false)
    },

    list: async (query: ChargeQuery = {}, options?: LedgerCallOptions) => {
      const limit = query.limit ?? DEFAULT_LIMIT
      if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) {
        throw invalid(`"limit" expected an integer from 1 to ${MAX_LIMIT}`)
      }
      if (query.status !== undefined) requireStatus(query.status, 'status')
      let q = db.selectFrom(CHARGES).selectAll()
      if (query.caller !== undefined) q = q.where('caller', '=', query.caller)
      if (query.status !== undefined) q = q.where('status', '=', query.status)
      if (query.resource !== undefined) q = q.where('resource', '=', query.resource)
      const rows = await run(q.orderBy('seq', 'desc').limit(limit).compile(), read(options))
      return rows.map(charge)
    },

    close: async () => {
      if (closed) return
      closed = true
      try {
        await driver.flush?.()
      } finally {
        await db.destroy()
      }
    },
  }
}

function cancelled(signal: AbortSignal): AgoraError {
  return new AgoraError('CANCELLED', 'the ledger call was cancelled', { cause: signal.reason })
}
