import { isJsonRpcId, jsonRpcProblem } from '@agora/core'
import type { JSONRPCMessage } from '@modelcontextprotocol/server'

/** JSON-RPC `Parse error`. */
export const PARSE_ERROR = -32700
/** JSON-RPC `Invalid Request`. */
export const INVALID_REQUEST = -32600

/** Default cap on an event's `content`, in UTF-8 bytes (256 KiB; public relays often cap whole messages at 64–512 KiB). */
export const DEFAULT_MAX_CONTENT_BYTES = 256 * 1024

/** What a message's `content` held. */
export type DecodedContent =
  | { readonly ok: true; readonly message: JSONRPCMessage }
  | {
      readonly ok: false
      /** The JSON-RPC error code to answer with. */
      readonly code: number
      readonly reason: string
      /** The request id, when one could be read (to answer it). */
      readonly id: string | number | null
    }

const utf8 = new TextEncoder()

/**
 * Reads an event's `content` as one JSON-RPC 2.0 message (request, notification or response),
 * refusing content over `maxBytes`.
 *
 * @example
 * ```ts
 * const decoded = decodeContent(event.content, 256 * 1024)
 * if (!decoded.ok) console.log(decoded.code, decoded.reason) // -32700 'Parse error: …'
 * ```
 */
export function decodeContent(content: string, maxBytes: number): DecodedContent {
  // Cheap bound first: a string of n UTF-16 units is at most 3n UTF-8 bytes and at least n.
  if (content.length > maxBytes || (content.length * 3 > maxBytes && utf8.encode(content).length > maxBytes)) {
    return {
      ok: false,
      code: INVALID_REQUEST,
      reason: `Invalid Request: the message is larger than the limit of ${maxBytes} bytes`,
      id: content.length <= 4 * maxBytes ? idOf(content) : null,
    }
  }
  let value: unknown
  try {
    value = JSON.parse(content)
  } catch (err) {
    return { ok: false, code: PARSE_ERROR, reason: `Parse error: the content is not JSON (${(err as Error).message})`, id: null }
  }
  const problem = jsonRpcProblem(value)
  if (problem !== undefined) {
    const id = (value as { id?: unknown } | null)?.id
    return {
      ok: false,
      code: INVALID_REQUEST,
      reason: `Invalid Request: not a JSON-RPC 2.0 message (${problem})`,
      id: isJsonRpcId(id) ? id : null,
    }
  }
  return { ok: true, message: value as JSONRPCMessage }
}

/** The `id` of an oversized message, to answer it (bounded: only called on content up to 4× the limit). */
function idOf(content: string): string | number | null {
  try {
    const id = (JSON.parse(content) as { id?: unknown } | null)?.id
    return isJsonRpcId(id) ? id : null
  } catch {
    return null
  }
}

/** True for a JSON-RPC request (method and id). */
export const isRequest = (m: JSONRPCMessage): m is Extract<JSONRPCMessage, { method: string; id: unknown }> =>
  'method' in m && 'id' in m
/** True for a JSON-RPC notification (method, no id). */
export const isNotification = (m: JSONRPCMessage): m is Extract<JSONRPCMessage, { method: string }> =>
  'method' in m && !('id' in m)
/** True for a JSON-RPC response (result or error). */
export const isResponse = (m: JSONRPCMessage): boolean => 'result' in m || 'error' in m
