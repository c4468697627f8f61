/**
 * Off-thread durability for a SQLite file in WAL mode whose commits are otherwise
 * `synchronous=FULL`. SQLite has no per-statement durability, no group commit and no asynchronous
 * fsync, so this does it by hand: a write commits with `synchronous=NORMAL` (its WAL frames are
 * written to the file, which survives a crash of the process, but not yet synced), then an
 * `fdatasync` of the WAL file, on libuv's thread pool, takes them to the disk without blocking the
 * event loop. That is what a `FULL` commit does, minus the wait on the main thread:
 * - `durable` (a ledger `sync` write) starts the sync at once and resolves when it is done, so the
 *   event loop runs other work (a facilitator round trip, other requests) meanwhile, and sync
 *   writes made while a sync runs share the next one;
 * - `run` (a ledger `deferred` write) does not wait: its sync starts when the current turn of the
 *   event loop ends, and writes deferred until then share it.
 * A `FULL` commit syncs the same WAL file, so one made in the meantime covers them all.
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
   * Runs `write` like `run`, and resolves with its result once it is on disk. The statement runs
   * (and commits) before this returns; only the wait for the disk is asynchronous. Rejects with
   * `INTERNAL` when the sync failed: the write is committed but may not survive a power cut.
   */
  durable<T>(write: () => T): Promise<T>
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
 * const rows = await deferred.durable(() => insert.all(...params)) // resolves once on disk
 * await deferred.close()
 * ```
 */
export function deferredWrites(database: DatabaseSync, walPath: string): DeferredWrites {
  let file: Promise<FileHandle> | undefined
  let syncing: Promise<void> | undefined
  let dirty = false
  /** Writes committed with NORMAL so far, and how many of them a completed sync covers. */
  let written = 0
  let onDisk = 0
  /** A sync that failed: from then on writes commit with FULL, and `close()` reports it. */
  let failure: unknown

  async function syncLoop(): Promise<void> {
    try {
      while (dirty) {
        dirty = false
        const upTo = written
        file ??= open(walPath, 'r')
        await (await file).datasync()
        onDisk = Math.max(onDisk, upTo)
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

  /** Commits `write` with NORMAL and counts it; with FULL (on disk when it returns) after a failed sync. */
  function commit<T>(write: () => T): { result: T; seq: number } {
    if (failure !== undefined) return { result: write(), seq: 0 }
    // `exec`, not a prepared statement: SQLite applies this PRAGMA when it compiles it.
    database.exec('PRAGMA synchronous = NORMAL')
    let result: T
    try {
      result = write()
    } finally {
      database.exec('PRAGMA synchronous = FULL')
    }
    dirty = true
    return { result, seq: ++written }
  }

  return {
    run(write) {
      const wasDirty = dirty
      const { result, seq } = commit(write)
      // Start the sync once this turn of the event loop is done, not in the middle of the caller's
      // work: handing it to the thread pool costs the main thread ~0.1 ms on a busy machine.
      if (seq > 0 && !wasDirty) setImmediate(flush)
      return result
    },
    async durable(write) {
      const { result, seq } = commit(write)
      // The caller waits for this one: start it now (or let the running sync loop take it next).
      while (onDisk < seq) {
        if (failure !== undefined) {
          throw new AgoraError('INTERNAL', `ledger: a write may not have reached the disk: ${(failure as Error).message}`, {
            cause: failure,
          })
        }
        await flush()
      }
      return result
    },
    synced() {
      dirty = false
      onDisk = written
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
