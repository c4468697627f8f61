import { AgoraError } from './errors.ts'

/**
 * Settles as `promise` does, or rejects with `CANCELLED` ("<what> was cancelled") as soon as
 * `signal` aborts; the promise itself is left to finish. Without a signal, `promise` as it is.
 *
 * @example
 * ```ts
 * const turn = await untilAborted(previous, AbortSignal.timeout(1000), 'waiting for the earlier call')
 * ```
 */
export function untilAborted<T>(promise: Promise<T>, signal: AbortSignal | undefined, what = 'the call'): Promise<T> {
  if (!signal) return promise
  const cancelled = () => new AgoraError('CANCELLED', `${what} was cancelled`, { cause: signal.reason })
  if (signal.aborted) return Promise.reject(cancelled())
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(cancelled())
    signal.addEventListener('abort', onAbort, { once: true })
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort)
        resolve(value)
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort)
        reject(err)
      },
    )
  })
}
