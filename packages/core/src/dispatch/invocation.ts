import type { ServerContext } from '@modelcontextprotocol/server'
import { CLIENT_CAPABILITIES_META_KEY } from '@modelcontextprotocol/server'
import type { Caller, TransportInfo } from '../caller.ts'
import { anonymousCaller, TRANSPORT_EXTRA_KEY } from '../caller.ts'
import type { Price } from '../definition/price.ts'
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
  const signal = extra?.signal ? linkSignals(ctx.mcpReq.signal, extra.signal) : ctx.mcpReq.signal
  const meta = (ctx.mcpReq._meta as Record<string, unknown> | undefined) ?? EMPTY
  const caps = (ctx.mcpReq.envelope as Record<string, unknown> | undefined)?.[CLIENT_CAPABILITIES_META_KEY] as
    | Record<string, unknown>
    | undefined
  return new RequestInvocation(operation, name, target, args ?? {}, meta, caps, transport, ctx.mcpReq.id, signal)
}

const EMPTY: Readonly<Record<string, unknown>> = Object.freeze({})

/** One per request on the hot path: a class, so `state` can be created only when a gate uses it. */
class RequestInvocation implements Invocation {
  readonly operation: Operation
  readonly name: string | undefined
  readonly target: InvocationTarget | undefined
  args: Record<string, unknown>
  readonly meta: Readonly<Record<string, unknown>>
  readonly clientCapabilities: Readonly<Record<string, unknown>> | undefined
  readonly transport: TransportInfo
  readonly requestId: string | number
  readonly signal: AbortSignal
  caller: Caller
  price: Price | undefined = undefined
  receipt: Record<string, unknown> | undefined = undefined
  resultMeta: Record<string, unknown> | undefined = undefined
  #state: Map<string, unknown> | undefined

  constructor(
    operation: Operation,
    name: string | undefined,
    target: InvocationTarget | undefined,
    args: Record<string, unknown>,
    meta: Readonly<Record<string, unknown>>,
    clientCapabilities: Readonly<Record<string, unknown>> | undefined,
    transport: TransportInfo,
    requestId: string | number,
    signal: AbortSignal,
  ) {
    this.operation = operation
    this.name = name
    this.target = target
    this.args = args
    this.meta = meta
    this.clientCapabilities = clientCapabilities
    this.transport = transport
    this.requestId = requestId
    this.signal = signal
    this.caller = anonymousCaller(transport)
  }

  get state(): Map<string, unknown> {
    this.#state ??= new Map()
    return this.#state
  }
}

/**
 * A signal that aborts when either input does. Cheaper than `AbortSignal.any` (no weak references
 * to clean up after GC), which matters once per HTTP request; both inputs live only as long as the
 * request, so the listeners need no removal.
 */
function linkSignals(a: AbortSignal, b: AbortSignal): AbortSignal {
  if (a.aborted) return a
  if (b.aborted) return b
  const controller = new AbortController()
  const abort = (event: Event) => controller.abort((event.target as AbortSignal).reason)
  a.addEventListener('abort', abort, { once: true })
  b.addEventListener('abort', abort, { once: true })
  return controller.signal
}
