import type { Result } from '@modelcontextprotocol/server'
import type { Caller, TransportInfo } from '../caller.ts'
import type { AccessRule } from '../definition/access.ts'
import type { Price, PriceSpec } from '../definition/price.ts'
import type { AgoraSchema } from '../schema.ts'

/** The MCP operations that pass through the pipeline. */
export type Operation =
  | 'tools/list'
  | 'tools/call'
  | 'resources/list'
  | 'resources/templates/list'
  | 'resources/read'
  | 'resources/subscribe'
  | 'resources/unsubscribe'
  | 'prompts/list'
  | 'prompts/get'
  | 'completion/complete'
  | 'payments/list'

/** Operations that run a handler (and so can be priced and paid). */
export const CALL_OPERATIONS: ReadonlySet<Operation> = new Set(['tools/call', 'resources/read', 'prompts/get'])

/** What the call targets, resolved by dispatch before the gates run. */
export interface InvocationTarget {
  /** Resource id used by payments and receipts: `mcp://tool/<name>`, `mcp://prompt/<name>`, `mcp://resource/<uri>`. */
  readonly resource: string
  readonly access?: AccessRule | undefined
  readonly input?: AgoraSchema | undefined
  readonly price?: PriceSpec<never> | undefined
}

/**
 * One request travelling through the gates. Gates read it and fill in what they establish
 * (`caller`, `args`, `price`, `receipt`); `state` is scratch space for custom gates.
 */
export interface Invocation {
  readonly operation: Operation
  /** Tool or prompt name, or resource URI; undefined for list operations. */
  readonly name: string | undefined
  readonly target: InvocationTarget | undefined
  /** Raw arguments as received; replaced by the validated value in the validate stage. */
  args: Record<string, unknown>
  readonly meta: Readonly<Record<string, unknown>>
  /** Capabilities the client declared in this request's 2026-07-28 envelope (undefined on 2025-era requests). */
  readonly clientCapabilities: Readonly<Record<string, unknown>> | undefined
  readonly transport: TransportInfo
  readonly requestId: string | number
  readonly signal: AbortSignal
  /** Who is calling: anonymous until the authenticate gate says otherwise. */
  caller: Caller
  /** What this call costs; set by the price stage for priced targets. */
  price: Price | undefined
  /** Set by the payment gate after settlement; attached to the result by the receipt stage. */
  receipt: Record<string, unknown> | undefined
  /** Extra `_meta` a gate wants on the result (e.g. `x402/payment-response`), merged by the receipt stage. */
  resultMeta: Record<string, unknown> | undefined
  readonly state: Map<string, unknown>
}

export type Next = () => Promise<Result>

/**
 * A gate: one job around a call. It may answer early by throwing an `AgoraError` (auth, limits,
 * payment challenge), or call `next()` and work on the result (settle, receipts).
 *
 * @example
 * ```ts
 * const timing: Gate = {
 *   name: 'timing',
 *   async handle(inv, next) {
 *     const t0 = performance.now()
 *     try { return await next() } finally { console.error(inv.operation, performance.now() - t0) }
 *   },
 * }
 * ```
 */
export interface Gate {
  readonly name: string
  handle(inv: Invocation, next: Next): Promise<Result>
}

/** Composes gates into one function, outermost first. Built once per server, not per call. */
export function composeGates(gates: readonly Gate[]): (inv: Invocation, terminal: Next) => Promise<Result> {
  if (gates.length === 0) return (_inv, terminal) => terminal()
  return (inv, terminal) => {
    const step = (i: number): Promise<Result> => {
      const gate = gates[i]
      // A gate (or terminal) that throws synchronously still yields a rejected promise.
      try {
        if (!gate) return terminal()
        return gate.handle(inv, () => step(i + 1))
      } catch (err) {
        return Promise.reject(err)
      }
    }
    return step(0)
  }
}
