import { AgoraError } from '@agora/core/errors'

/** JSON-RPC `Parse error`: the frame is not UTF-8 JSON. */
export const PARSE_ERROR = -32700
/** JSON-RPC `Invalid Request`: the frame is too large, or JSON that is not a JSON-RPC 2.0 message. */
export const INVALID_REQUEST = -32600

/**
 * A frame announced (or a message encodes to) more bytes than the limit. Raised as soon as the
 * length prefix is read, before any of the payload is buffered.
 *
 * @example
 * ```ts
 * try { encodeFrame(huge) } catch (err) { if (err instanceof FrameTooLargeError) console.log(err.length, err.limit) }
 * ```
 */
export class FrameTooLargeError extends AgoraError {
  override name = 'AgoraError'
  readonly reason = 'too-large'
  /** The JSON-RPC error code a server answers with. */
  readonly jsonRpcCode = INVALID_REQUEST
  readonly length: number
  readonly limit: number

  constructor(length: number, limit: number) {
    super('INVALID_PARAMS', `Message too large: ${length} bytes exceeds the limit of ${limit} bytes`, {
      data: { length, limit },
    })
    this.length = length
    this.limit = limit
  }
}

/**
 * The stream ended in the middle of a frame (a length prefix, or fewer payload bytes than it
 * announced).
 *
 * @example
 * ```ts
 * decoder.end() // throws TruncatedFrameError when a partial frame is buffered
 * ```
 */
export class TruncatedFrameError extends AgoraError {
  override name = 'AgoraError'
  readonly reason = 'truncated'
  readonly expected: number | undefined
  readonly received: number

  constructor(expected: number | undefined, received: number) {
    const what =
      expected === undefined
        ? `${received} of the 4 length-prefix bytes`
        : `${received} of the ${expected} payload bytes the length prefix announced`
    super('CONNECTION', `Stream ended inside a frame: got ${what}`, { data: { expected, received } })
    this.expected = expected
    this.received = received
  }
}

/** Why a complete frame could not be read as a message. */
export type InvalidMessageReason = 'utf8' | 'json' | 'jsonrpc'

/**
 * A complete frame whose payload is not UTF-8, not JSON, or not a JSON-RPC 2.0 message. The
 * framing is intact, so the stream can go on.
 *
 * @example
 * ```ts
 * try { decodeMessage(payload) } catch (err) { if (err instanceof InvalidMessageError) console.log(err.reason) }
 * ```
 */
export class InvalidMessageError extends AgoraError {
  override name = 'AgoraError'
  readonly reason: InvalidMessageReason
  /** `-32700` for UTF-8 and JSON errors, `-32600` for JSON that is not JSON-RPC. */
  readonly jsonRpcCode: number
  /** The `id` of the offending message, when it had a usable one. */
  readonly id: string | number | null

  constructor(reason: InvalidMessageReason, message: string, id: string | number | null = null, cause?: unknown) {
    super('INVALID_PARAMS', message, { data: { reason }, cause })
    this.reason = reason
    this.jsonRpcCode = reason === 'jsonrpc' ? INVALID_REQUEST : PARSE_ERROR
    this.id = id
  }
}
