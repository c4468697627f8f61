import type { ClientCapabilities, ServerContext } from '@modelcontextprotocol/server'
import type { Caller, TransportInfo } from './caller.ts'
import type { Logger } from './logger.ts'

/**
 * What every tool, resource and prompt handler receives besides its arguments.
 *
 * @example
 * ```ts
 * server.tool('slow', { description: 'counts' }, async (_args, ctx) => {
 *   for (let i = 1; i <= 3; i++) {
 *     ctx.signal.throwIfAborted()
 *     await ctx.progress(i, 3, `step ${i}`)
 *   }
 *   return `done for ${ctx.caller.id}`
 * })
 * ```
 */
export interface HandlerContext {
  /** Who is calling, as the transport and the authenticate gate established it. */
  readonly caller: Caller
  /** How the request arrived. */
  readonly transport: TransportInfo
  /** Aborted when the client cancels, disconnects, or the call times out. */
  readonly signal: AbortSignal
  /** The JSON-RPC request id. */
  readonly requestId: string | number
  /** The request's `params._meta` (custom keys included). */
  readonly meta: Readonly<Record<string, unknown>>
  /** Reports progress to the caller (a no-op when the caller sent no progress token). */
  progress(progress: number, total?: number, message?: string): Promise<void>
  /** Logs to the server's log and, when the client asked for it, to the client as `notifications/message`. */
  readonly log: Logger
  /**
   * What the client declared it can do (`sampling`, `elicitation`, `roots`, …): from the request's
   * `_meta` on 2026-07-28, from `initialize` on a 2025 session; empty when unknown.
   */
  readonly clientCapabilities: ClientCapabilities
  /**
   * Multi round-trip: the client's answers to the `inputRequests` of the `inputRequired(...)` result
   * this handler returned in the previous round, keyed as requested (untrusted input: validate it,
   * e.g. with the SDK's `acceptedContent(ctx.inputResponses, key, schema)`). Undefined on the first round.
   */
  readonly inputResponses: Readonly<Record<string, unknown>> | undefined
  /**
   * Multi round-trip: the `requestState` this handler returned in the previous round. Agora signs
   * every `requestState` it sends and verifies it when it comes back (tampered, expired, or replayed
   * against another target or caller is refused with -32602), so the value here is the handler's own.
   */
  requestState(): string | undefined
  /** The SDK's request context: sampling, elicitation, raw notifications. An escape hatch. */
  readonly mcp: ServerContext
}
