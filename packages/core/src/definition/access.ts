import type { Caller } from '../caller.ts'

/**
 * Who may use a tool, resource or prompt. A rule is a predicate over the caller; the helpers
 * below compose the common ones. Rules are checked by the authorize gate before anything runs.
 *
 * @example
 * ```ts
 * server.tool('admin-reset', { access: allOf(authenticated(), requireScopes('admin')) }, reset)
 * ```
 */
export type AccessRule = (caller: Caller) => boolean

/** Anyone, including anonymous callers (the default). */
export const publicAccess = (): AccessRule => () => true

/** Callers whose identity was verified by an authenticator. */
export const authenticated = (): AccessRule => (caller) => caller.authenticated

/** Callers holding every one of the scopes. */
export const requireScopes =
  (...scopes: string[]): AccessRule =>
  (caller) =>
    scopes.every((s) => caller.scopes.includes(s))

/** Callers whose id is in the list (`key:alice`, `peer:12D3…`, `nostr:<hex>`, `local`). */
export const allowCallers = (...ids: string[]): AccessRule => {
  const set = new Set(ids)
  return (caller) => set.has(caller.id)
}

/** Everyone except the listed caller ids. */
export const denyCallers = (...ids: string[]): AccessRule => {
  const set = new Set(ids)
  return (caller) => !set.has(caller.id)
}

/** Callers whose identity came from the given kinds (`api-key`, `peer`, `local`, …). */
export const callerKinds = (...kinds: string[]): AccessRule => {
  const set = new Set(kinds)
  return (caller) => set.has(caller.kind)
}

/** All rules must pass. */
export const allOf =
  (...rules: AccessRule[]): AccessRule =>
  (caller) =>
    rules.every((r) => r(caller))

/** At least one rule must pass. */
export const anyOf =
  (...rules: AccessRule[]): AccessRule =>
  (caller) =>
    rules.some((r) => r(caller))
