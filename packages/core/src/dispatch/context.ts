import type { LoggingLevel, ServerContext } from '@modelcontextprotocol/server'
import type { TransportInfo } from '../caller.ts'
import { TRANSPORT_EXTRA_KEY } from '../caller.ts'
import type { HandlerContext } from '../context.ts'
import type { Logger } from '../logger.ts'
import type { Invocation } from '../pipeline/invocation.ts'

/** Reads what the transport established about the caller from the SDK request context. */
export function transportInfoFrom(ctx: ServerContext, fallbackKind: string): TransportInfo {
  const authInfo = ctx.http?.authInfo
  const extra = authInfo?.extra?.[TRANSPORT_EXTRA_KEY] as { kind?: string; remote?: string } | undefined
  const req = ctx.http?.req
  return {
    kind: extra?.kind ?? (req ? 'http' : fallbackKind),
    headers: req?.headers,
    remote: extra?.remote,
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

/** Builds the context a handler sees. */
export function handlerContext(inv: Invocation, ctx: ServerContext, signal: AbortSignal, logger: Logger): HandlerContext {
  const token = (ctx.mcpReq._meta as { progressToken?: string | number } | undefined)?.progressToken
  let log: Logger | undefined
  return {
    caller: inv.caller,
    transport: inv.transport,
    signal,
    requestId: inv.requestId,
    meta: inv.meta,
    mcp: ctx,
    get log() {
      log ??= requestLogger(logger, ctx)
      return log
    },
    async progress(progress, total, message) {
      if (token === undefined) return
      await ctx.mcpReq.notify({
        method: 'notifications/progress',
        params: { progressToken: token, progress, ...(total === undefined ? {} : { total }), ...(message ? { message } : {}) },
      })
    },
  }
}
