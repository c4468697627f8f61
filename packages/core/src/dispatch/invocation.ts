import type { ServerContext } from '@modelcontextprotocol/server'
import { anonymousCaller, TRANSPORT_EXTRA_KEY } from '../caller.ts'
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
  // A transport may abort the request on its own (HTTP disconnect, a 2025 stateless cancel that the
  // SDK cannot route to this per-request instance): tie the handler's signal to it too.
  const extra = ctx.http?.authInfo?.extra?.[TRANSPORT_EXTRA_KEY] as { signal?: AbortSignal } | undefined
  const signal = extra?.signal ? AbortSignal.any([ctx.mcpReq.signal, extra.signal]) : ctx.mcpReq.signal
  return {
    operation,
    name,
    target,
    args: args ?? {},
    meta: (ctx.mcpReq._meta as Record<string, unknown> | undefined) ?? {},
    transport,
    requestId: ctx.mcpReq.id,
    signal,
    caller: anonymousCaller(transport),
    price: undefined,
    receipt: undefined,
    state: new Map(),
  }
}
