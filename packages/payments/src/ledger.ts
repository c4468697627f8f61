/**
 * The charge ledger: the persistent record of every charge. A charge is written before any money
 * moves, and each status change is a compare-and-set, so concurrent requests and restarts can
 * never charge twice.
 *
 * ```
 * quoted → pending → authorized → settled
 *                 ↘            ↘ failed
 *                  failed       (settled → refunded)
 * ```
 */

export type ChargeStatus = 'quoted' | 'pending' | 'authorized' | 'settled' | 'failed' | 'refunded'

export interface Charge {
  id: string
  /** Identifies the request being paid (idempotency): retries of one request share it. */
  requestKey: string
  /** Identifies the payment proof (rail `proofKey`); unique, so one authorization backs one charge. */
  proofKey: string | null
  caller: string
  /** `mcp://tool/<name>` etc. */
  resource: string
  /** Atomic units, decimal string. */
  amount: string
  asset: string
  network: string
  rail: string
  status: ChargeStatus
  /** The payment payload (JSON). */
  proof: unknown
  /** The settlement receipt (JSON). */
  receipt: unknown
  /** The handler result, stored at settlement so a retry with the same proof gets it back. */
  result: unknown
  error: string | null
  createdAt: string
  updatedAt: string
}

export type NewCharge = Pick<Charge, 'requestKey' | 'caller' | 'resource' | 'amount' | 'asset' | 'network' | 'rail'> & {
  status?: ChargeStatus
  proofKey?: string | null
  proof?: unknown
  /** The handler's output, when the charge is first written after the handler ran. */
  result?: unknown
}

export interface ChargePatch {
  proofKey?: string | null
  proof?: unknown
  receipt?: unknown
  result?: unknown
  error?: string | null
}

export interface ChargeQuery {
  caller?: string
  status?: ChargeStatus
  resource?: string
  limit?: number
}

export interface ChargeLedger {
  /**
   * Inserts a charge. Throws `AgoraError('CONFLICT')` with `data.existing` (the stored charge) when
   * its `proofKey` is already used by another charge.
   */
  create(charge: NewCharge): Promise<Charge>
  get(id: string): Promise<Charge | undefined>
  findByProofKey(proofKey: string): Promise<Charge | undefined>
  /**
   * Moves a charge to `to` only if its status is one of `from` (compare-and-set), applying `patch`.
   * Throws `AgoraError('CONFLICT')` when the charge is in another status (someone else moved it).
   */
  transition(id: string, from: readonly ChargeStatus[], to: ChargeStatus, patch?: ChargePatch): Promise<Charge>
  list(query?: ChargeQuery): Promise<Charge[]>
  close(): Promise<void>
}
