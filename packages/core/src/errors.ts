/**
 * One error base class for all of Agora, with stable string codes (what callers match on)
 * and a mapping to the JSON-RPC error code that goes on the wire.
 *
 * @example
 * ```ts
 * import { AgoraError } from '@agora/core'
 * try { await run() } catch (err) {
 *   if (err instanceof AgoraError && err.code === 'RATE_LIMITED') console.log(err.data)
 * }
 * ```
 */

/** Stable, machine-readable error codes. Never renamed once shipped. */
export type AgoraErrorCode =
  | 'INVALID_PARAMS'
  | 'NOT_FOUND'
  | 'UNAUTHENTICATED'
  | 'FORBIDDEN'
  | 'RATE_LIMITED'
  | 'PAYMENT_REQUIRED'
  | 'PAYMENT_UNAVAILABLE'
  | 'TIMEOUT'
  | 'CANCELLED'
  | 'TOOL_ERROR'
  | 'INTERNAL'
  | 'CONFIG'
  | 'MODULE_LOAD'
  | 'TARGET'
  | 'CONNECTION'
  | 'CONFLICT'

/**
 * JSON-RPC codes on the wire. Standard codes where one fits; Agora's own codes sit outside the
 * reserved -32768..-32000 range as spec 2026-07-28 asks (SEP-2009's -32803 is the one exception,
 * kept because that document defines it).
 */
export const WIRE_CODES: Readonly<Record<AgoraErrorCode, number>> = {
  INVALID_PARAMS: -32602,
  NOT_FOUND: -32602,
  UNAUTHENTICATED: -31401,
  FORBIDDEN: -31403,
  RATE_LIMITED: -31429,
  PAYMENT_REQUIRED: -32803,
  PAYMENT_UNAVAILABLE: -31402,
  TIMEOUT: -31408,
  CANCELLED: -31499,
  TOOL_ERROR: -31500,
  INTERNAL: -32603,
  CONFIG: -32603,
  MODULE_LOAD: -32603,
  TARGET: -32602,
  CONNECTION: -32603,
  CONFLICT: -31409,
}

export interface AgoraErrorOptions {
  /** Structured details that travel with the error (and into JSON-RPC `error.data`). */
  data?: Record<string, unknown> | undefined
  /** The underlying error, kept for logs; never sent to a remote caller. */
  cause?: unknown
}

/** The base class of every error Agora throws on purpose. Match on `code`, not on the message. */
export class AgoraError extends Error {
  override name = 'AgoraError'
  readonly code: AgoraErrorCode
  readonly data: Record<string, unknown> | undefined

  constructor(code: AgoraErrorCode, message: string, options: AgoraErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.code = code
    this.data = options.data
  }

  /** The JSON-RPC error code this error is sent as. */
  get wireCode(): number {
    return WIRE_CODES[this.code]
  }

  /** The JSON-RPC `error.data` object: the stable code plus any details. */
  toWireData(): Record<string, unknown> {
    return { code: this.code, ...this.data }
  }
}

/** True for an {@link AgoraError}, also across duplicated package copies (matches on `name`). */
export function isAgoraError(err: unknown): err is AgoraError {
  return (
    err instanceof AgoraError ||
    (err instanceof Error && err.name === 'AgoraError' && typeof (err as AgoraError).toWireData === 'function')
  )
}

/**
 * Throw this from a tool handler to report a failure to the caller as an `isError` result with
 * exactly this message (any other thrown error is reported by its message alone, never its stack).
 */
export class ToolError extends AgoraError {
  override name = 'AgoraError'
  constructor(message: string, options: AgoraErrorOptions = {}) {
    super('TOOL_ERROR', message, options)
  }
}
