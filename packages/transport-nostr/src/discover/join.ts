import type { Event } from 'nostr-tools/pure'
import type { AnnouncementKinds } from '../announce/kinds.ts'
import { isContextVm } from '../contextvm/profile.ts'
import type { NostrProfile } from '../profile.ts'
import type { Collected, CollectedEvent } from './collect.ts'
import { tagValue } from './collect.ts'
import type { DiscoveredPrice, DiscoveredServer, DiscoverNostrOptions, DiscoveryRejection } from './discover.ts'
import type { ListType, ParsedList } from './parse.ts'
import { parseListContent, parseServerContent } from './parse.ts'

/** How a dialect's announcements tie together. */
export interface Dialect {
  /** The profile's id, reported on each server found. */
  readonly profile: string
  /**
   * DVMCP: a server announcement names its server id in `d` and lists point at it with `s` (one
   * key, several servers). ContextVM: none of these tags; one pubkey is one server.
   */
  readonly serverIds: boolean
  /** DVMCP: a JSON-RPC response around the MCP result. ContextVM: the bare result. */
  readonly content: 'jsonrpc' | 'result'
}

/**
 * The announcement dialect of a profile.
 *
 * @example
 * ```ts
 * dialectOf(CONTEXTVM) // { profile: 'contextvm', serverIds: false, content: 'result' }
 * ```
 */
export function dialectOf(profile: NostrProfile): Dialect {
  return isContextVm(profile)
    ? { profile: profile.id, serverIds: false, content: 'result' }
    : { profile: profile.id, serverIds: true, content: 'jsonrpc' }
}

/** Builds one discovered server from its announcement and its lists, or reports why not. */
export function joinServer(
  slot: CollectedEvent,
  lists: Collected,
  { kinds, dialect }: { kinds: AnnouncementKinds; dialect: Dialect },
  reject: (rejection: DiscoveryRejection) => void,
): DiscoveredServer | undefined {
  const { event } = slot
  const serverId = dialect.serverIds ? tagValue(event, 'd') : ''
  const malformed = (reason: string, eventId = event.id) =>
    reject({ kind: 'malformed', reason, eventId, pubkey: event.pubkey, serverId })
  if (serverId === undefined || (dialect.serverIds && !serverId)) return void malformed('server announcement has no d tag')
  const parseOptions = { content: dialect.content }
  const initialize = parseServerContent(event.content, parseOptions)
  if (!initialize.ok) return void malformed(`server announcement: ${initialize.reason}`)

  const expectedKind: Record<ListType, number> = {
    tools: kinds.tools,
    resources: kinds.resources,
    resourceTemplates: kinds.resourceTemplates ?? kinds.resources,
    prompts: kinds.prompts,
  }
  const newest = new Map<ListType, { list: ParsedList; event: Event }>()
  for (const { event: listEvent } of lists.byAddress.values()) {
    if (listEvent.pubkey !== event.pubkey || (dialect.serverIds && tagValue(listEvent, 's') !== serverId)) continue
    const label = `list ${tagValue(listEvent, 'd') ?? `of kind ${listEvent.kind}`}`
    const parsed = parseListContent(listEvent.content, parseOptions)
    if (!parsed.ok) return void malformed(`${label}: ${parsed.reason}`, listEvent.id)
    const { type } = parsed.value
    if (listEvent.kind !== expectedKind[type]) {
      return void malformed(`${label}: a ${type} list under kind ${listEvent.kind}`, listEvent.id)
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
    profile: dialect.profile,
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

/** Tool prices from `cap` tags: `["cap", name, amount, asset]`, or ContextVM's (CEP-8) `["cap", "tool:<name>", …]`. */
function pricesOf(event: Event): Record<string, DiscoveredPrice> | undefined {
  const caps = event.tags.filter((t) => t[0] === 'cap' && t[1] && t[2] && t[3])
  if (caps.length === 0) return undefined
  return Object.fromEntries(
    caps.map(([, name, amount, asset]) => [(name as string).replace(/^tool:/, ''), { amount, asset } as DiscoveredPrice]),
  )
}

/** True when a server passes the `tool`, `capability` and `name` filters. */
export function matches(server: DiscoveredServer, options: DiscoverNostrOptions): boolean {
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
