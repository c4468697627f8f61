/**
 * Between `Charge` objects and table rows: checks what callers pass (`INVALID_PARAMS` before any
 * SQL runs), turns JSON fields into JSON text and back, and reads timestamps the same on both
 * databases.
 */
import { AgoraError } from '@agora/core/errors'
import type { Insertable, Selectable, Updateable } from 'kysely'
import type { Charge, ChargePatch, ChargeStatus, NewCharge } from '../ledger.ts'
import { CHARGE_STATUSES, type ChargesTable } from './schema.ts'

const AMOUNT = /^(0|[1-9][0-9]*)$/

export const invalid = (message: string): AgoraError => new AgoraError('INVALID_PARAMS', message)

export function requireText(value: unknown, name: string): string {
  if (typeof value !== 'string' || value === '') throw invalid(`"${name}" expected a non-empty string`)
  return value
}

export function requireStatus(value: unknown, name: string): ChargeStatus {
  if (!CHARGE_STATUSES.includes(value as ChargeStatus)) throw invalid(`"${name}" expected one of ${CHARGE_STATUSES.join(', ')}`)
  return value as ChargeStatus
}

/** The row for a new charge. */
export function insertColumns(charge: NewCharge, id: string, at: string): Insertable<ChargesTable> {
  if (typeof charge.amount !== 'string' || !AMOUNT.test(charge.amount)) {
    throw invalid('"amount" expected atomic units as a decimal string without leading zeros')
  }
  return {
    id,
    request_key: requireText(charge.requestKey, 'requestKey'),
    proof_key: proofKeyOf(charge.proofKey),
    caller: requireText(charge.caller, 'caller'),
    resource: requireText(charge.resource, 'resource'),
    amount: charge.amount,
    asset: requireText(charge.asset, 'asset'),
    network: requireText(charge.network, 'network'),
    rail: requireText(charge.rail, 'rail'),
    status: requireStatus(charge.status ?? 'pending', 'status'),
    proof: encode(charge.proof, 'proof'),
    receipt: null,
    result: encode(charge.result, 'result'),
    error: null,
    created_at: at,
    updated_at: at,
  }
}

/** Every column a new charge writes, in one fixed order: one compiled `INSERT` fits them all. */
export const INSERT_COLUMNS = [
  'id',
  'request_key',
  'proof_key',
  'caller',
  'resource',
  'amount',
  'asset',
  'network',
  'rail',
  'status',
  'proof',
  'receipt',
  'result',
  'error',
  'created_at',
  'updated_at',
] as const satisfies readonly (keyof ChargesTable)[]

/** The columns a patch changes; fields left `undefined` keep their value, `null` clears them. */
export function patchColumns(patch: ChargePatch): Updateable<ChargesTable> & { proof_key?: string | null } {
  const set: Updateable<ChargesTable> & { proof_key?: string | null } = {}
  if (patch.proofKey !== undefined) set.proof_key = proofKeyOf(patch.proofKey)
  if (patch.proof !== undefined) set.proof = encode(patch.proof, 'proof')
  if (patch.receipt !== undefined) set.receipt = encode(patch.receipt, 'receipt')
  if (patch.result !== undefined) set.result = encode(patch.result, 'result')
  if (patch.error !== undefined) {
    if (patch.error !== null && typeof patch.error !== 'string') throw invalid('"error" expected a string or null')
    set.error = patch.error
  }
  return set
}

/**
 * A row as a `Charge`. `parseJson` is false where the driver already parsed JSON columns (`pg`
 * does for `json`); SQLite hands back the text.
 */
export function toCharge(row: Selectable<ChargesTable>, parseJson: boolean): Charge {
  const json = parseJson ? (v: unknown) => (v === null ? null : JSON.parse(v as string)) : (v: unknown) => v
  return {
    id: row.id,
    requestKey: row.request_key,
    proofKey: row.proof_key,
    caller: row.caller,
    resource: row.resource,
    amount: String(row.amount),
    asset: row.asset,
    network: row.network,
    rail: row.rail,
    status: row.status,
    proof: json(row.proof),
    receipt: json(row.receipt),
    result: json(row.result),
    error: row.error,
    createdAt: iso(row.created_at),
    updatedAt: iso(row.updated_at),
  }
}

/** SQLite stores the ISO string itself; `pg` reads `timestamptz` as a `Date`. */
const iso = (value: string | Date): string => (typeof value === 'string' ? value : value.toISOString())

function proofKeyOf(value: unknown): string | null {
  return value === undefined || value === null ? null : requireText(value, 'proofKey')
}

/** JSON text, or SQL NULL for `undefined`/`null`. */
function encode(value: unknown, name: string): string | null {
  if (value === undefined || value === null) return null
  let json: string | undefined
  try {
    json = JSON.stringify(value)
  } catch (err) {
    throw new AgoraError('INVALID_PARAMS', `"${name}" is not JSON-serializable`, { cause: err })
  }
  if (json === undefined) throw invalid(`"${name}" is not JSON-serializable`)
  return json
}
