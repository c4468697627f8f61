import type { Logger } from '@agora/core'
import { createLogger } from '@agora/core'
import { AgoraError } from '@agora/core/errors'
import type { InitializeResult, Prompt, Resource, ResourceTemplateType, Tool } from '@modelcontextprotocol/server'
import type { Filter } from 'nostr-tools/filter'
import type { Event } from 'nostr-tools/pure'
import type { AnnouncementKinds } from '../announce/kinds.ts'
import type { NostrRelays } from '../announce/relays.ts'
import { createNostrRelays } from '../announce/relays.ts'
import { parsePublicKey } from '../keys.ts'
import type { NostrProfile } from '../profile.ts'
import { resolveProfile } from '../profile.ts'
import type { Collected, CollectedEvent } from './collect.ts'
import { collectAnswers, tagValue } from './collect.ts'
import type { ListType, ParsedList } from './parse.ts'
import { parseListContent, parseServerContent } from './parse.ts'

/** A fixed price read from a `["cap", name, amount, asset]` tag. */
export interface DiscoveredPrice {
  readonly amount: string
  readonly asset: string
}

/** A server found through its announcement, joined with its lists. */
export interface DiscoveredServer {
  /** The provider's public key (hex). */
  readonly pubkey: string
  /** The server id (`d` tag); requests address it with `s`. */
  readonly serverId: string
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
  /** Relay access to use instead of `relays` (left open). */
  pool?: NostrRelays | undefined
  /** Dialect whose announcement kinds to read. Default: the DVMCP draft. */
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
  /** Only the server with this id. */
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
 * each, joins lists to servers by `s` tag and author, and filters by tool, name and capability.
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
  const kinds = options.kinds ?? resolveProfile(options.profile).kinds.announcements
  const logger = options.logger ?? createLogger({ component: 'agora:nostr:discover' })
  if (!options.pool && !options.relays?.length) throw new AgoraError('CONFIG', 'discoverNostr needs relays or a pool')
  const authors = options.authors?.map(parsePublicKey)
  const relays = options.pool ?? createNostrRelays(options.relays ?? [], { queryTimeoutMs: options.timeoutMs, logger })
  const reject = (rejection: DiscoveryRejection) => {
    logger.warn(`announcement dropped: ${rejection.reason}`, { ...rejection })
    options.onReject?.(rejection)
  }
  const query = async (filter: Filter, expected: readonly number[]): Promise<Collected> => {
    const answers = await relays.query(filter, { signal: options.signal, timeoutMs: options.timeoutMs })
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
    if (options.tool) {
      // The tools lists name their tools in `t` tags: find those first, then their servers.
      const hits = await query({ kinds: [kinds.tools], '#t': [options.tool], ...(authors ? { authors } : {}) }, [kinds.tools])
      const owners = ownersOf(hits, options.serverId)
      if (owners.pubkeys.length === 0) return []
      ;[servers, lists] = await Promise.all([
        query({ kinds: [kinds.server], authors: owners.pubkeys, '#d': owners.serverIds }, [kinds.server]),
        query({ kinds: listKinds, authors: owners.pubkeys, '#s': owners.serverIds }, listKinds),
      ])
    } else {
      servers = await query(
        {
          kinds: [kinds.server],
          ...(authors ? { authors } : {}),
          ...(options.serverId ? { '#d': [options.serverId] } : {}),
        },
        [kinds.server],
      )
      if (servers.byAddress.size === 0) return []
      const pubkeys = unique([...servers.byAddress.values()].map((s) => s.event.pubkey))
      const serverIds = unique([...servers.byAddress.values()].map((s) => tagValue(s.event, 'd') ?? ''))
      lists = await query({ kinds: listKinds, authors: pubkeys, '#s': serverIds }, listKinds)
    }

    const found: DiscoveredServer[] = []
    for (const slot of servers.byAddress.values()) {
      const server = joinServer(slot, lists, kinds, reject)
      if (server && matches(server, options)) found.push(server)
    }
    return found.sort(
      (a, b) => b.updatedAt - a.updatedAt || a.pubkey.localeCompare(b.pubkey) || a.serverId.localeCompare(b.serverId),
    )
  } finally {
    if (!options.pool) relays.close()
  }
}

/** The providers and server ids that tools lists point at. */
function ownersOf(hits: Collected, serverId: string | undefined): { pubkeys: string[]; serverIds: string[] } {
  const events = [...hits.byAddress.values()]
    .map((slot) => slot.event)
    .filter((e) => tagValue(e, 's') !== undefined && (!serverId || tagValue(e, 's') === serverId))
  return { pubkeys: unique(events.map((e) => e.pubkey)), serverIds: unique(events.map((e) => tagValue(e, 's') as string)) }
}

/** Builds one discovered server from its announcement and its lists, or reports why not. */
function joinServer(
  slot: CollectedEvent,
  lists: Collected,
  kinds: AnnouncementKinds,
  reject: (rejection: DiscoveryRejection) => void,
): DiscoveredServer | undefined {
  const { event } = slot
  const serverId = tagValue(event, 'd')
  const malformed = (reason: string, eventId = event.id) =>
    reject({ kind: 'malformed', reason, eventId, pubkey: event.pubkey, serverId })
  if (!serverId) return void malformed('server announcement has no d tag')
  const initialize = parseServerContent(event.content)
  if (!initialize.ok) return void malformed(`server announcement: ${initialize.reason}`)

  const expectedKind: Record<ListType, number> = {
    tools: kinds.tools,
    resources: kinds.resources,
    resourceTemplates: kinds.resourceTemplates ?? kinds.resources,
    prompts: kinds.prompts,
  }
  const newest = new Map<ListType, { list: ParsedList; event: Event }>()
  for (const { event: listEvent } of lists.byAddress.values()) {
    if (listEvent.pubkey !== event.pubkey || tagValue(listEvent, 's') !== serverId) continue
    const parsed = parseListContent(listEvent.content)
    if (!parsed.ok) return void malformed(`list ${tagValue(listEvent, 'd') ?? ''}: ${parsed.reason}`, listEvent.id)
    const { type } = parsed.value
    if (listEvent.kind !== expectedKind[type]) {
      return void malformed(`list ${tagValue(listEvent, 'd') ?? ''}: a ${type} list under kind ${listEvent.kind}`, listEvent.id)
    }
    const seen = newest.get(type)
    if (!seen || listEvent.created_at > seen.event.created_at) newest.set(type, { list: parsed.value, event: listEvent })
  }
  const items = <T extends ListType>(type: T) => (newest.get(type)?.list.items ?? []) as Extract<ParsedList, { type: T }>['items']
  const toolsEvent = newest.get('tools')?.event
  const prices = toolsEvent ? pricesOf(toolsEvent) : undefined
  const tag = (name: string) => tagValue(event, name)
  const encryption = event.tags.find((t) => t[0] === 'support_encryption')
  return {
    pubkey: event.pubkey,
    serverId,
    ...(tag('name') ? { name: tag('name') } : {}),
    ...(tag('about') ? { about: tag('about') } : {}),
    ...(tag('picture') ? { picture: tag('picture') } : {}),
    ...(tag('website') ? { website: tag('website') } : {}),
    // DVMCP writes "true"; ContextVM writes the tag without a value.
    supportEncryption: encryption !== undefined && encryption[1] !== 'false',
    requestKinds: event.tags.filter((t) => t[0] === 'k' && t[1]).map((t) => t[1] as string),
    initialize: initialize.value,
    tools: items('tools'),
    resources: items('resources'),
    resourceTemplates: items('resourceTemplates'),
    prompts: items('prompts'),
    ...(prices ? { prices } : {}),
    relays: [...slot.relays].sort(),
    updatedAt: Math.max(event.created_at, ...[...newest.values()].map((n) => n.event.created_at)),
  }
}

function pricesOf(event: Event): Record<string, DiscoveredPrice> | undefined {
  const caps = event.tags.filter((t) => t[0] === 'cap' && t[1] && t[2] && t[3])
  if (caps.length === 0) return undefined
  return Object.fromEntries(caps.map(([, name, amount, asset]) => [name, { amount, asset } as DiscoveredPrice]))
}

function matches(server: DiscoveredServer, options: DiscoverNostrOptions): boolean {
  if (options.tool && !server.tools.some((t) => t.name === options.tool)) return false
  if (options.capability && server.initialize.capabilities[options.capability] === undefined) return false
  if (options.name) {
    const needle = options.name.toLowerCase()
    const { name, title } = server.initialize.serverInfo
    const haystack = [server.name, name, title, server.serverId]
    if (!haystack.some((text) => text?.toLowerCase().includes(needle))) return false
  }
  return true
}

function unique<T>(values: readonly T[]): T[] {
  return [...new Set(values)]
}
