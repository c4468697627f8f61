import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DatabaseSync } from 'node:sqlite'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { deferredWrites } from '../src/ledger/deferred.ts'

const dir = mkdtempSync(join(tmpdir(), 'agora-deferred-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
const open: DatabaseSync[] = []
afterEach(() => {
  for (const db of open.splice(0)) if (db.isOpen) db.close()
})

let files = 0
/** A WAL database with synchronous=FULL, as the SQLite ledger opens it. */
function walDatabase(): { db: DatabaseSync; path: string } {
  const path = join(dir, `db-${++files}.sqlite`)
  const db = new DatabaseSync(path)
  open.push(db)
  db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL')
  db.exec('create table t (k text primary key, v text)')
  return { db, path }
}
const synchronous = (db: DatabaseSync) => (db.prepare('PRAGMA synchronous').get() as { synchronous: number }).synchronous
const FULL = 2
const NORMAL = 1

describe('deferred SQLite writes', () => {
  it('commit with synchronous=NORMAL, visible to other connections at once, and put FULL back', async () => {
    const { db, path } = walDatabase()
    const deferred = deferredWrites(db, `${path}-wal`)
    const insert = db.prepare('insert into t values (?, ?) returning k')
    const during = deferred.run(() => {
      insert.all('a', '1')
      return synchronous(db)
    })
    expect(during).toBe(NORMAL)
    expect(synchronous(db)).toBe(FULL)
    const other = new DatabaseSync(path)
    open.push(other)
    expect(other.prepare('select v from t where k = ?').get('a')).toEqual({ v: '1' })
    // A write that fails (a duplicate key) also leaves FULL behind, and commits nothing.
    expect(() => deferred.run(() => insert.all('a', '2'))).toThrow(/UNIQUE/)
    expect(synchronous(db)).toBe(FULL)
    await deferred.flush()
    await deferred.close()
    expect(other.prepare('select count(*) as n from t').get()).toEqual({ n: 1 })
  })

  it('many writes in one turn of the event loop share the background sync, which close() waits for', async () => {
    const { db, path } = walDatabase()
    const deferred = deferredWrites(db, `${path}-wal`)
    const insert = db.prepare('insert into t values (?, ?)')
    for (let i = 0; i < 50; i++) deferred.run(() => insert.run(`k${i}`, 'v'))
    await deferred.close()
    expect(db.prepare('select count(*) as n from t').get()).toEqual({ n: 50 })
  })

  it('skips the background sync when a FULL commit came first (it synced the same WAL file)', async () => {
    const { db } = walDatabase()
    // Were a sync attempted, it would fail on this path, and close() would say so.
    const deferred = deferredWrites(db, join(dir, 'no-such-dir', 'db-wal'))
    const insert = db.prepare('insert into t values (?, ?)')
    deferred.run(() => insert.run('a', '1'))
    insert.run('b', '2') // synchronous=FULL: fsyncs the WAL, the deferred frames included
    deferred.synced()
    await new Promise((resolve) => setImmediate(resolve))
    await deferred.close()
  })

  it('after a failed sync, commits with FULL again and close() reports it', async () => {
    const { db } = walDatabase()
    // A WAL file that cannot be opened: the background sync fails.
    const deferred = deferredWrites(db, join(dir, 'no-such-dir', 'db-wal'))
    deferred.run(() => db.prepare('insert into t values (?, ?)').run('x', '1'))
    await new Promise((resolve) => setImmediate(resolve))
    await deferred.flush()
    expect(deferred.run(() => synchronous(db))).toBe(FULL)
    const err = await deferred.close().catch((e: unknown) => e)
    expect(err).toMatchObject({ name: 'AgoraError', code: 'INTERNAL' })
    expect((err as Error).message).toMatch(/may not have reached the disk/)
  })
})
