import type { Logger } from '@agora/core'
import { createLogger } from '@agora/core'
import { AgoraError } from '@agora/core/errors'
import type { InitializeResult, Prompt, Resource, ResourceTemplateType, Tool } from '@modelcontextprotocol/server'
import type { Filter } from 'nostr-tools/filter'
import type { AnnouncementKinds } from '../announce/kinds.ts'
import { parsePublicKey } from '../keys.ts'
import type { RelayPool } from '../pool.ts'
import { createRelayPool } from '../pool.ts'
import type { NostrProfile } from '../profile.ts'
import { resolveProfile } from '../profile.ts'
import type { Collected } from './collect.ts'
import { collectAnswers, tagValue } from './collect.ts'
import { dialectOf, joinServer, matches } from './join.ts'

/** A fixed price read from a `["cap", name, amount, asset]` tag (ContextVM: `["cap", "tool:<name>", …]`). */
export interface DiscoveredPrice {
  readonly amount: string
  readonly asset: string
}

/** A server found through its announcement, joined with its lists. */
export interface DiscoveredServer {
  /** The provider's public key (hex). */
  readonly pubkey: string
  /** The server id (`d` tag); requests address it with `s`. Empty under ContextVM, where one pubkey is one server. */
  readonly serverId: string
  /** Id of the profile whose announcements these are (e.g. `dvmcp-2025-03-26-draft`, `contextvm`): the one to connect with. */
  readonly profile: string
  readonly name?: string | undefined
  readonly about?: string | undefined
  readonly picture?: string | undefined
  readonly website?: string | undefined
  readonly supportEncryption: boolean
  /** The `k` tags: kinds the server takes requests on. */
  readonly requestKinds: readonly string[]
  /** The announced `initialize` result. */
  readonly initialize: InitializeResult
  readonly tools: readonly Tool[]
  readonly resources: readonly Resource[]
  readonly resourceTemplates: readonly ResourceTemplateType[]
  readonly prompts: readonly Prompt[]
  /** Tool prices by tool name, from `cap` tags; absent when nothing is priced. */
  readonly prices?: Readonly<Record<string, DiscoveredPrice>> | undefined
  /** Relays that returned the server announcement. */
  readonly relays: readonly string[]
  /** Newest `created_at` (Unix seconds) of the announcement and its lists. */
  readonly updatedAt: number
}

/** An event or server discovery left out, and why. */
export interface DiscoveryRejection {
  /** `forged`: bad id or signature; `malformed`: content or tags not as the spec says. */
  readonly kind: 'forged' | 'malformed'
  readonly reason: string
  readonly eventId?: string | undefined
  readonly pubkey?: string | undefined
  readonly serverId?: string | undefined
  readonly relay?: string | undefined
}

export interface DiscoverNostrOptions {
  /** Relay URLs to ask (a pool is opened for the call and closed after). */
  relays?: readonly string[] | undefined
  /** Relay access to use instead of `relays` (left open): a {@link RelayPool}, or anything with its `queryEach`. */
  pool?: Pick<RelayPool, 'queryEach'> | undefined
  /**
   * Dialect whose announcements to read: its kinds, and how they tie together. Default: the DVMCP
   * draft (addressable events, lists joined by `s` tag). `CONTEXTVM` reads CEP-6 (replaceable
   * events, bare MCP results, lists joined by author).
   */
  profile?: NostrProfile | string | undefined
  /** Overrides the profile's announcement kinds. */
  kinds?: AnnouncementKinds | undefined
  /** Only servers offering a tool with exactly this name. */
  tool?: string | undefined
  /** Only servers whose name (tag, `serverInfo.name` or `title`) or id contains this, ignoring case. */
  name?: string | undefined
  /** Only servers with this capability in their `initialize` result. */
  capability?: 'tools' | 'resources' | 'prompts' | undefined
  /** Only servers of these providers (hex or `npub1…`). */
  authors?: readonly string[] | undefined
  /** Only the server with this id (profiles with server ids; ignored under ContextVM). */
  serverId?: string | undefined
  /** Bound on each relay's answer to each query. Default 4000 ms. */
  timeoutMs?: number | undefined
  /** Hears every dropped event or skipped server (they are also logged). */
  onReject?: ((rejection: DiscoveryRejection) => void) | undefined
  logger?: Logger | undefined
  signal?: AbortSignal | undefined
}

/**
 * Finds servers announced on Nostr: reads server announcements and their lists from every relay,
 * verifies every signature (forged events are dropped and reported), keeps the newest version of
 * each, joins lists to servers by author and `s` tag (by author alone under ContextVM), and
 * filters by tool, name and capability.
 * A dead relay among several is tolerated; it rejects `CONNECTION` only when no relay answers.
 * A server whose announcement or lists are malformed is skipped (reported), the others returned.
 *
 * @example
 * ```ts
 * const found = await discoverNostr({ relays: ['wss://relay.example'], tool: 'forecast' })
 * for (const s of found) console.log(s.pubkey, s.serverId, s.tools.map((t) => t.name))
 * ```
 */
export async function discoverNostr(options: DiscoverNostrOptions = {}): Promise<DiscoveredServer[]> {
  const profile = resolveProfile(options.profile)
  const kinds = options.kinds ?? profile.kinds.announcements
  const dialect = dialectOf(profile)
  const logger = options.logger ?? createLogger({ component: 'agora:nostr:discover' })
  if (!options.pool && !options.relays?.length) throw new AgoraError('CONFIG', 'discoverNostr needs relays or a pool')
  const authors = options.authors?.map(parsePublicKey)
  const owned = options.pool ? undefined : createRelayPool({ relays: options.relays ?? [], logger })
  const relays = options.pool ?? (owned as RelayPool)
  const reject = (rejection: DiscoveryRejection) => {
    logger.warn(`announcement dropped: ${rejection.reason}`, { ...rejection })
    options.onReject?.(rejection)
  }
  const query = async (filter: Filter, expected: readonly number[]): Promise<Collected> => {
    const answers = await relays.queryEach(filter, { signal: options.signal, maxWaitMs: options.timeoutMs ?? 4000 })
    const collected = collectAnswers(answers, new Set(expected))
    if (collected.answered.length === 0) {
      throw new AgoraError(
        'CONNECTION',
        `no relay answered: ${collected.failed.map((f) => `${f.relay} (${f.error})`).join(', ')}`,
        {
          data: { failed: collected.failed },
        },
      )
    }
    for (const { relay, error } of collected.failed) logger.warn('relay did not answer', { relay, error })
    for (const eventId of collected.forgedIds) reject({ kind: 'forged', reason: 'bad id or signature', eventId })
    const droppedByClient = collected.forged - collected.forgedIds.length
    if (droppedByClient > 0)
      reject({ kind: 'forged', reason: `${droppedByClient} event(s) failed verification in the relay client` })
    return collected
  }

  const listKinds = [...new Set([kinds.tools, kinds.resources, kinds.prompts, kinds.resourceTemplates ?? kinds.resources])]
  try {
    let servers: Collected
    let lists: Collected
    if (options.tool && dialect.serverIds) {
      // DVMCP tools lists name their tools in `t` tags: find those first, then their servers.
      const hits = await query({ kinds: [kinds.tools], '#t': [options.tool], ...(authors ? { authors } : {}) }, [kinds.tools])
      const owners = ownersOf(hits, options.serverId)
      if (owners.pubkeys.length === 0) return []
      ;[servers, lists] = await Promise.all([
        query({ kinds: [kinds.server], authors: owners.pubkeys, '#d': owners.serverIds }, [kinds.server]),
        query({ kinds: listKinds, authors: owners.pubkeys, '#s': owners.serverIds }, listKinds),
      ])
    } else {
      // ContextVM lists carry no tags: a tool is looked for in the lists themselves (see `matches`).
      const byId = dialect.serverIds && options.serverId ? { '#d': [options.serverId] } : {}
      servers = await query({ kinds: [kinds.server], ...(authors ? { authors } : {}), ...byId }, [kinds.server])
      if (servers.byAddress.size === 0) return []
      const pubkeys = unique([...servers.byAddress.values()].map((s) => s.event.pubkey))
      const serverIds = unique([...servers.byAddress.values()].map((s) => tagValue(s.event, 'd') ?? ''))
      const ofServers = dialect.serverIds ? { '#s': serverIds } : {}
      lists = await query({ kinds: listKinds, authors: pubkeys, ...ofServers }, listKinds)
    }

    const found: DiscoveredServer[] = []
    for (const slot of servers.byAddress.values()) {
      const server = joinServer(slot, lists, { kinds, dialect }, reject)
      if (server && matches(server, options)) found.push(server)
    }
    return found.sort(
      (a, b) => b.updatedAt - a.updatedAt || a.pubkey.localeCompare(b.pubkey) || a.serverId.localeCompare(b.serverId),
    )
  } finally {
    owned?.close()
  }
}

/** The providers and server ids that tools lists point at. */
function ownersOf(hits: Collected, serverId: string | undefined): { pubkeys: string[]; serverIds: string[] } {
  const events = [...hits.byAddress.values()]
    .map((slot) => slot.event)
    .filter((e) => tagValue(e, 's') !== undefined && (!serverId || tagValue(e, 's') === serverId))
  return { pubkeys: unique(events.map((e) => e.pubkey)), serverIds: unique(events.map((e) => tagValue(e, 's') as string)) }
}

function unique<T>(values: readonly T[]): T[] {
  return [...new Set(values)]
}
