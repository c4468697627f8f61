import type { ServerContext } from '@modelcontextprotocol/server'
import { anonymousCaller } from '../caller.ts'
import type { Invocation, InvocationTarget, Operation } from '../pipeline/invocation.ts'
import { transportInfoFrom } from './context.ts'

/** Builds the invocation for one request; the caller starts anonymous until authenticate runs. */
export function createInvocation(
  operation: Operation,
  name: string | undefined,
  target: InvocationTarget | undefined,
  args: Record<string, unknown> | undefined,
  ctx: ServerContext,
  transportKind: string,
): Invocation {
  const transport = transportInfoFrom(ctx, transportKind)
  return {
    operation,
    name,
    target,
    args: args ?? {},
    meta: (ctx.mcpReq._meta as Record<string, unknown> | undefined) ?? {},
    transport,
    requestId: ctx.mcpReq.id,
    signal: ctx.mcpReq.signal,
    caller: anonymousCaller(transport),
    price: undefined,
    receipt: undefined,
    state: new Map(),
  }
}
