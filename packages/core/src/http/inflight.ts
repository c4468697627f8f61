/**
 * In-flight requests of 2025-era stateless HTTP clients, so `notifications/cancelled` can reach
 * them. The SDK serves each stateless POST with a fresh server instance, which cannot see the
 * request being cancelled; nothing in the SDK or Hono tracks this, hence this small registry.
 *
 * A cancellation only matches requests from the same remote address with the same credentials,
 * so one caller cannot cancel another's work by guessing request ids.
 */
export interface InflightRegistry {
  /** Registers a request; `signal` aborts on cancellation or when `parent` aborts. Call `end()` when done. */
  begin(caller: string, id: unknown, parent: AbortSignal): { signal: AbortSignal; end(): void }
  /** Aborts the matching request; false when there was none. */
  cancel(caller: string, id: unknown, reason: string): boolean
  readonly size: number
}

export function createInflightRegistry(): InflightRegistry {
  const inflight = new Map<string, AbortController>()
  const key = (caller: string, id: unknown) => `${caller}\u0000${typeof id}:${String(id)}`
  return {
    begin(caller, id, parent) {
      const k = key(caller, id)
      const controller = new AbortController()
      const onAbort = () => controller.abort(parent.reason)
      if (parent.aborted) controller.abort(parent.reason)
      else parent.addEventListener('abort', onAbort, { once: true })
      inflight.set(k, controller)
      return {
        signal: controller.signal,
        end() {
          parent.removeEventListener('abort', onAbort)
          if (inflight.get(k) === controller) inflight.delete(k)
        },
      }
    },
    cancel(caller, id, reason) {
      const controller = inflight.get(key(caller, id))
      if (!controller) return false
      controller.abort(reason)
      return true
    },
    get size() {
      return inflight.size
    },
  }
}
