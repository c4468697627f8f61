import type { ServerContext } from '@modelcontextprotocol/server'
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
  /** The SDK's request context: sampling, elicitation, raw notifications. An escape hatch. */
  readonly mcp: ServerContext
}
