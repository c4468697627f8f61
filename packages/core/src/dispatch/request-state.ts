import { randomBytes } from 'node:crypto'
import type { InputRequiredResult, ServerContext } from '@modelcontextprotocol/server'
import { createRequestStateCodec, ProtocolError, ProtocolErrorCode } from '@modelcontextprotocol/server'
import type { AgoraServer } from '../definition/server.ts'
import type { Invocation } from '../pipeline/invocation.ts'

/** How long a signed `requestState` stays valid: ten minutes, as the SDK codec. */
export const DEFAULT_REQUEST_STATE_TTL_S = 600

/** What travels inside the signed state: the handler's value, the target and the caller it was minted for. */
interface Sealed {
  readonly s: string
  readonly t: string
  readonly c: string
}

/**
 * Integrity protection for multi round-trip `requestState` (2026-07-28 MRTR): Agora signs every
 * state a handler returns (HMAC-SHA256, via the SDK's `createRequestStateCodec`) bound to the target
 * and the caller, and verifies it when the client echoes it back. Handlers only ever see their own
 * value. Signed, not encrypted: do not put secrets in `requestState`.
 */
export interface RequestStateSeal {
  /** The SDK hook (`ServerOptions.requestState.verify`): signature and expiry, before any handler runs. */
  readonly verify: (state: string, ctx: ServerContext) => Promise<unknown>
  /** Signs the `requestState` of an input-required result (returned unchanged when it has none). */
  seal(result: InputRequiredResult, inv: Invocation): Promise<InputRequiredResult>
  /** The handler's own state for this round (undefined on a first round); refuses state minted for another target or caller. */
  open(inv: Invocation, ctx: ServerContext): string | undefined
}

const invalidState = () =>
  new ProtocolError(ProtocolErrorCode.InvalidParams, 'Invalid or expired requestState', { reason: 'invalid_request_state' })

const isSealed = (v: unknown): v is Sealed =>
  typeof v === 'object' &&
  v !== null &&
  typeof (v as Sealed).s === 'string' &&
  typeof (v as Sealed).t === 'string' &&
  typeof (v as Sealed).c === 'string'

/** Creates a seal with this key (at least 32 bytes; every process serving the same flows needs the same key). */
export function createRequestStateSeal(key: string | Uint8Array, ttlSeconds = DEFAULT_REQUEST_STATE_TTL_S): RequestStateSeal {
  const codec = createRequestStateCodec<Sealed>({ key, ttlSeconds })
  return {
    verify: (state, ctx) => codec.verify(state, ctx),
    async seal(result, inv) {
      if (typeof result.requestState !== 'string') return result
      const requestState = await codec.mint({ s: result.requestState, t: inv.target?.resource ?? '', c: inv.caller.id })
      return { ...result, requestState }
    },
    open(inv, ctx) {
      const payload = ctx.mcpReq.requestState<unknown>()
      if (payload === undefined) return undefined
      if (!isSealed(payload) || payload.t !== (inv.target?.resource ?? '') || payload.c !== inv.caller.id) throw invalidState()
      return payload.s
    },
  }
}

const perDefinition = new WeakMap<AgoraServer, RequestStateSeal>()

/**
 * The seal for a definition: keyed by `key` when given, otherwise by a random key made once per
 * definition and process (enough when one process serves every round of a flow).
 */
export function requestStateSealFor(def: AgoraServer, key?: string | Uint8Array): RequestStateSeal {
  if (key !== undefined) return createRequestStateSeal(key)
  let seal = perDefinition.get(def)
  if (!seal) {
    seal = createRequestStateSeal(randomBytes(32))
    perDefinition.set(def, seal)
  }
  return seal
}
