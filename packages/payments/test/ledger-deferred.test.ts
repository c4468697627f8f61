import { mkdtempSync, rmSync } from 'node:fs'
import { open as openFile } from 'node:fs/promises'
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

/** Records every completed `FileHandle.datasync()` of this process (the deferred syncs use it) while `fn` runs. */
async function countingSyncs<T>(fn: (syncs: () => number) => Promise<T>): Promise<T> {
  const probe = await openFile(join(dir, 'probe'), 'w')
  const proto = Object.getPrototypeOf(probe) as { datasync: () => Promise<void> }
  await probe.close()
  const original = proto.datasync
  let count = 0
  proto.datasync = async function (this: unknown) {
    await original.call(this)
    count++
  }
  try {
    return await fn(() => count)
  } finally {
    proto.datasync = original
  }
}

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

  it('durable: commits with NORMAL, then resolves once a sync of the WAL on the thread pool is done', async () => {
    const { db, path } = walDatabase()
    const deferred = deferredWrites(db, `${path}-wal`)
    const insert = db.prepare('insert into t values (?, ?) returning k')
    await countingSyncs(async (syncs) => {
      let during = 0
      const written = deferred.durable(() => {
        during = synchronous(db)
        return insert.all('a', '1')
      })
      // The statement ran (and committed) before durable() returned; the wait for the disk did not.
      expect(during).toBe(NORMAL)
      expect(synchronous(db)).toBe(FULL)
      expect(db.prepare('select v from t where k = ?').get('a')).toEqual({ v: '1' })
      expect(syncs()).toBe(0)
      expect(await written).toEqual([{ k: 'a' }])
      expect(syncs()).toBe(1)
      // Writes made while a sync runs share the next one; each resolves only after a sync that covers it.
      const writes = ['b', 'c', 'd'].map((k) => deferred.durable(() => insert.all(k, '1')))
      await Promise.all(writes)
      expect(syncs()).toBeGreaterThanOrEqual(2)
      expect(syncs()).toBeLessThanOrEqual(3)
    })
    await deferred.close()
  })

  it('durable: rejects with INTERNAL when the sync fails, then commits with FULL', async () => {
    const { db } = walDatabase()
    const deferred = deferredWrites(db, join(dir, 'no-such-dir', 'db-wal'))
    const insert = db.prepare('insert into t values (?, ?)')
    const err = await deferred.durable(() => insert.run('x', '1')).catch((e: unknown) => e)
    expect(err).toMatchObject({ name: 'AgoraError', code: 'INTERNAL' })
    expect((err as Error).message).toMatch(/may not have reached the disk/)
    // Committed all the same; from now on writes commit with FULL (on disk when they return).
    expect(db.prepare('select count(*) as n from t').get()).toEqual({ n: 1 })
    expect(await deferred.durable(() => synchronous(db))).toBe(FULL)
    expect(await deferred.close().catch((e: unknown) => (e as { code?: string }).code)).toBe('INTERNAL')
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
