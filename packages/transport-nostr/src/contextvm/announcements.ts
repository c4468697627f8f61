import type { Tool } from '@modelcontextprotocol/server'
import type { AnnouncementMetadata, AnnouncementShape, AnnouncementTemplates } from '../announce/events.ts'
import type { ServerSnapshot } from '../announce/snapshot.ts'

/**
 * Builds ContextVM's public announcements (CEP-6) from a server snapshot, the way
 * `@contextvm/sdk` publishes them: replaceable events (one per kind and pubkey, so no `d` tag),
 * whose content is the bare MCP result, not a JSON-RPC envelope:
 *
 * - server (11316): the `InitializeResult`; tags `name`, `about`, `website`, `picture`, and the
 *   single-element flag `["support_encryption"]` when encryption is offered;
 * - tools (11317), resources (11318), resource templates (11319), prompts (11320): the list
 *   result (`{"tools":[…]}` …), for each capability the server has. A tool with a fixed price gets
 *   a CEP-8 tag `["cap", "tool:<name>", "<amount>", "<asset>"]` on the tools list and the server
 *   announcement.
 *
 * `shape.serverId` and `shape.requestKind` are not used: ContextVM has neither tag.
 *
 * @example
 * ```ts
 * const t = contextvmAnnouncementTemplates(await snapshotServer(server), { ...shape, kinds: CONTEXTVM.kinds.announcements })
 * t.server.kind // 11316
 * JSON.parse(t.tools!.content).tools[0].name // 'forecast'
 * ```
 */
export function contextvmAnnouncementTemplates(snapshot: ServerSnapshot, shape: AnnouncementShape): AnnouncementTemplates {
  const { kinds } = shape
  const { tools, resources, resourceTemplates, prompts } = snapshot
  const caps = (tools ?? []).flatMap(capTag)
  const list = (kind: number, result: object, tags: string[][] = []) => ({ kind, content: JSON.stringify(result), tags })
  return {
    server: { kind: kinds.server, content: JSON.stringify(snapshot.initialize), tags: [...serverTags(shape), ...caps] },
    ...(tools ? { tools: list(kinds.tools, { tools }, caps) } : {}),
    ...(resources ? { resources: list(kinds.resources, { resources }) } : {}),
    // Without a templates kind the list has nowhere to go: a replaceable resources event holds one list.
    ...(resourceTemplates && kinds.resourceTemplates !== undefined
      ? { resourceTemplates: list(kinds.resourceTemplates, { resourceTemplates }) }
      : {}),
    ...(prompts ? { prompts: list(kinds.prompts, { prompts }) } : {}),
  }
}

/** `name`, `about`, `website`, `picture` and the `support_encryption` flag, as the SDK orders them. */
function serverTags(metadata: AnnouncementMetadata): string[][] {
  const tags: string[][] = []
  for (const key of ['name', 'about', 'website', 'picture'] as const) {
    const value = metadata[key]
    if (value) tags.push([key, value])
  }
  if (metadata.supportEncryption) tags.push(['support_encryption'])
  return tags
}

/** CEP-8 pricing tag of a tool with a fixed price (dynamic prices get none). */
function capTag(tool: Tool): string[][] {
  const price = tool._meta?.['agora/price'] as { amount?: unknown; asset?: unknown } | undefined
  if (typeof price?.amount !== 'string' || typeof price.asset !== 'string') return []
  return [['cap', `tool:${tool.name}`, price.amount, price.asset]]
}
