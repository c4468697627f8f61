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
 *
 * The payment engine also takes a `failed` charge back to `pending` when a retry of the same
 * request may use its authorization (verify was unavailable, or the handler failed: nothing
 * moved), and records a `pending` charge as `settled` when crash recovery finds its money moved.
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

/** Options every ledger call takes. */
export interface LedgerCallOptions {
  /**
   * Cancels the call: an aborted signal rejects it with `CANCELLED`. A write is only cancelled
   * before it starts (then nothing is written); once sent to the database it completes.
   */
  signal?: AbortSignal | undefined
}

/**
 * How durable a write is when the call returns:
 * - `sync` (default): on disk: it survives a crash of the process and of the machine (power loss).
 *   The SQLite ledger waits for the disk off the main thread (its fsync runs on libuv's thread
 *   pool), so other work of the process, e.g. a `verify` round trip started alongside, runs
 *   meanwhile, and sync writes made at the same time share one fsync.
 * - `deferred`: it survives a crash of the process at once, and a crash of the machine once it
 *   reaches the disk: the SQLite ledger syncs it in the background right after the call (and any
 *   later `sync` write covers it). For records that are safe to lose in a power cut because
 *   recovery rebuilds them, e.g. a settlement the chain already holds. PostgreSQL writes are
 *   always `sync`.
 *
 * @example
 * ```ts
 * const charge = await ledger.create(draft, { signal }) // on disk before money moves
 * await ledger.transition(charge.id, ['pending'], 'authorized', { result }, { durability: 'deferred' })
 * const outcome = await rail.settle(proof, requirements)
 * await ledger.transition(charge.id, ['authorized'], 'settled', { receipt }, { durability: 'deferred' })
 * ```
 */
export type LedgerDurability = 'sync' | 'deferred'

/** Options of a ledger write. */
export interface LedgerWriteOptions extends LedgerCallOptions {
  /** Default `sync`; see {@link LedgerDurability}. */
  durability?: LedgerDurability | undefined
}

export interface ChargeLedger {
  /**
   * Inserts a charge. Throws `AgoraError('CONFLICT')` with `data.existing` (the stored charge) when
   * its `proofKey` is already used by another charge.
   */
  create(charge: NewCharge, options?: LedgerWriteOptions): Promise<Charge>
  get(id: string, options?: LedgerCallOptions): Promise<Charge | undefined>
  findByProofKey(proofKey: string, options?: LedgerCallOptions): Promise<Charge | undefined>
  /**
   * Moves a charge to `to` only if its status is one of `from` (compare-and-set), applying `patch`.
   * Throws `AgoraError('CONFLICT')` when the charge is in another status (someone else moved it).
   */
  transition(
    id: string,
    from: readonly ChargeStatus[],
    to: ChargeStatus,
    patch?: ChargePatch,
    options?: LedgerWriteOptions,
  ): Promise<Charge>
  /**
   * The same compare-and-set as {@link ChargeLedger.transition}, without reading the charge back:
   * for callers that already hold what they need, such as the payment engine on a paid call
   * (reading the row back costs about as much as a third of the write on SQLite).
   *
   * @example
   * ```ts
   * await ledger.move(charge.id, ['authorized'], 'settled', { receipt }, { durability: 'deferred' })
   * ```
   */
  move(
    id: string,
    from: readonly ChargeStatus[],
    to: ChargeStatus,
    patch?: ChargePatch,
    options?: LedgerWriteOptions,
  ): Promise<void>
  list(query?: ChargeQuery, options?: LedgerCallOptions): Promise<Charge[]>
  /** Closes the database, after every `deferred` write has reached the disk. */
  close(): Promise<void>
}
