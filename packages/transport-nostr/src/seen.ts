/**
 * Remembers event ids for a while, to drop an event delivered twice (by two relays, by a
 * re-subscription that overlaps, or replayed by someone). Bounded in time and in count: the oldest
 * ids go first.
 *
 * @example
 * ```ts
 * const seen = new SeenIds({ ttlMs: 600_000 })
 * seen.add(event.id) // true the first time, false after
 * ```
 */
export class SeenIds {
  readonly #ttlMs: number
  readonly #max: number
  /** id → time added (ms); a Map keeps insertion order, so the oldest come first. */
  readonly #ids = new Map<string, number>()

  constructor(options: { ttlMs: number; max?: number | undefined }) {
    this.#ttlMs = options.ttlMs
    this.#max = options.max ?? 100_000
  }

  /** Records `id`; false when it was already seen (and not yet forgotten). */
  add(id: string, now = Date.now()): boolean {
    this.#prune(now)
    if (this.#ids.has(id)) return false
    this.#ids.set(id, now)
    return true
  }

  has(id: string): boolean {
    return this.#ids.has(id)
  }

  get size(): number {
    return this.#ids.size
  }

  #prune(now: number): void {
    for (const [id, at] of this.#ids) {
      if (this.#ids.size <= this.#max && now - at < this.#ttlMs) break
      this.#ids.delete(id)
    }
  }
}
