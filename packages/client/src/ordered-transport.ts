import type { Transport } from '@modelcontextprotocol/client'

const isResponse = (m: unknown) => typeof m === 'object' && m !== null && 'id' in m && ('result' in m || 'error' in m)

/**
 * Wraps a client transport so a response is handled only after the notifications that arrived
 * before it.
 *
 * Why: the MCP SDK client (2.4) dispatches notifications on a microtask but handles responses
 * synchronously, and removes a request's progress handler when its response arrives. When progress
 * notifications and the response come in one chunk (common on stdio), the late progress
 * notifications are dropped. Delivering responses on a microtask too restores arrival order.
 *
 * @example
 * ```ts
 * await sdkClient.connect(orderedTransport(new StdioClientTransport({ command: 'agora', args: ['serve', 's.ts', '--stdio'] })))
 * ```
 */
export function orderedTransport<T extends Transport>(transport: T): T {
  type OnMessage = NonNullable<Transport['onmessage']>
  let deliver: OnMessage | undefined = transport.onmessage
  const wrapped: OnMessage = (message, extra) => {
    const to = deliver
    if (!to) return
    if (isResponse(message)) queueMicrotask(() => to(message, extra))
    else to(message, extra)
  }
  // An accessor on the instance (not a Proxy, which would break classes with #private fields).
  Object.defineProperty(transport, 'onmessage', {
    configurable: true,
    enumerable: true,
    get: () => (deliver ? wrapped : undefined),
    set: (fn: OnMessage | undefined) => {
      deliver = fn
    },
  })
  return transport
}
