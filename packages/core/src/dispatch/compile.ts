import type { Result, ServerCapabilities } from '@modelcontextprotocol/server'
import type { AgoraServer } from '../definition/server.ts'
import { authenticateGate } from '../pipeline/authenticate.ts'
import { authorizeGate } from '../pipeline/authorize.ts'
import type { Gate, Invocation, Next } from '../pipeline/invocation.ts'
import { composeGates } from '../pipeline/invocation.ts'
import { payGate, priceGate, receiptGate } from '../pipeline/payment.ts'
import type { RateLimiter } from '../pipeline/rate-limit.ts'
import { rateLimitGate, tokenBucket } from '../pipeline/rate-limit.ts'
import { validateGate } from '../pipeline/validate.ts'

/** What serving needs from a definition, computed once per revision (not per request). */
export interface CompiledServer {
  readonly revision: number
  readonly capabilities: ServerCapabilities
  /** The gate chain in order: authenticate → authorize → rate-limit → validate → price → receipt → pay → custom. */
  readonly gates: readonly Gate[]
  readonly run: (inv: Invocation, terminal: Next) => Promise<Result>
}

const cache = new WeakMap<AgoraServer, CompiledServer>()

function isLimiter(v: unknown): v is RateLimiter {
  return typeof (v as RateLimiter).take === 'function'
}

/** Compiles (and caches) a definition's capabilities and gate chain. */
export function compile(server: AgoraServer): CompiledServer {
  const hit = cache.get(server)
  if (hit && hit.revision === server.revision) return hit
  const { auth, rateLimit, payments, custom } = server.gates
  const gates: Gate[] = []
  if (auth) gates.push(authenticateGate(auth))
  gates.push(authorizeGate)
  if (rateLimit) gates.push(rateLimitGate(isLimiter(rateLimit) ? rateLimit : tokenBucket(rateLimit)))
  gates.push(validateGate, priceGate, receiptGate, payGate(payments), ...custom)

  const hasCompletions =
    [...server.prompts.values()].some((p) => p.config.complete) || server.resourceTemplates.some((t) => t.config.complete)
  const capabilities: ServerCapabilities = {
    logging: {},
    ...(server.tools.size > 0 ? { tools: { listChanged: true } } : {}),
    ...(server.resources.size > 0 || server.resourceTemplates.length > 0
      ? { resources: { listChanged: true, subscribe: true } }
      : {}),
    ...(server.prompts.size > 0 ? { prompts: { listChanged: true } } : {}),
    ...(hasCompletions ? { completions: {} } : {}),
  }
  const compiled: CompiledServer = { revision: server.revision, capabilities, gates, run: composeGates(gates) }
  cache.set(server, compiled)
  return compiled
}
