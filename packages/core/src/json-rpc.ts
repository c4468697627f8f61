/**
 * Checks on raw JSON-RPC 2.0 messages for transports that read bytes themselves (libp2p frames,
 * Nostr event content). Written by hand rather than with the SDK's zod schemas: a transport runs it
 * on every message and only needs the envelope's shape, plus a reason it can send back.
 */

/** True for a usable JSON-RPC id: a string or a finite number. */
export function isJsonRpcId(id: unknown): id is string | number {
  return typeof id === 'string' || (typeof id === 'number' && Number.isFinite(id))
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)

/**
 * What makes `value` not a JSON-RPC 2.0 request, notification or response, or undefined when it is
 * one.
 *
 * @example
 * ```ts
 * jsonRpcProblem({ jsonrpc: '2.0', id: 1, method: 'tools/list' }) // undefined
 * jsonRpcProblem({ jsonrpc: '1.0', id: 1 })                      // '"jsonrpc" must be "2.0"'
 * ```
 */
export function jsonRpcProblem(value: unknown): string | undefined {
  if (!isObject(value)) return 'expected a JSON object'
  if (value.jsonrpc !== '2.0') return '"jsonrpc" must be "2.0"'
  if ('method' in value) {
    if (typeof value.method !== 'string' || value.method.length === 0) return '"method" must be a non-empty string'
    if ('id' in value && !isJsonRpcId(value.id)) return '"id" must be a string or a number'
    if (value.params !== undefined && !isObject(value.params)) return '"params" must be an object'
    return undefined
  }
  if ('result' in value) return isJsonRpcId(value.id) ? undefined : '"id" must be a string or a number'
  if ('error' in value) {
    const error = value.error
    if (!isObject(error) || !Number.isInteger(error.code) || typeof error.message !== 'string') {
      return '"error" must have an integer "code" and a string "message"'
    }
    return value.id === null || isJsonRpcId(value.id) ? undefined : '"id" must be a string, a number or null'
  }
  return 'expected "method", "result" or "error"'
}
