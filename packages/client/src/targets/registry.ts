import { AgoraError } from '@agora/core/errors'
import { httpScheme } from './http.ts'
import { stdioScheme } from './stdio.ts'
import type { Target, TargetKinds, TargetScheme } from './types.ts'

const schemes = new Map<string, TargetScheme>([
  [httpScheme.kind, httpScheme as TargetScheme],
  [stdioScheme.kind, stdioScheme as TargetScheme],
])

/**
 * Adds (or replaces) the scheme for a kind of target, so `parseTarget` and `connect` accept it.
 * Later packages register `p2p:` and `nostr:` this way.
 *
 * @example
 * ```ts
 * registerTargetScheme({
 *   kind: 'p2p', prefixes: ['p2p:'], usage: 'p2p:<multiaddr>',
 *   parse: (text) => ({ kind: 'p2p', multiaddr: text.slice(4) }),
 *   open: async (target) => ({ transport: await dialMcp(target.multiaddr) }),
 * })
 * ```
 */
export function registerTargetScheme<K extends keyof TargetKinds>(scheme: TargetScheme<K>): void {
  schemes.set(scheme.kind, scheme as unknown as TargetScheme)
}

/** The registered schemes, built-in ones first. */
export function targetSchemes(): readonly TargetScheme[] {
  return [...schemes.values()]
}

/** The scheme that handles a parsed target; throws `TARGET` for an unknown kind. */
export function schemeFor(target: Target): TargetScheme {
  const scheme = schemes.get(target.kind)
  if (!scheme) throw new AgoraError('TARGET', `no transport is registered for ${target.kind} targets`)
  return scheme
}

/**
 * Parses a target string: `http(s)://…` or `stdio:<command line>` (more schemes as registered).
 *
 * @example
 * ```ts
 * parseTarget('http://127.0.0.1:3000/mcp') // { kind: 'http', url: 'http://127.0.0.1:3000/mcp' }
 * parseTarget('stdio:node server.ts')      // { kind: 'stdio', command: 'node', args: ['server.ts'] }
 * ```
 */
export function parseTarget(text: string): Target {
  const trimmed = text.trim()
  const lower = trimmed.toLowerCase()
  for (const scheme of schemes.values()) {
    if (scheme.prefixes.some((p) => lower.startsWith(p))) return scheme.parse(trimmed)
  }
  const forms = [...schemes.values()].map((s) => s.usage).join(', ')
  throw new AgoraError('TARGET', `unrecognized target ${JSON.stringify(text)}: use one of ${forms}`)
}
