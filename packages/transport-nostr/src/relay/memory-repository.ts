import type { Event, EventRepositoryUpsertResult, Filter } from '@nostr-relay/common'
import { EventRepository } from '@nostr-relay/common'
import { matchFilter } from 'nostr-tools/filter'
import { deletionTargets, dTagOf, isExpired, isNewer, slotOf } from './event-kinds.ts'

/** Events returned for a filter without `limit`. */
export const DEFAULT_QUERY_LIMIT = 500

/**
 * Sorts newest first and applies the limit, as NIP-01 asks of the initial answer to a `REQ`.
 * Shared by the repositories.
 */
export function newestFirst(events: Iterable<Event>, filter: Filter): Event[] {
  const sorted = [...events].sort((a, b) => b.created_at - a.created_at || (a.id < b.id ? -1 : 1))
  return sorted.slice(0, filter.limit ?? DEFAULT_QUERY_LIMIT)
}

/**
 * An in-memory event store for `@nostr-relay/core`, so the embedded relay needs no native build
 * (the published SQLite repository uses `better-sqlite3`, which compiles from source here).
 * Written by hand because `@nostr-relay` ships no memory store; filter matching is nostr-tools'.
 *
 * @example
 * ```ts
 * const relay = new NostrRelay(new MemoryEventRepository())
 * ```
 */
export class MemoryEventRepository extends EventRepository {
  readonly #byId = new Map<string, Event>()
  /** Replaceable and addressable events: slot → the newest event's id. */
  readonly #slots = new Map<string, string>()

  isSearchSupported(): boolean {
    return false
  }

  upsert(event: Event): EventRepositoryUpsertResult {
    if (this.#byId.has(event.id)) return { isDuplicate: true }
    const slot = slotOf(event)
    if (slot !== undefined) {
      const currentId = this.#slots.get(slot)
      const current = currentId === undefined ? undefined : this.#byId.get(currentId)
      if (current && !isNewer(event, current)) return { isDuplicate: true }
      if (current) this.#byId.delete(current.id)
      this.#slots.set(slot, event.id)
    }
    this.#byId.set(event.id, event)
    return { isDuplicate: false }
  }

  find(filter: Filter): Event[] {
    const candidates = filter.ids
      ? filter.ids.map((id) => this.#byId.get(id)).filter((e) => e !== undefined)
      : this.#byId.values()
    const now = Math.floor(Date.now() / 1000)
    const matching: Event[] = []
    for (const event of candidates) {
      if (!isExpired(event, now) && matchFilter(filter as never, event as never)) matching.push(event)
    }
    return newestFirst(matching, filter)
  }

  override async deleteByDeletionRequest(deletion: Event): Promise<void> {
    const { ids, addresses } = deletionTargets(deletion)
    for (const id of ids) {
      const event = this.#byId.get(id)
      if (event && event.pubkey === deletion.pubkey) this.#remove(event)
    }
    for (const address of addresses) {
      const [kind, pubkey] = address.split(':')
      const d = address.split(':').slice(2).join(':')
      for (const event of this.#byId.values()) {
        if (String(event.kind) === kind && event.pubkey === pubkey && dTagOf(event) === d) this.#remove(event)
      }
    }
  }

  async destroy(): Promise<void> {
    this.#byId.clear()
    this.#slots.clear()
  }

  #remove(event: Event): void {
    this.#byId.delete(event.id)
    const slot = slotOf(event)
    if (slot !== undefined && this.#slots.get(slot) === event.id) this.#slots.delete(slot)
  }
}
