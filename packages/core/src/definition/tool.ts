import type { CallToolResult, ClientCapabilities, ContentBlock, ToolAnnotations } from '@modelcontextprotocol/server'
import type { HandlerContext } from '../context.ts'
import type { AgoraSchema, InferOutput } from '../schema.ts'
import { toJsonSchema } from '../schema.ts'
import type { AccessRule } from './access.ts'
import type { PriceSpec } from './price.ts'
import { describePrice, parsePrice } from './price.ts'

/** What a tool handler may return: text, content blocks, a full result, or structured data. */
export type ToolReturn = string | ContentBlock | ContentBlock[] | CallToolResult | Record<string, unknown> | undefined

export type ToolHandler<Args> = (args: Args, ctx: HandlerContext) => ToolReturn | Promise<ToolReturn>

/** How a tool is described when it is defined. */
export interface ToolConfig<In extends AgoraSchema | undefined = AgoraSchema | undefined> {
  title?: string | undefined
  description?: string | undefined
  /** Input schema (zod v4 object or any Standard JSON Schema); omitted means no arguments. */
  input?: In
  /** Output schema: when set, the handler returns structured data validated against it. */
  output?: AgoraSchema | undefined
  annotations?: ToolAnnotations | undefined
  /** What a call costs; free when omitted. */
  price?: PriceSpec<In extends AgoraSchema ? InferOutput<In> : Record<string, unknown>> | undefined
  /** Who may call it; anyone when omitted. */
  access?: AccessRule | undefined
  /**
   * Client capabilities the tool cannot work without, e.g. `{ sampling: {} }`. A caller that did not
   * declare them gets `MissingRequiredClientCapability` (-32021, HTTP 400) before any gate runs.
   */
  requires?: ClientCapabilities | undefined
  /** Abort the handler after this long (ms). Default 60 000; 0 disables. */
  timeoutMs?: number | undefined
  /** Extra `_meta` listed with the tool. */
  meta?: Record<string, unknown> | undefined
}

/** A tool as Agora keeps it: the config plus everything derived once at definition time. */
export interface ToolEntry {
  readonly name: string
  readonly config: ToolConfig
  readonly handler: ToolHandler<never>
  /** The `tools/list` entry, computed once. */
  readonly listing: {
    name: string
    title?: string
    description?: string
    inputSchema: Record<string, unknown>
    outputSchema?: Record<string, unknown>
    annotations?: ToolAnnotations
    _meta?: Record<string, unknown>
  }
}

const NAME = /^[A-Za-z0-9_.-]{1,128}$/

/** Validates a tool definition and precomputes its listing. */
export function createToolEntry(name: string, config: ToolConfig, handler: ToolHandler<never>): ToolEntry {
  if (!NAME.test(name)) throw new Error(`invalid tool name ${JSON.stringify(name)}: use 1-128 of A-Z a-z 0-9 _ . -`)
  if (config.price !== undefined && typeof config.price !== 'function') parsePrice(config.price)
  const price = describePrice(config.price as PriceSpec<never> | undefined)
  const meta = { ...config.meta, ...(price ? { 'agora/price': price } : {}) }
  const listing: ToolEntry['listing'] = {
    name,
    inputSchema: toJsonSchema(config.input, 'input'),
    ...(config.title ? { title: config.title } : {}),
    ...(config.description ? { description: config.description } : {}),
    ...(config.output ? { outputSchema: toJsonSchema(config.output, 'output') } : {}),
    ...(config.annotations ? { annotations: config.annotations } : {}),
    ...(Object.keys(meta).length > 0 ? { _meta: meta } : {}),
  }
  return { name, config, handler, listing }
}

function isContentBlock(v: unknown): v is ContentBlock {
  return typeof v === 'object' && v !== null && typeof (v as { type?: unknown }).type === 'string' && !('content' in v)
}

/** Normalises what a handler returned into a `CallToolResult`. */
export function toCallToolResult(value: ToolReturn, hasOutputSchema: boolean): CallToolResult {
  if (value === undefined) return { content: [] }
  if (typeof value === 'string') return { content: [{ type: 'text', text: value }] }
  if (Array.isArray(value)) return { content: value }
  if (typeof value === 'object' && Array.isArray((value as CallToolResult).content)) return value as CallToolResult
  if (!hasOutputSchema && isContentBlock(value)) return { content: [value] }
  return { content: [{ type: 'text', text: JSON.stringify(value) }], structuredContent: value as Record<string, unknown> }
}
