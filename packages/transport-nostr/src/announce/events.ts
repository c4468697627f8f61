import type { Tool } from '@modelcontextprotocol/server'
import type { EventTemplate } from 'nostr-tools/pure'
import type { AnnouncementKinds } from './kinds.ts'
import { LIST_D_SUFFIX } from './kinds.ts'
import type { ServerSnapshot } from './snapshot.ts'

/** Human-facing metadata of a server announcement (its optional tags). */
export interface AnnouncementMetadata {
  /** `name` tag. */
  name?: string | undefined
  /** `about` tag. */
  about?: string | undefined
  /** `picture` tag: an icon URL. */
  picture?: string | undefined
  /** `website` tag. */
  website?: string | undefined
  /** Adds `["support_encryption", "true"]`. */
  supportEncryption?: boolean | undefined
}

export interface AnnouncementShape extends AnnouncementMetadata {
  /** The `d` tag of the server announcement; lists point at it with `s`. */
  serverId: string
  /** The request kind for the `k` tag, e.g. `"5910"`. */
  requestKind: string
  kinds: AnnouncementKinds
}

/** The unsigned events of one announcement; a list is absent when the server lacks it. */
export interface AnnouncementTemplates {
  server: Omit<EventTemplate, 'created_at'>
  tools?: Omit<EventTemplate, 'created_at'> | undefined
  resources?: Omit<EventTemplate, 'created_at'> | undefined
  resourceTemplates?: Omit<EventTemplate, 'created_at'> | undefined
  prompts?: Omit<EventTemplate, 'created_at'> | undefined
}

/**
 * Builds the DVMCP announcement events (without timestamps) from a server snapshot: the server
 * announcement whose content is the JSON-RPC `initialize` response, and one list event per
 * capability the server has. Priced tools get a `["cap", name, amount, asset]` tag.
 *
 * @example
 * ```ts
 * const t = announcementTemplates(await snapshotServer(server), {
 *   serverId: 'weather', requestKind: '5910', kinds: DVMCP_DRAFT.kinds.announcements,
 * })
 * t.tools?.tags // [['d', 'weather/tools/list'], ['s', 'weather'], ['t', 'forecast'], ['cap', 'forecast', '0.01', 'USDC']]
 * ```
 */
export function announcementTemplates(snapshot: ServerSnapshot, shape: AnnouncementShape): AnnouncementTemplates {
  const { serverId, kinds } = shape
  const serverTags: string[][] = [
    ['d', serverId],
    ['k', shape.requestKind],
  ]
  for (const key of ['name', 'about', 'picture', 'website'] as const) {
    const value = shape[key]
    if (value) serverTags.push([key, value])
  }
  if (shape.supportEncryption) serverTags.push(['support_encryption', 'true'])

  const list = (kind: number, suffix: string, key: string, items: ReadonlyArray<{ name: string }>, extra: string[][] = []) => ({
    kind,
    content: jsonRpcResult({ [key]: items }),
    tags: [['d', `${serverId}/${suffix}`], ['s', serverId], ...items.map((item) => ['t', item.name]), ...extra],
  })
  const { tools, resources, resourceTemplates, prompts } = snapshot
  return {
    server: { kind: kinds.server, content: jsonRpcResult(snapshot.initialize), tags: serverTags },
    ...(tools ? { tools: list(kinds.tools, LIST_D_SUFFIX.tools, 'tools', tools, tools.flatMap(capTag)) } : {}),
    ...(resources ? { resources: list(kinds.resources, LIST_D_SUFFIX.resources, 'resources', resources) } : {}),
    ...(resourceTemplates && resourceTemplates.length > 0
      ? {
          resourceTemplates: list(
            kinds.resourceTemplates ?? kinds.resources,
            LIST_D_SUFFIX.resourceTemplates,
            'resourceTemplates',
            resourceTemplates,
          ),
        }
      : {}),
    ...(prompts ? { prompts: list(kinds.prompts, LIST_D_SUFFIX.prompts, 'prompts', prompts) } : {}),
  }
}

/** The content of every announcement: a JSON-RPC response with id 1, stringified. */
function jsonRpcResult(result: object): string {
  return JSON.stringify({ jsonrpc: '2.0', id: 1, result })
}

/** `["cap", name, amount, asset]` for a tool with a fixed price (dynamic prices get no tag). */
function capTag(tool: Tool): string[][] {
  const price = tool._meta?.['agora/price'] as { amount?: unknown; asset?: unknown } | undefined
  if (typeof price?.amount !== 'string' || typeof price.asset !== 'string') return []
  return [['cap', tool.name, price.amount, price.asset]]
}
