import { AgoraError } from '@agora/core/errors'
import { httpScheme } from './http.ts'
import { nostrScheme } from './nostr.ts'
import { p2pScheme } from './p2p.ts'
import { stdioScheme } from './stdio.ts'
import type { Target, TargetKinds, TargetScheme } from './types.ts'

const schemes = new Map<string, TargetScheme>([
  [httpScheme.kind, httpScheme as TargetScheme],
  [stdioScheme.kind, stdioScheme as TargetScheme],
  [p2pScheme.kind, p2pScheme as TargetScheme],
  [nostrScheme.kind, nostrScheme as TargetScheme],
])

/**
 * Adds (or replaces) the scheme for a kind of target, so `parseTarget` and `connect` accept it.
 * Later packages register `nostr:` this way.
 *
 * @example
 * ```ts
 * registerTargetScheme({
 *   kind: 'nostr', prefixes: ['nostr:'], usage: 'nostr:<pubkey>',
 *   parse: (text) => ({ kind: 'nostr', pubkey: text.slice(6) }),
 *   format: (target) => `nostr:${target.pubkey}`,
 *   open: async (target) => ({ transport: await dialNostr(target.pubkey) }),
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
 * Parses a target string: `http(s)://…`, `stdio:<command line>`, `p2p:<multiaddr>/p2p/<PeerId>`
 * or `nostr:<pubkey>[/<serverId>]?relay=<ws url>` (more schemes as registered).
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
