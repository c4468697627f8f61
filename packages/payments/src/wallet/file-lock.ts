import { closeSync, openSync, rmSync, statSync, writeSync } from 'node:fs'
import { setTimeout as sleep } from 'node:timers/promises'
import { AgoraError } from '@agora/core/errors'

export interface FileLockOptions {
  /** Longest wait for the lock before `CONFLICT`. Default 10 s. */
  timeoutMs?: number | undefined
  /** A lock file older than this is taken over (its holder died). Default 30 s. */
  staleMs?: number | undefined
}

/** In this process, holders of the same lock queue up here before touching the file. */
const queues = new Map<string, Promise<unknown>>()

/**
 * Runs `fn` while holding `<path>.lock`: one holder at a time across threads of this process and
 * across processes (the lock file is created exclusively, and taken over when stale).
 *
 * @example
 * ```ts
 * await withFileLock('/home/ada/.agora/payments.jsonl', async () => {
 *   // read the record, decide, append
 * })
 * ```
 */
export function withFileLock<T>(path: string, fn: () => Promise<T>, options: FileLockOptions = {}): Promise<T> {
  const previous = queues.get(path) ?? Promise.resolve()
  const run = previous.catch(() => {}).then(() => holdFile(`${path}.lock`, fn, options))
  const tail = run.catch(() => {})
  queues.set(path, tail)
  void tail.then(() => {
    if (queues.get(path) === tail) queues.delete(path)
  })
  return run
}

async function holdFile<T>(lock: string, fn: () => Promise<T>, options: FileLockOptions): Promise<T> {
  const timeoutMs = options.timeoutMs ?? 10_000
  const staleMs = options.staleMs ?? 30_000
  const deadline = Date.now() + timeoutMs
  let fd: number | undefined
  while (fd === undefined) {
    try {
      fd = openSync(lock, 'wx', 0o600)
      writeSync(fd, `${process.pid}\n`)
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
      let age = 0
      try {
        age = Date.now() - statSync(lock).mtimeMs
      } catch {
        continue // released meanwhile
      }
      if (age > staleMs) {
        rmSync(lock, { force: true })
        continue
      }
      if (Date.now() > deadline) {
        throw new AgoraError('CONFLICT', `${lock} is held by another process (for ${Math.round(age / 1000)} s); try again`)
      }
      await sleep(20)
    }
  }
  try {
    return await fn()
  } finally {
    closeSync(fd)
    rmSync(lock, { force: true })
  }
}
