import type { AgoraError } from '@agora/core/errors'

/** A mistake in how the command was invoked (bad flag value, malformed JSON). Exits with code 2. */
export class UsageError extends Error {
  override name = 'UsageError'
}

/** Exit codes: 0 success, 1 failure (connection, server error, tool error), 2 usage error. */
export const EXIT = { ok: 0, failure: 1, usage: 2 } as const

/**
 * Prints one line explaining `err` on stderr and returns the exit code. Never prints a stack trace,
 * except for unexpected errors when `AGORA_DEBUG` is set.
 */
export function reportError(err: unknown): number {
  if (err instanceof UsageError) {
    process.stderr.write(`agora: ${err.message}\n`)
    return EXIT.usage
  }
  if (isAgoraError(err)) {
    const rpc = err.data?.rpcCode
    const detail = typeof rpc === 'number' ? ` (${err.code}, JSON-RPC ${rpc})` : ''
    process.stderr.write(`agora: ${firstLine(err.message)}${detail}\n`)
    return EXIT.failure
  }
  const message = err instanceof Error ? err.message : String(err)
  process.stderr.write(`agora: ${firstLine(message)}\n`)
  if (process.env.AGORA_DEBUG && err instanceof Error) process.stderr.write(`${err.stack}\n`)
  return EXIT.failure
}

const firstLine = (text: string) => text.split('\n')[0] ?? ''

/** As `isAgoraError` in core, kept here so a bare `agora --help` does not load core. */
const isAgoraError = (err: unknown): err is AgoraError =>
  err instanceof Error && err.name === 'AgoraError' && typeof (err as AgoraError).toWireData === 'function'
