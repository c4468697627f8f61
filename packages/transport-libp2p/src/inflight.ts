import type { JSONRPCMessage } from '@modelcontextprotocol/server'

type Id = string | number

/**
 * The requests a peer sent that this end has not answered yet: a stream with any is not idle, and a
 * graceful close answers them before half-closing (spec §4.4). A request the peer cancels
 * (`notifications/cancelled`) stops counting, since MCP sends no response for it.
 *
 * @example
 * ```ts
 * const inflight = new InflightRequests()
 * inflight.received({ jsonrpc: '2.0', id: 1, method: 'tools/call' })
 * inflight.answered({ jsonrpc: '2.0', id: 1, result: {} }) // inflight.size === 0
 * ```
 */
export class InflightRequests {
  readonly #ids = new Set<Id>()
  #waiters: (() => void)[] = []

  get size(): number {
    return this.#ids.size
  }

  /** Notes an inbound message: a request starts counting, a cancellation stops its request counting. */
  received(message: JSONRPCMessage): void {
    if (!('method' in message)) return
    if ('id' in message) {
      this.#ids.add(message.id)
    } else if (message.method === 'notifications/cancelled') {
      const id = (message.params as { requestId?: Id } | undefined)?.requestId
      if (id !== undefined) this.#forget(id)
    }
  }

  /** Notes an outbound message: a response (result or error) answers its request. */
  answered(message: JSONRPCMessage): void {
    if (this.#ids.size === 0 || 'method' in message) return
    const id = (message as { id?: Id | null }).id
    if (id !== undefined && id !== null) this.#forget(id)
  }

  /** Resolves once nothing is in flight, or after `timeoutMs`, whichever comes first. */
  settled(timeoutMs: number): Promise<void> {
    if (this.#ids.size === 0) return Promise.resolve()
    return new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, timeoutMs)
      this.#waiters.push(() => {
        clearTimeout(timer)
        resolve()
      })
    })
  }

  /** Forgets everything and releases the waiters (the stream is gone). */
  clear(): void {
    this.#ids.clear()
    this.#wake()
  }

  #forget(id: Id): void {
    if (this.#ids.delete(id) && this.#ids.size === 0) this.#wake()
  }

  #wake(): void {
    const waiters = this.#waiters
    this.#waiters = []
    for (const w of waiters) w()
  }
}
