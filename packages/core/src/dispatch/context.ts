import type { ClientCapabilities, LoggingLevel, Server, ServerContext } from '@modelcontextprotocol/server'
import { CLIENT_CAPABILITIES_META_KEY } from '@modelcontextprotocol/server'
import type { Caller, TransportInfo } from '../caller.ts'
import { TRANSPORT_EXTRA_KEY } from '../caller.ts'
import type { HandlerContext } from '../context.ts'
import type { Logger } from '../logger.ts'
import type { Invocation } from '../pipeline/invocation.ts'

/** What a transport puts under `AuthInfo.extra[TRANSPORT_EXTRA_KEY]`. */
interface TransportExtra {
  kind?: string
  remote?: string
  identity?: Caller
  notifyPaymentRequired?: TransportInfo['notifyPaymentRequired']
}

/** Reads what the transport established about the caller from the SDK request context. */
export function transportInfoFrom(ctx: ServerContext, fallbackKind: string): TransportInfo {
  const authInfo = ctx.http?.authInfo
  const extra = authInfo?.extra?.[TRANSPORT_EXTRA_KEY] as TransportExtra | undefined
  const req = ctx.http?.req
  return {
    kind: extra?.kind ?? (req ? 'http' : fallbackKind),
    headers: req?.headers,
    remote: extra?.remote,
    identity: extra?.identity,
    notifyPaymentRequired: extra?.notifyPaymentRequired,
    // A transport-only marker (empty token) is not an authentication.
    authInfo: authInfo?.token ? authInfo : undefined,
  }
}

const LEVELS: Record<'debug' | 'info' | 'warn' | 'error', LoggingLevel> = {
  debug: 'debug',
  info: 'info',
  warn: 'warning',
  error: 'error',
}

/** A logger that writes to the server log and forwards to the client as `notifications/message`. */
function requestLogger(base: Logger, ctx: ServerContext): Logger {
  const forward = (lvl: keyof typeof LEVELS, message: string, fields?: Record<string, unknown>) => {
    base[lvl](message, fields)
    ctx.mcpReq.log(LEVELS[lvl], fields ? { message, ...fields } : message).catch(() => {})
  }
  return {
    debug: (m, f) => forward('debug', m, f),
    info: (m, f) => forward('info', m, f),
    warn: (m, f) => forward('warn', m, f),
    error: (m, f) => forward('error', m, f),
    child: (c) => base.child(c),
  }
}

/**
 * What the client declared it can do: the request's own `_meta` envelope on 2026-07-28, the
 * `initialize` capabilities on a 2025 connection; empty when neither is known (stateless 2025).
 */
export function clientCapabilitiesOf(sdk: Server, ctx: ServerContext): ClientCapabilities {
  const envelope = ctx.mcpReq.envelope as Record<string, unknown> | undefined
  const declared = envelope?.[CLIENT_CAPABILITIES_META_KEY] as ClientCapabilities | undefined
  return declared ?? sdk.getClientCapabilities() ?? {}
}

/** The capabilities in `required` that `declared` lacks (two levels deep), or undefined when none are missing. */
export function missingCapabilities(
  required: ClientCapabilities | undefined,
  declared: ClientCapabilities,
): ClientCapabilities | undefined {
  if (!required) return undefined
  const missing: Record<string, unknown> = {}
  for (const [name, want] of Object.entries(required)) {
    const have = (declared as Record<string, unknown>)[name]
    if (have === undefined || have === null) {
      missing[name] = want
      continue
    }
    if (typeof want !== 'object' || want === null || typeof have !== 'object') continue
    const sub = Object.keys(want).filter((k) => (have as Record<string, unknown>)[k] === undefined)
    if (sub.length > 0) missing[name] = Object.fromEntries(sub.map((k) => [k, (want as Record<string, unknown>)[k]]))
  }
  return Object.keys(missing).length > 0 ? (missing as ClientCapabilities) : undefined
}

/** Per-round facts a handler context carries besides the invocation. */
export interface RoundInfo {
  readonly clientCapabilities: ClientCapabilities
  /** The verified `requestState` of this round (see `RequestStateSeal.open`). */
  readonly requestState: string | undefined
}

/**
 * The context a handler sees. A class (not an object literal with closures) because one is built
 * per call on the hot path: methods and the lazy `log` live on the prototype.
 */
class RequestContext implements HandlerContext {
  readonly caller: HandlerContext['caller']
  readonly transport: HandlerContext['transport']
  readonly signal: AbortSignal
  readonly requestId: string | number
  readonly meta: Readonly<Record<string, unknown>>
  readonly mcp: ServerContext
  readonly clientCapabilities: ClientCapabilities
  readonly #logger: Logger
  readonly #round: RoundInfo
  #log: Logger | undefined

  constructor(inv: Invocation, ctx: ServerContext, signal: AbortSignal, logger: Logger, round: RoundInfo) {
    this.caller = inv.caller
    this.transport = inv.transport
    this.signal = signal
    this.requestId = inv.requestId
    this.meta = inv.meta
    this.mcp = ctx
    this.clientCapabilities = round.clientCapabilities
    this.#logger = logger
    this.#round = round
  }

  get inputResponses(): Readonly<Record<string, unknown>> | undefined {
    return this.mcp.mcpReq.inputResponses
  }

  get log(): Logger {
    this.#log ??= requestLogger(this.#logger, this.mcp)
    return this.#log
  }

  requestState(): string | undefined {
    return this.#round.requestState
  }

  async progress(progress: number, total?: number, message?: string): Promise<void> {
    const token = (this.mcp.mcpReq._meta as { progressToken?: string | number } | undefined)?.progressToken
    if (token === undefined) return
    await this.mcp.mcpReq.notify({
      method: 'notifications/progress',
      params: { progressToken: token, progress, ...(total === undefined ? {} : { total }), ...(message ? { message } : {}) },
    })
  }
}

const NO_ROUND: RoundInfo = Object.freeze({ clientCapabilities: {}, requestState: undefined })

/** Builds the context a handler sees. */
export function handlerContext(
  inv: Invocation,
  ctx: ServerContext,
  signal: AbortSignal,
  logger: Logger,
  round: RoundInfo = NO_ROUND,
): HandlerContext {
  return new RequestContext(inv, ctx, signal, logger, round)
}
