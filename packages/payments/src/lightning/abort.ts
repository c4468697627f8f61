import { AgoraError } from '@agora/core/errors'

/** Throws `CANCELLED` when `signal` has aborted. */
export function throwIfCancelled(signal: AbortSignal | undefined, what: string): void {
  if (signal?.aborted) throw new AgoraError('CANCELLED', `${what} was cancelled`, { cause: signal.reason })
}

/**
 * Resolves as `promise` does, or rejects with `CANCELLED` as soon as `signal` aborts (the promise
 * itself is left to finish).
 */
export function untilAborted<T>(promise: Promise<T>, signal: AbortSignal, what = 'the call'): Promise<T> {
  if (signal.aborted) return Promise.reject(new AgoraError('CANCELLED', `${what} was cancelled`, { cause: signal.reason }))
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new AgoraError('CANCELLED', `${what} was cancelled`, { cause: signal.reason }))
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
