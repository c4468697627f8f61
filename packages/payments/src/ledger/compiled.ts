/**
 * Queries Kysely compiles once and the ledger binds per call. Building and compiling a query costs
 * more than running it on SQLite (tens of µs against a few), and the ledger runs the same handful
 * of queries on every paid call. A template is compiled with placeholder values; binding puts the
 * call's values in their place, in the order the SQL wants them.
 */
import { AgoraError } from '@agora/core/errors'
import type { Compilable, CompiledQuery } from 'kysely'

const MARK = '\u0000agora-param:'

/**
 * The placeholder for the value named `name` in a query compiled by {@link compileOnce}. Typed as
 * `never` so it fits any column.
 *
 * @example
 * ```ts
 * const byId = compileOnce(db.selectFrom('agora_charges').selectAll().where('id', '=', param('id')))
 * const { rows } = await db.executeQuery(byId.bind({ id }))
 * ```
 */
export const param = (name: string): never => `${MARK}${name}` as never

/** A query compiled once; `bind` makes the query to run with this call's values. */
export interface QueryTemplate<R> {
  readonly sql: string
  bind(values: Readonly<Record<string, unknown>>): CompiledQuery<R>
}

/**
 * Compiles `query` (built with {@link param} placeholders) once. Binding throws `INTERNAL` when a
 * named value is missing: `undefined` would otherwise reach the driver.
 *
 * @example
 * ```ts
 * const insert = compileOnce(db.insertInto('agora_charges').values({ id: param('id'), … }).returningAll())
 * const row = (await db.executeQuery(insert.bind({ id: randomUUID(), … }))).rows[0]
 * ```
 */
export function compileOnce<R>(query: Compilable<R>): QueryTemplate<R> {
  const compiled = query.compile()
  /** Per parameter: the name of the value that goes there, or undefined for a constant. */
  const names = compiled.parameters.map((p) => (typeof p === 'string' && p.startsWith(MARK) ? p.slice(MARK.length) : undefined))
  return {
    sql: compiled.sql,
    bind(values) {
      const parameters = names.map((name, i) => {
        if (name === undefined) return compiled.parameters[i]
        const value = values[name]
        if (value === undefined) throw new AgoraError('INTERNAL', `ledger query: no value for "${name}"`)
        return value
      })
      return { ...compiled, parameters }
    },
  }
}
