import type { AgoraErrorCode } from '@agora/core/errors'
import { AgoraError, isAgoraError, WIRE_CODES } from '@agora/core/errors'
import { ProtocolError, SdkError, SdkErrorCode } from '@modelcontextprotocol/client'

const RPC_CODES: Readonly<Record<number, AgoraErrorCode>> = {
  [-32601]: 'NOT_FOUND',
  [-32602]: 'INVALID_PARAMS',
  [-32002]: 'NOT_FOUND',
  ...Object.fromEntries(
    (Object.entries(WIRE_CODES) as [AgoraErrorCode, number][])
      .filter(([code]) => !['NOT_FOUND', 'CONFIG', 'MODULE_LOAD', 'TARGET', 'CONNECTION'].includes(code))
      .map(([code, wire]) => [wire, code]),
  ),
}

const NET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE'])

const isKnownCode = (value: unknown): value is AgoraErrorCode => typeof value === 'string' && Object.hasOwn(WIRE_CODES, value)

/** The first `code` like `ECONNREFUSED`/`ENOENT` found along the `cause` chain (and aggregate errors). */
function systemCode(err: unknown, depth = 0): string | undefined {
  if (!err || typeof err !== 'object' || depth > 6) return undefined
  const e = err as { code?: unknown; cause?: unknown; errors?: unknown[] }
  if (typeof e.code === 'string' && /^E[A-Z_]+$/.test(e.code)) return e.code
  for (const inner of e.errors ?? []) {
    const found = systemCode(inner, depth + 1)
    if (found) return found
  }
  return systemCode(e.cause, depth + 1)
}

const oneLine = (text: string) => text.split('\n')[0]?.trim() ?? ''

/** The innermost message along the `cause` chain: `fetch failed` says less than its cause. */
function innermostMessage(err: unknown): string {
  let message = err instanceof Error ? err.message : String(err)
  let current: unknown = err
  for (let depth = 0; depth < 6 && current instanceof Error && current.cause instanceof Error; depth++) {
    current = current.cause
    if (current instanceof Error && current.message) message = current.message
  }
  return oneLine(message)
}

/**
 * Turns anything the SDK or a transport threw into an {@link AgoraError} with a one-line message:
 * JSON-RPC errors keep the server's message, its stable code (from `error.data.code` when the
 * server is Agora) and the numeric `rpcCode` in `data`; network and process failures become
 * `CONNECTION`, timeouts `TIMEOUT`, aborts `CANCELLED`.
 *
 * @example
 * ```ts
 * try { await sdk.callTool({ name: 'x' }) } catch (err) { throw toClientError(err, 'http://…') }
 * ```
 */
export function toClientError(err: unknown, where: string, hint?: string): AgoraError {
  if (isAgoraError(err)) return err
  const suffix = hint ? ` (${hint})` : ''
  if (err instanceof ProtocolError) {
    const data = err.data && typeof err.data === 'object' && !Array.isArray(err.data) ? (err.data as Record<string, unknown>) : {}
    const code = isKnownCode(data.code) ? data.code : (RPC_CODES[err.code] ?? 'INTERNAL')
    return new AgoraError(code, err.message.replace(/^MCP error -?\d+: /, ''), {
      data: { ...data, rpcCode: err.code },
      cause: err,
    })
  }
  if (err instanceof Error && (err.name === 'AbortError' || err.name === 'TimeoutError') && !(err instanceof SdkError)) {
    const timedOut = err.name === 'TimeoutError'
    return new AgoraError(timedOut ? 'TIMEOUT' : 'CANCELLED', `${where}: ${timedOut ? 'timed out' : 'cancelled'}`, { cause: err })
  }
  if (err instanceof SdkError) {
    if (err.code === SdkErrorCode.RequestTimeout)
      return new AgoraError('TIMEOUT', `${where}: ${oneLine(err.message)}`, { cause: err })
    const status = (err.data as { status?: unknown } | undefined)?.status
    if (status === 401) return new AgoraError('UNAUTHENTICATED', `${where}: HTTP 401 unauthorized${suffix}`, { cause: err })
    if (status === 403) return new AgoraError('FORBIDDEN', `${where}: HTTP 403 forbidden${suffix}`, { cause: err })
    if (typeof status === 'number') {
      return new AgoraError('CONNECTION', `${where}: HTTP ${status} ${oneLine(err.message)}${suffix}`, {
        cause: err,
        data: { status },
      })
    }
  }
  const sys = systemCode(err)
  const reason =
    sys === 'ECONNREFUSED'
      ? 'connection refused (is the server running?)'
      : sys === 'ENOENT'
        ? 'command not found'
        : sys && NET_CODES.has(sys)
          ? sys
          : innermostMessage(err) || 'connection failed'
  return new AgoraError('CONNECTION', `cannot reach ${where}: ${reason}${suffix}`, {
    cause: err,
    ...(sys ? { data: { errno: sys } } : {}),
  })
}
