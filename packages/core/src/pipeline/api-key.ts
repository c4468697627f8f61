import { hash } from 'node:crypto'
import type { Caller } from '../caller.ts'
import { AgoraError } from '../errors.ts'
import type { Authenticator } from './authenticate.ts'

/** One API key's holder. */
export interface ApiKeyHolder {
  /** Caller id becomes `key:<name>`. */
  name: string
  scopes?: string[] | undefined
  attributes?: Record<string, unknown> | undefined
}

export interface ApiKeyOptions {
  /** Keys and who holds them. Presented keys are matched by SHA-256 digest. */
  keys: Record<string, ApiKeyHolder>
  /** `_meta` key that carries the key on transports without headers (libp2p, Nostr). */
  metaKey?: string | undefined
}

const sha256 = (s: string) => hash('sha256', s, 'hex')
/** At most this many verified keys are remembered (only keys that are configured can get in). */
const VERIFIED_CACHE = 1024

/**
 * API-key authentication. The key is read from `Authorization: Bearer <key>` or `X-API-Key` on
 * HTTP, or from `params._meta["agora/api-key"]` on any transport.
 *
 * @example
 * ```ts
 * const server = createServer({ name: 'w', version: '1.0.0' })
 *   .auth({ authenticators: [apiKeys({ keys: { 'sk-123': { name: 'alice', scopes: ['read'] } } })], required: true })
 * ```
 */
export function apiKeys(options: ApiKeyOptions): Authenticator {
  const metaKey = options.metaKey ?? 'agora/api-key'
  // Keys are looked up by their SHA-256 digest: timing can only reveal digest prefixes, which an
  // attacker cannot steer toward a real key, so no byte-by-byte comparison of secrets happens.
  const byDigest = new Map<string, Caller>()
  const verified = new Map<string, Caller>()
  for (const [key, holder] of Object.entries(options.keys)) {
    if (key.length < 8) throw new AgoraError('CONFIG', `API key for ${holder.name} is too short (min 8 characters)`)
    const caller: Caller = {
      id: `key:${holder.name}`,
      kind: 'api-key',
      authenticated: true,
      scopes: holder.scopes ?? [],
      attributes: holder.attributes,
    }
    byDigest.set(sha256(key), caller)
  }
  return {
    name: 'api-key',
    authenticate({ transport, meta }) {
      let presented: string | undefined
      const auth = transport.headers?.get('authorization')
      if (auth?.toLowerCase().startsWith('bearer ')) presented = auth.slice(7).trim()
      presented ??= transport.headers?.get('x-api-key')?.trim() || undefined
      const fromMeta = meta[metaKey]
      if (presented === undefined && typeof fromMeta === 'string') presented = fromMeta
      if (presented === undefined) return undefined
      let caller = verified.get(presented)
      if (caller) return caller
      caller = byDigest.get(sha256(presented))
      if (!caller) throw new AgoraError('UNAUTHENTICATED', 'Invalid API key')
      // Remember keys that verified, so a busy caller does not pay a SHA-256 per request.
      if (verified.size >= VERIFIED_CACHE) verified.clear()
      verified.set(presented, caller)
      return caller
    },
  }
}
