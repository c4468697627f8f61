/**
 * The one {@link ChargeLedger} implementation, over any Kysely database that has run
 * {@link migrateLedger}. Every write is a single statement: `create` is one `INSERT … RETURNING`
 * guarded by the unique `proof_key` index, `transition` one `UPDATE … WHERE id = ? AND status IN (…)
 * RETURNING` (a compare-and-set), so no lock is ever held between two awaits and concurrent writers,
 * in this process or another, are serialized by the database.
 */
import { randomUUID } from 'node:crypto'
import { AgoraError, isAgoraError } from '@agora/core/errors'
import type { Kysely, Selectable } from 'kysely'
import type { ChargeLedger, ChargePatch, ChargeQuery, ChargeStatus, NewCharge } from '../ledger.ts'
import { insertColumns, invalid, patchColumns, requireStatus, requireText, toCharge } from './columns.ts'
import { CHARGES, type ChargesTable, type LedgerDatabase, type LedgerFlavor } from './schema.ts'

/** What differs between databases once the SQL is the same: how errors and JSON come back. */
export interface LedgerDriver {
  readonly flavor: LedgerFlavor
  /** True when `err` is a unique-index violation on `column` of the charges table. */
  isUniqueViolation(err: unknown, column: string): boolean
  /** Maps a driver error to an `AgoraError` (`CONNECTION`, `CONFIG`, `INTERNAL`). */
  toAgoraError(err: unknown): AgoraError
}

/** Clock and id generator, injectable for tests. */
export interface LedgerComponents {
  now?: () => Date
  randomId?: () => string
}

const DEFAULT_LIMIT = 100
const MAX_LIMIT = 10_000

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
  const charge = (row: Selectable<ChargesTable>) => toCharge(row, parseJson)
  /** Runs one database call; driver errors become `AgoraError`s. */
  const run = async <T>(fn: () => Promise<T>): Promise<T> => {
    if (closed) throw new AgoraError('CONNECTION', 'the charge ledger is closed')
    try {
      return await fn()
    } catch (err) {
      throw isAgoraError(err) ? err : driver.toAgoraError(err)
    }
  }
  const findByProofKey = (proofKey: string) =>
    run(async () => {
      const row = await db.selectFrom(CHARGES).selectAll().where('proof_key', '=', proofKey).executeTakeFirst()
      return row && charge(row)
    })
  /** A unique violation on `proof_key` becomes `CONFLICT` carrying the charge that holds the key. */
  const proofKeyConflict = async (err: unknown, proofKey: string | null | undefined): Promise<never> => {
    if (typeof proofKey !== 'string' || !driver.isUniqueViolation(err, 'proof_key')) throw err
    const existing = await findByProofKey(proofKey)
    throw new AgoraError('CONFLICT', `proof key ${proofKey} already backs charge ${existing?.id ?? '(unknown)'}`, {
      data: { existing },
    })
  }

  return {
    create: async (input: NewCharge) => {
      const values = insertColumns(input, randomId(), now().toISOString())
      return run(() =>
        db
          .insertInto(CHARGES)
          .values(values)
          .returningAll()
          .executeTakeFirstOrThrow()
          .then(charge, (err) => proofKeyConflict(err, values.proof_key)),
      )
    },

    get: async (id: string) =>
      run(async () => {
        requireText(id, 'id')
        const row = await db.selectFrom(CHARGES).selectAll().where('id', '=', id).executeTakeFirst()
        return row && charge(row)
      }),

    findByProofKey,

    transition: async (id: string, from: readonly ChargeStatus[], to: ChargeStatus, patch: ChargePatch = {}) => {
      requireText(id, 'id')
      if (!Array.isArray(from) || from.length === 0) throw invalid('"from" expected a non-empty list of statuses')
      for (const s of from) requireStatus(s, 'from')
      const set = { status: requireStatus(to, 'to'), updated_at: now().toISOString(), ...patchColumns(patch) }
      return run(async () => {
        const row = await db
          .updateTable(CHARGES)
          .set(set)
          .where('id', '=', id)
          .where('status', 'in', from)
          .returningAll()
          .executeTakeFirst()
          .catch((err) => proofKeyConflict(err, set.proof_key))
        if (row) return charge(row)
        const current = await db.selectFrom(CHARGES).select('status').where('id', '=', id).executeTakeFirst()
        if (!current) throw new AgoraError('NOT_FOUND', `no charge ${id}`, { data: { id } })
        throw new AgoraError('CONFLICT', `charge ${id} is ${current.status}, not ${from.join(' or ')}`, {
          data: { id, status: current.status, expected: [...from] },
        })
      })
    },

    list: async (query: ChargeQuery = {}) => {
      const limit = query.limit ?? DEFAULT_LIMIT
      if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) {
        throw invalid(`"limit" expected an integer from 1 to ${MAX_LIMIT}`)
      }
      if (query.status !== undefined) requireStatus(query.status, 'status')
      return run(async () => {
        let q = db.selectFrom(CHARGES).selectAll()
        if (query.caller !== undefined) q = q.where('caller', '=', query.caller)
        if (query.status !== undefined) q = q.where('status', '=', query.status)
        if (query.resource !== undefined) q = q.where('resource', '=', query.resource)
        const rows = await q.orderBy('seq', 'desc').limit(limit).execute()
        return rows.map(charge)
      })
    },

    close: async () => {
      if (closed) return
      closed = true
      await db.destroy()
    },
  }
}
