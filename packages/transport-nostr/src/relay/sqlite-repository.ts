import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import { DatabaseSync, type SQLInputValue } from 'node:sqlite'
import type { Event, EventRepositoryUpsertResult, Filter } from '@nostr-relay/common'
import { EventRepository } from '@nostr-relay/common'
import { matchFilter } from 'nostr-tools/filter'
import { deletionTargets, isExpired, isNewer, slotOf } from './event-kinds.ts'
import { DEFAULT_QUERY_LIMIT, newestFirst } from './memory-repository.ts'

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS events (
    id TEXT PRIMARY KEY,
    pubkey TEXT NOT NULL,
    kind INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    slot TEXT UNIQUE,
    event TEXT NOT NULL
  );
  CREATE INDEX IF NOT EXISTS events_kind_time ON events (kind, created_at);
  CREATE INDEX IF NOT EXISTS events_author_time ON events (pubkey, created_at);
`

/**
 * A persistent event store for `@nostr-relay/core` on Node's built-in `node:sqlite` (no native
 * build, unlike the published `better-sqlite3` repository). Columns index what filters select
 * on; tag filters are matched in JavaScript with nostr-tools.
 *
 * @example
 * ```ts
 * const relay = new NostrRelay(new SqliteEventRepository('relay.db'))
 * ```
 */
export class SqliteEventRepository extends EventRepository {
  readonly #db: DatabaseSync

  constructor(filename: string) {
    super()
    if (filename !== ':memory:') mkdirSync(dirname(filename), { recursive: true })
    this.#db = new DatabaseSync(filename)
    this.#db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;')
    this.#db.exec(SCHEMA)
  }

  isSearchSupported(): boolean {
    return false
  }

  upsert(event: Event): EventRepositoryUpsertResult {
    const slot = slotOf(event) ?? null
    this.#db.exec('BEGIN IMMEDIATE')
    try {
      if (this.#db.prepare('SELECT 1 FROM events WHERE id = ?').get(event.id)) {
        this.#db.exec('ROLLBACK')
        return { isDuplicate: true }
      }
      if (slot !== null) {
        const row = this.#db.prepare('SELECT event FROM events WHERE slot = ?').get(slot) as { event: string } | undefined
        if (row) {
          const current = JSON.parse(row.event) as Event
          if (!isNewer(event, current)) {
            this.#db.exec('ROLLBACK')
            return { isDuplicate: true }
          }
          this.#db.prepare('DELETE FROM events WHERE slot = ?').run(slot)
        }
      }
      this.#db
        .prepare('INSERT INTO events (id, pubkey, kind, created_at, slot, event) VALUES (?, ?, ?, ?, ?, ?)')
        .run(event.id, event.pubkey, event.kind, event.created_at, slot, JSON.stringify(event))
      this.#db.exec('COMMIT')
      return { isDuplicate: false }
    } catch (err) {
      this.#db.exec('ROLLBACK')
      throw err
    }
  }

  find(filter: Filter): Event[] {
    const where: string[] = []
    const params: SQLInputValue[] = []
    const inList = (column: string, values: readonly (string | number)[] | undefined) => {
      if (!values) return
      where.push(values.length === 0 ? '0' : `${column} IN (${values.map(() => '?').join(', ')})`)
      params.push(...values)
    }
    inList('id', filter.ids)
    inList('pubkey', filter.authors)
    inList('kind', filter.kinds)
    if (filter.since !== undefined) {
      where.push('created_at >= ?')
      params.push(filter.since)
    }
    if (filter.until !== undefined) {
      where.push('created_at <= ?')
      params.push(filter.until)
    }
    const limit = filter.limit ?? DEFAULT_QUERY_LIMIT
    const byTags = Object.keys(filter).some((k) => k.startsWith('#'))
    // Tag filters are applied after the query, so the SQL limit only applies without them.
    const sql = `SELECT event FROM events${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY created_at DESC${byTags ? '' : ` LIMIT ${Number(limit) + 0}`}`
    const rows = this.#db.prepare(sql).all(...params) as { event: string }[]
    const now = Math.floor(Date.now() / 1000)
    const events: Event[] = []
    for (const row of rows) {
      const event = JSON.parse(row.event) as Event
      if (!isExpired(event, now) && matchFilter(filter as never, event as never)) events.push(event)
    }
    return newestFirst(events, filter)
  }

  override async deleteByDeletionRequest(deletion: Event): Promise<void> {
    const { ids, addresses } = deletionTargets(deletion)
    for (const id of ids) this.#db.prepare('DELETE FROM events WHERE id = ? AND pubkey = ?').run(id, deletion.pubkey)
    for (const address of addresses) this.#db.prepare('DELETE FROM events WHERE slot = ?').run(address)
  }

  async destroy(): Promise<void> {
    this.#db.close()
  }
}
