import { AgoraError } from '../errors.ts'
import type { Gate } from './invocation.ts'

/**
 * The authorize gate: applies the target's access rule to the caller. List operations are not
 * refused here; dispatch filters out what the caller may not use.
 */
export const authorizeGate: Gate = {
  name: 'authorize',
  handle(inv, next) {
    const rule = inv.target?.access
    if (rule && !rule(inv.caller)) {
      const what = inv.target?.resource ?? inv.name ?? inv.operation
      throw new AgoraError(
        inv.caller.authenticated ? 'FORBIDDEN' : 'UNAUTHENTICATED',
        inv.caller.authenticated ? `Caller ${inv.caller.id} may not use ${what}` : `${what} requires an authenticated caller`,
        { data: { resource: what } },
      )
    }
    return next()
  },
}
