import type { CallToolResult, Result, Server, ServerContext } from '@modelcontextprotocol/server'
import { isInputRequiredResult, ProtocolError } from '@modelcontextprotocol/server'
import type { ToolEntry, ToolReturn } from '../definition/tool.ts'
import { toCallToolResult } from '../definition/tool.ts'
import type { AgoraErrorCode } from '../errors.ts'
import { isAgoraError } from '../errors.ts'
import type { Logger } from '../logger.ts'
import type { Invocation } from '../pipeline/invocation.ts'
import { validate } from '../schema.ts'
import { clientCapabilitiesOf, handlerContext } from './context.ts'
import { withDeadline } from './deadline.ts'
import type { RequestStateSeal } from './request-state.ts'

/** Errors a handler may throw on purpose that must stay protocol errors (not `isError` results). */
const PASS_THROUGH: ReadonlySet<AgoraErrorCode> = new Set(['PAYMENT_REQUIRED', 'UNAUTHENTICATED', 'FORBIDDEN', 'RATE_LIMITED'])

export const DEFAULT_TIMEOUT_MS = 60_000

/**
 * Runs a tool handler under its deadline and turns whatever happens into a `CallToolResult`:
 * a throw becomes `isError` with the message only (the stack goes to the server log). An
 * `inputRequired(...)` return goes out as is, its `requestState` signed.
 */
export async function runTool(
  sdk: Server,
  tool: ToolEntry,
  inv: Invocation,
  ctx: ServerContext,
  logger: Logger,
  seal: RequestStateSeal,
): Promise<Result> {
  const round = { clientCapabilities: clientCapabilitiesOf(sdk, ctx), requestState: seal.open(inv, ctx) }
  try {
    const value = await withDeadline(
      (signal) =>
        (tool.handler as (a: unknown, c: unknown) => ToolReturn | Promise<ToolReturn>)(
          inv.args,
          handlerContext(inv, ctx, signal, logger, round),
        ),
      inv.signal,
      tool.config.timeoutMs ?? DEFAULT_TIMEOUT_MS,
      `tool ${tool.name}`,
    )
    if (isInputRequiredResult(value)) return (await seal.seal(value, inv)) as Result
    const result = toCallToolResult(value, tool.config.output !== undefined)
    if (tool.config.output && !result.isError) {
      await validate(tool.config.output, result.structuredContent, `output of tool ${tool.name}`)
    }
    return sdk.projectCallToolResult(result, tool.listing.outputSchema) as Result
  } catch (err) {
    if (err instanceof ProtocolError) throw err
    if (isAgoraError(err) && PASS_THROUGH.has(err.code)) throw err
    if (!isAgoraError(err)) {
      logger.error(`tool ${tool.name} threw`, { error: err instanceof Error ? (err.stack ?? err.message) : String(err) })
    }
    const message = err instanceof Error ? err.message : String(err)
    const result: CallToolResult = { content: [{ type: 'text', text: message || 'Tool failed' }], isError: true }
    return result as Result
  }
}
