import type { AgoraServer, Logger } from '@agora/core'
import { createLogger } from '@agora/core'
import { AgoraError } from '@agora/core/errors'
import type { Event, EventTemplate } from 'nostr-tools/pure'
import { contextvmAnnouncementTemplates } from '../contextvm/announcements.ts'
import { isContextVm } from '../contextvm/profile.ts'
import { parseSecretKey } from '../keys.ts'
import type { RelayPool } from '../pool.ts'
import { createRelayPool } from '../pool.ts'
import type { NostrProfile } from '../profile.ts'
import { resolveProfile } from '../profile.ts'
import { defaultServerId } from '../server-id.ts'
import { signEvent } from '../signing.ts'
import type { AnnouncementMetadata, AnnouncementTemplates } from './events.ts'
import { announcementTemplates } from './events.ts'
import type { AnnouncementKinds } from './kinds.ts'
import { snapshotServer } from './snapshot.ts'

/** Default quiet time after a list change before the announcement is published again. */
export const DEFAULT_REPUBLISH_DEBOUNCE_MS = 50

export interface AnnounceNostrOptions extends AnnouncementMetadata {
  /** Relay URLs to publish to (a pool is opened and closed with the announcement). */
  relays?: readonly string[] | undefined
  /**
   * Where to publish instead of `relays` (not closed by `close()`): anything with `publish`, e.g. a
   * {@link RelayPool} such as the `pool` of a `serveNostr` handle.
   */
  pool?: Pick<RelayPool, 'publish'> | undefined
  /** The provider's key: 32 bytes, 64 hex characters or `nsec1…`. */
  secretKey: Uint8Array | string
  /** The server id (`d` tag). Default: the server's name, made tag-safe. */
  serverId?: string | undefined
  /** Dialect (kinds and the `k` tag). Default: the DVMCP draft. */
  profile?: NostrProfile | string | undefined
  /** Overrides the profile's announcement kinds. */
  kinds?: AnnouncementKinds | undefined
  /** The `k` tag: the kind requests are accepted on. Default: the profile's (`"5910"`). */
  requestKind?: string | number | undefined
  /** Protocol version asked for in the `initialize` the announcement is made from. */
  protocolVersion?: string | undefined
  /** `close()` also publishes a NIP-09 deletion of the announcement. Default false. */
  deleteOnClose?: boolean | undefined
  /** Quiet time after a list change before republishing. Default {@link DEFAULT_REPUBLISH_DEBOUNCE_MS}. */
  debounceMs?: number | undefined
  /** Called when a republish after a list change fails (it is also logged). */
  onError?: ((err: unknown) => void) | undefined
  logger?: Logger | undefined
  /** Aborts the first publication. */
  signal?: AbortSignal | undefined
}

/** The signed events of an announcement as last published; absent lists are not announced. */
export interface AnnouncedEvents {
  readonly server: Event
  readonly tools?: Event | undefined
  readonly resources?: Event | undefined
  readonly resourceTemplates?: Event | undefined
  readonly prompts?: Event | undefined
}

/** A published announcement. */
export interface NostrAnnouncement {
  /** The provider's public key (hex). */
  readonly pubkey: string
  readonly serverId: string
  /** The events as last published. */
  readonly events: AnnouncedEvents
  /**
   * Publishes every event again from a fresh snapshot of the server (newer `created_at`, so relays
   * replace the old versions). Rejects `CONNECTION` when an event reached no relay.
   */
  republish(options?: { signal?: AbortSignal | undefined }): Promise<AnnouncedEvents>
  /**
   * Stops following list changes; with `delete` (default: the `deleteOnClose` option) publishes a
   * NIP-09 deletion (kind 5, an `a` tag per event) first.
   */
  close(options?: { delete?: boolean | undefined; signal?: AbortSignal | undefined }): Promise<void>
}

type Key = keyof AnnouncementTemplates
const KEYS: readonly Key[] = ['server', 'tools', 'resources', 'resourceTemplates', 'prompts']

/**
 * Announces a server on Nostr the DVMCP way: a server announcement (31316, content = the
 * JSON-RPC `initialize` response the real server gives) and one list event per capability it has
 * (31317 tools, 31318 resources and resource templates, 31319 prompts), all addressable, so a newer
 * version replaces the old one on relays. Lists are what an anonymous caller sees. Priced tools
 * carry `["cap", name, amount, asset]` tags. Adding a tool, resource or prompt republishes the
 * changed events after `debounceMs`. Serve the requests themselves with the Nostr transport.
 * With `profile: CONTEXTVM` the events follow ContextVM's CEP-6 instead (11316–11320, replaceable,
 * content = the bare MCP result; see `contextvmAnnouncementTemplates`).
 *
 * @example
 * ```ts
 * const announcement = await announceNostr(server, {
 *   relays: ['wss://relay.example'], secretKey: process.env.NOSTR_SECRET_KEY!,
 *   serverId: 'weather', name: 'Weather', about: 'Forecasts for any city',
 * })
 * console.log(announcement.pubkey, announcement.events.tools?.id)
 * await announcement.close({ delete: true })
 * ```
 */
export async function announceNostr(server: AgoraServer, options: AnnounceNostrOptions): Promise<NostrAnnouncement> {
  const secretKey = parseSecretKey(options.secretKey)
  const profile = resolveProfile(options.profile)
  const kinds = options.kinds ?? profile.kinds.announcements
  const requestKind = String(options.requestKind ?? profile.requestKindTag)
  if (!/^\d+$/.test(requestKind)) throw new AgoraError('CONFIG', `requestKind must be an event kind, got ${requestKind}`)
  const serverId = options.serverId ?? defaultServerId(server.info.name)
  if (!serverId) throw new AgoraError('CONFIG', 'serverId must not be empty')
  if (!options.pool && !options.relays?.length) throw new AgoraError('CONFIG', 'announceNostr needs relays or a pool')
  const logger = options.logger ?? createLogger({ component: 'agora:nostr:announce' })
  const owned = options.pool ? undefined : createRelayPool({ relays: options.relays ?? [], logger })
  const relays = options.pool ?? (owned as RelayPool)
  const { name, about, picture, website, supportEncryption } = options
  const shape = { serverId, requestKind, kinds, name, about, picture, website, supportEncryption }

  let current: Partial<Record<Key, Event>> = {}
  let lastCreatedAt = 0
  /** Seconds, strictly after the previous round: relays keep the newer event, and on a tie the lower id. */
  const nextCreatedAt = () => {
    lastCreatedAt = Math.max(Math.floor(Date.now() / 1000), lastCreatedAt + 1)
    return lastCreatedAt
  }

  const publishRound = async (force: boolean, signal: AbortSignal | undefined): Promise<AnnouncedEvents> => {
    const snapshot = await snapshotServer(server, { protocolVersion: options.protocolVersion, signal })
    // ContextVM (CEP-6) announces bare results on replaceable kinds; DVMCP, JSON-RPC responses on addressable ones.
    const templates = (isContextVm(profile) ? contextvmAnnouncementTemplates : announcementTemplates)(snapshot, shape)
    const changed = KEYS.filter((key) => {
      const template = templates[key]
      return template !== undefined && (force || !sameEvent(current[key], template))
    })
    if (changed.length === 0) return current as AnnouncedEvents
    const createdAt = nextCreatedAt()
    const signed = changed.map((key) => {
      const template = templates[key] as Omit<EventTemplate, 'created_at'>
      return [key, signEvent({ ...template, created_at: createdAt }, secretKey)] as const
    })
    const results = await Promise.allSettled(signed.map(([, event]) => relays.publish(event, { signal })))
    const next = { ...current }
    const unpublished: Array<{ key: Key; error: unknown }> = []
    results.forEach((result, i) => {
      const [key, event] = signed[i] as (typeof signed)[number]
      if (result.status === 'fulfilled') next[key] = event
      else unpublished.push({ key, error: result.reason })
    })
    current = next
    if (unpublished.length > 0) {
      const first = unpublished[0]?.error
      if (first instanceof AgoraError && first.code === 'CANCELLED') throw first
      throw new AgoraError('CONNECTION', `announcement not published: ${unpublished.map((u) => u.key).join(', ')}`, {
        cause: first,
        data: { serverId, unpublished: unpublished.map((u) => u.key) },
      })
    }
    return current as AnnouncedEvents
  }

  // Rounds run one after another, so timestamps only grow and a change never races a republish.
  let queue: Promise<unknown> = Promise.resolve()
  const enqueue = (force: boolean, signal?: AbortSignal) => {
    const round = queue.then(() => publishRound(force, signal))
    queue = round.catch(() => {})
    return round
  }

  try {
    await enqueue(true, options.signal)
  } catch (err) {
    owned?.close()
    throw err
  }

  let timer: NodeJS.Timeout | undefined
  let closed: Promise<void> | undefined
  const stopListening = server.onChange((change) => {
    if (change.kind !== 'list-changed' || closed) return
    clearTimeout(timer)
    timer = setTimeout(() => {
      timer = undefined
      enqueue(false).catch((err: unknown) => {
        logger.warn('republishing the announcement failed', { serverId, error: (err as Error).message })
        options.onError?.(err)
      })
    }, options.debounceMs ?? DEFAULT_REPUBLISH_DEBOUNCE_MS)
    timer.unref()
  })

  const pubkey = (current.server as Event).pubkey
  return {
    pubkey,
    serverId,
    get events() {
      return current as AnnouncedEvents
    },
    republish: ({ signal } = {}) => {
      if (closed) return Promise.reject(new AgoraError('CONFLICT', 'the announcement is closed'))
      return enqueue(true, signal)
    },
    close({ delete: remove = options.deleteOnClose ?? false, signal } = {}) {
      closed ??= (async () => {
        stopListening()
        clearTimeout(timer)
        await queue
        try {
          if (remove) await relays.publish(deletionEvent(current, nextCreatedAt(), secretKey), { signal })
        } finally {
          owned?.close()
        }
      })()
      return closed
    },
  }
}

/** A NIP-09 deletion of every announced event: one `a` tag per address, one `k` tag per kind. */
function deletionEvent(events: Partial<Record<Key, Event>>, createdAt: number, secretKey: Uint8Array): Event {
  const announced = KEYS.flatMap((key) => (events[key] ? [events[key]] : []))
  const addresses = announced.map((e) => ['a', `${e.kind}:${e.pubkey}:${e.tags.find((t) => t[0] === 'd')?.[1] ?? ''}`])
  const kinds = [...new Set(announced.map((e) => e.kind))].map((kind) => ['k', String(kind)])
  return signEvent({ kind: 5, created_at: createdAt, content: 'server withdrawn', tags: [...addresses, ...kinds] }, secretKey)
}

function sameEvent(event: Event | undefined, template: Omit<EventTemplate, 'created_at'>): boolean {
  return (
    event !== undefined &&
    event.kind === template.kind &&
    event.content === template.content &&
    JSON.stringify(event.tags) === JSON.stringify(template.tags)
  )
}
