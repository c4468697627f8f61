import type { Caller, TransportInfo } from '../caller.ts'
import { AgoraError } from '../errors.ts'
import type { Gate } from './invocation.ts'

/** What an authenticator sees: the transport's view of the caller and the request `_meta`. */
export interface AuthenticationRequest {
  readonly transport: TransportInfo
  readonly meta: Readonly<Record<string, unknown>>
}

/**
 * Recognises a credential. Returns a caller when it found and verified one, `undefined` when the
 * request carries no credential of its kind, and throws `UNAUTHENTICATED` for a bad one.
 */
export interface Authenticator {
  readonly name: string
  authenticate(request: AuthenticationRequest): Caller | undefined | Promise<Caller | undefined>
}

export interface AuthenticateOptions {
  authenticators: readonly Authenticator[]
  /** Reject callers no authenticator recognised. Default false (anonymous callers allowed). */
  required?: boolean | undefined
}

/** The authenticate gate: first authenticator that recognises a credential wins. */
export function authenticateGate(options: AuthenticateOptions): Gate {
  const { authenticators, required = false } = options
  return {
    name: 'authenticate',
    async handle(inv, next) {
      const request: AuthenticationRequest = { transport: inv.transport, meta: inv.meta }
      for (const a of authenticators) {
        const pending = a.authenticate(request)
        // Most authenticators answer synchronously: skip the await (a microtask per call) for them.
        const found = pending instanceof Promise ? await pending : pending
        if (found) {
          inv.caller = found
          return next()
        }
      }
      if (required && !inv.caller.authenticated) {
        const kinds = authenticators.map((a) => a.name).join(', ')
        throw new AgoraError('UNAUTHENTICATED', `Authentication required (${kinds || 'no authenticator configured'})`)
      }
      return next()
    },
  }
}
