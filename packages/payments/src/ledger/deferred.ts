/**
 * `deferred` writes on a SQLite file in WAL mode whose commits are otherwise `synchronous=FULL`.
 * SQLite has no per-statement durability and no group commit, so this does it by hand: the write
 * commits with `synchronous=NORMAL` (its WAL frames are written to the file, which survives a crash
 * of the process, but not yet synced), then a background `fdatasync` of the WAL file, on libuv's
 * thread pool, takes them to the disk without holding up the call. It starts when the current
 * turn of the event loop ends, and writes deferred until then share it. A `FULL` commit syncs the
 * same WAL file, so one made in the meantime covers them and the background sync is skipped.
 *
 * The WAL file is opened read-only, kept open while the ledger is (SQLite never deletes the WAL of
 * a database one of its connections has open, and never locks the WAL file, so this descriptor
 * cannot disturb it), and closed by `close()` after the last sync.
 */
import type { FileHandle } from 'node:fs/promises'
import { open } from 'node:fs/promises'
import type { DatabaseSync } from 'node:sqlite'
import { AgoraError } from '@agora/core/errors'

export interface DeferredWrites {
  /** Runs `write` (one statement: one commit) with `synchronous=NORMAL`, then starts a background sync. */
  run<T>(write: () => T): T
  /**
   * Tells that a `synchronous=FULL` commit just completed on this connection: its fsync of the WAL
   * took every earlier deferred write to the disk, so a background sync not started yet is dropped.
   */
  synced(): void
  /** Resolves once every write deferred so far is on disk. */
  flush(): Promise<void>
  /** Flushes, then closes the WAL file. Rejects with `INTERNAL` when a sync failed. */
  close(): Promise<void>
}

/**
 * @example
 * ```ts
 * const deferred = deferredWrites(database, '/var/lib/agora/charges.db-wal')
 * deferred.run(() => update.all(...params)) // returns once committed, synced in the background
 * await deferred.close()
 * ```
 */
export function deferredWrites(database: DatabaseSync, walPath: string): DeferredWrites {
  let file: Promise<FileHandle> | undefined
  let syncing: Promise<void> | undefined
  let dirty = false
  /** A sync that failed: from then on `run` commits with FULL, and `close()` reports it. */
  let failure: unknown

  async function syncLoop(): Promise<void> {
    try {
      while (dirty) {
        dirty = false
        file ??= open(walPath, 'r')
        await (await file).datasync()
      }
    } catch (err) {
      failure ??= err
    } finally {
      syncing = undefined
    }
  }

  function flush(): Promise<void> {
    if (!syncing && dirty && failure === undefined) syncing = syncLoop()
    return syncing ?? Promise.resolve()
  }

  return {
    run(write) {
      if (failure !== undefined) return write()
      // `exec`, not a prepared statement: SQLite applies this PRAGMA when it compiles it.
      database.exec('PRAGMA synchronous = NORMAL')
      let result: ReturnType<typeof write>
      try {
        result = write()
      } finally {
        database.exec('PRAGMA synchronous = FULL')
      }
      // Start the sync once this turn of the event loop is done, not in the middle of the caller's
      // work: handing it to the thread pool costs the main thread ~0.1 ms on a busy machine.
      if (!dirty) setImmediate(flush)
      dirty = true
      return result
    },
    synced() {
      dirty = false
    },
    flush,
    async close() {
      await flush()
      const handle = file
      file = undefined
      await (await handle?.catch(() => undefined))?.close()
      if (failure !== undefined) {
        throw new AgoraError('INTERNAL', `ledger: deferred writes may not have reached the disk: ${(failure as Error).message}`, {
          cause: failure,
        })
      }
    },
  }
}
