import { createHash, timingSafeEqual } from 'node:crypto'
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
  /** Keys and who holds them. Keys are hashed on load; the plain text is not kept. */
  keys: Record<string, ApiKeyHolder>
  /** `_meta` key that carries the key on transports without headers (libp2p, Nostr). */
  metaKey?: string | undefined
}

const sha256 = (s: string) => createHash('sha256').update(s).digest()

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
  // Compare digests in constant time; a Map lookup on the digest keeps it O(1) without leaking key bytes.
  const byDigest = new Map<string, { digest: Buffer; caller: Caller }>()
  for (const [key, holder] of Object.entries(options.keys)) {
    if (key.length < 8) throw new AgoraError('CONFIG', `API key for ${holder.name} is too short (min 8 characters)`)
    const digest = sha256(key)
    const caller: Caller = {
      id: `key:${holder.name}`,
      kind: 'api-key',
      authenticated: true,
      scopes: holder.scopes ?? [],
      attributes: holder.attributes,
    }
    byDigest.set(digest.toString('hex'), { digest, caller })
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
      const digest = sha256(presented)
      const hit = byDigest.get(digest.toString('hex'))
      if (!hit || !timingSafeEqual(hit.digest, digest)) {
        throw new AgoraError('UNAUTHENTICATED', 'Invalid API key')
      }
      return hit.caller
    },
  }
}
