import type { InitializeResult, Prompt, Resource, ResourceTemplateType, Tool } from '@modelcontextprotocol/server'
import { specTypeSchemas } from '@modelcontextprotocol/server'

/** A parsed announcement list, by what its result holds. */
export type ParsedList =
  | { readonly type: 'tools'; readonly items: Tool[] }
  | { readonly type: 'resources'; readonly items: Resource[] }
  | { readonly type: 'resourceTemplates'; readonly items: ResourceTemplateType[] }
  | { readonly type: 'prompts'; readonly items: Prompt[] }

export type ListType = ParsedList['type']

/** Either the parsed value or why the content was refused. */
export type Parsed<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly reason: string }

export interface ParseOptions {
  /**
   * `jsonrpc` (default, DVMCP): the content is a JSON-RPC response whose `result` is the MCP
   * result. `result` (ContextVM CEP-6): the content is the bare MCP result.
   */
  content?: 'jsonrpc' | 'result' | undefined
}

/**
 * Parses a server announcement's content: a JSON-RPC response whose `result` is a valid MCP
 * `InitializeResult` (checked with the SDK's spec schemas), or with `content: 'result'` that
 * result alone (ContextVM).
 *
 * @example
 * ```ts
 * const parsed = parseServerContent(event.content)
 * if (parsed.ok) parsed.value.serverInfo.name
 * parseServerContent(contextVmEvent.content, { content: 'result' })
 * ```
 */
export function parseServerContent(content: string, options: ParseOptions = {}): Parsed<InitializeResult> {
  const result = resultOf(content, options)
  if (!result.ok) return result
  return check(specTypeSchemas.InitializeResult, result.value, 'initialize result')
}

/**
 * Parses a list event's content: a JSON-RPC response whose `result` is a tools, resources,
 * resource templates or prompts list, valid per the MCP spec schemas, or with
 * `content: 'result'` that list result alone (ContextVM).
 *
 * @example
 * ```ts
 * const parsed = parseListContent(event.content)
 * if (parsed.ok && parsed.value.type === 'tools') parsed.value.items.map((t) => t.name)
 * ```
 */
export function parseListContent(content: string, options: ParseOptions = {}): Parsed<ParsedList> {
  const parsed = resultOf(content, options)
  if (!parsed.ok) return parsed
  const result = parsed.value
  if ('tools' in result) return as('tools', check(specTypeSchemas.ListToolsResult, result, 'tools list'), (v) => v.tools)
  if ('resourceTemplates' in result) {
    return as(
      'resourceTemplates',
      check(specTypeSchemas.ListResourceTemplatesResult, result, 'resource templates list'),
      (v) => v.resourceTemplates,
    )
  }
  if ('resources' in result) {
    return as('resources', check(specTypeSchemas.ListResourcesResult, result, 'resources list'), (v) => v.resources)
  }
  if ('prompts' in result)
    return as('prompts', check(specTypeSchemas.ListPromptsResult, result, 'prompts list'), (v) => v.prompts)
  return { ok: false, reason: 'result holds no tools, resources, resourceTemplates or prompts list' }
}

function as<T, I, K extends ListType>(type: K, parsed: Parsed<T>, items: (value: T) => I[]): Parsed<ParsedList> {
  if (!parsed.ok) return parsed
  return { ok: true, value: { type, items: items(parsed.value) } as ParsedList }
}

/** The MCP result an announcement carries, in a JSON-RPC envelope or bare. */
function resultOf(content: string, options: ParseOptions): Parsed<Record<string, unknown>> {
  let message: unknown
  try {
    message = JSON.parse(content)
  } catch {
    return { ok: false, reason: 'content is not JSON' }
  }
  if (options.content === 'result') {
    return isObject(message) ? { ok: true, value: message } : { ok: false, reason: 'content is not a JSON object' }
  }
  if (!isObject(message) || message.jsonrpc !== '2.0' || !('id' in message)) {
    return { ok: false, reason: 'content is not a JSON-RPC response' }
  }
  if (!isObject(message.result)) return { ok: false, reason: 'content has no result object' }
  return { ok: true, value: message.result }
}

interface SyncSchema<T> {
  readonly '~standard': {
    validate(
      value: unknown,
    ): { value: T; issues?: undefined } | { issues: ReadonlyArray<{ message: string; path?: ReadonlyArray<unknown> }> }
  }
}

function check<T>(schema: SyncSchema<T>, value: unknown, what: string): Parsed<T> {
  const result = schema['~standard'].validate(value)
  if (!result.issues) return { ok: true, value: result.value }
  const first = result.issues[0]
  const at = first?.path?.length ? ` at ${first.path.map(String).join('.')}` : ''
  return { ok: false, reason: `invalid ${what}${at}: ${first?.message ?? 'does not match the schema'}` }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}
