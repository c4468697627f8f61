import { AgoraError } from '@agora/core/errors'

/** Throws `CANCELLED` when `signal` has aborted. */
export function throwIfCancelled(signal: AbortSignal | undefined, what: string): void {
  if (signal?.aborted) throw new AgoraError('CANCELLED', `${what} was cancelled`, { cause: signal.reason })
}
