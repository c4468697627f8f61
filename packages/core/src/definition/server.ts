import type { HandlerContext } from '../context.ts'
import type { AuthenticateOptions } from '../pipeline/authenticate.ts'
import type { Gate } from '../pipeline/invocation.ts'
import type { PaymentGateway } from '../pipeline/payment.ts'
import type { RateLimiter, TokenBucketOptions } from '../pipeline/rate-limit.ts'
import type { AgoraSchema, InferOutput } from '../schema.ts'
import type { PromptConfig, PromptEntry, PromptHandler } from './prompt.ts'
import { createPromptEntry } from './prompt.ts'
import type {
  ResourceConfig,
  ResourceEntry,
  ResourceReader,
  ResourceTemplateConfig,
  ResourceTemplateEntry,
  TemplateReader,
} from './resource.ts'
import { createResourceEntry, createResourceTemplateEntry } from './resource.ts'
import type { ToolConfig, ToolEntry, ToolHandler } from './tool.ts'
import { createToolEntry } from './tool.ts'

/** Who the server is. */
export interface ServerInfo {
  /** Machine name, e.g. `weather` or `io.github.alice/weather`. */
  name: string
  version: string
  title?: string | undefined
  description?: string | undefined
  /** Guidance for the model, sent as MCP `instructions`. */
  instructions?: string | undefined
  websiteUrl?: string | undefined
}

/** The server's gate configuration, as set through the builder. */
export interface GateConfig {
  auth: AuthenticateOptions | undefined
  rateLimit: RateLimiter | TokenBucketOptions | undefined
  payments: PaymentGateway | undefined
  custom: Gate[]
}

const BRAND = Symbol.for('agora.server')

/**
 * A change a definition announces to whoever serves it (see {@link AgoraServer.onChange}):
 * a resource's content changed, or a tool, resource (template) or prompt was added or removed.
 */
export type ServerChange =
  | { readonly kind: 'resource-updated'; readonly uri: string }
  | { readonly kind: 'list-changed'; readonly list: 'tools' | 'resources' | 'prompts' }
export type ChangeListener = (change: ServerChange) => void

type ArgsOf<In> = In extends AgoraSchema ? InferOutput<In> : Record<string, never>

/**
 * An Agora server definition: what it offers (tools, resources, prompts) and the gates in front
 * of it. It is transport-free; `serveHttp`, `serveStdio` (and later libp2p, Nostr) serve it.
 */
export interface AgoraServer {
  readonly [BRAND]: true
  readonly info: ServerInfo
  readonly tools: ReadonlyMap<string, ToolEntry>
  readonly resources: ReadonlyMap<string, ResourceEntry>
  readonly resourceTemplates: readonly ResourceTemplateEntry[]
  readonly prompts: ReadonlyMap<string, PromptEntry>
  readonly gates: Readonly<GateConfig>
  /** Adds a tool. The handler receives the validated arguments and a {@link HandlerContext}. */
  tool<In extends AgoraSchema | undefined = undefined>(
    name: string,
    config: ToolConfig<In>,
    handler: ToolHandler<ArgsOf<In>>,
  ): this
  /** Adds a static resource at a fixed URI. */
  resource(uri: string, config: ResourceConfig, read: ResourceReader): this
  /** Adds a family of resources under an RFC 6570 URI template, e.g. `weather://station/{id}`. */
  resourceTemplate(uriTemplate: string, config: ResourceTemplateConfig, read: TemplateReader): this
  /** Adds a prompt with (string) arguments. */
  prompt<A extends AgoraSchema | undefined = undefined>(
    name: string,
    config: PromptConfig<A>,
    handler: PromptHandler<ArgsOf<A>>,
  ): this
  /** Configures authentication (API keys, later DIDs and OAuth). */
  auth(options: AuthenticateOptions): this
  /** Limits requests per caller; `false` turns limiting off. */
  rateLimit(options: TokenBucketOptions | RateLimiter | false): this
  /** Connects the payment engine that priced tools are paid through. */
  payments(gateway: PaymentGateway): this
  /** Adds a custom gate, run after payment verification and before the handler. */
  use(gate: Gate): this
  /** Removes a tool; connected clients hear `notifications/tools/list_changed`. False when there was none. */
  removeTool(name: string): boolean
  /** Removes a static resource; connected clients hear `notifications/resources/list_changed`. */
  removeResource(uri: string): boolean
  /** Removes a resource template; connected clients hear `notifications/resources/list_changed`. */
  removeResourceTemplate(uriTemplate: string): boolean
  /** Removes a prompt; connected clients hear `notifications/prompts/list_changed`. */
  removePrompt(name: string): boolean
  /**
   * Announces that the content of a resource changed. Clients that subscribed to `uri` hear about
   * it: 2025-era clients through `resources/subscribe` + `notifications/resources/updated`,
   * 2026-07-28 clients through `subscriptions/listen` streams over HTTP.
   */
  resourceUpdated(uri: string): void
  /** Listens for announced changes; serving layers use this. Returns the function that stops listening. */
  onChange(listener: ChangeListener): () => void
  /** Bumped on every change, so compiled forms know to rebuild. */
  readonly revision: number
}

/** True when `value` is an Agora server definition (also across duplicated package copies). */
export function isAgoraServer(value: unknown): value is AgoraServer {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[BRAND] === true
}

/**
 * Creates a server definition.
 *
 * @example
 * ```ts
 * import { createServer } from '@agora/core'
 * import { z } from 'zod'
 *
 * export default createServer({ name: 'hello', version: '1.0.0', description: 'Says hello' })
 *   .tool('greet', { description: 'Greets someone', input: z.object({ name: z.string() }) },
 *     ({ name }) => `Hello, ${name}!`)
 * ```
 */
export function createServer(info: ServerInfo): AgoraServer {
  if (!info.name || !info.version) throw new Error('createServer: name and version are required')
  const tools = new Map<string, ToolEntry>()
  const resources = new Map<string, ResourceEntry>()
  const resourceTemplates: ResourceTemplateEntry[] = []
  const prompts = new Map<string, PromptEntry>()
  const gates: GateConfig = { auth: undefined, rateLimit: undefined, payments: undefined, custom: [] }
  const listeners = new Set<ChangeListener>()
  let revision = 0
  const emit = (change: ServerChange) => {
    for (const listener of [...listeners]) listener(change)
  }
  const listChanged = (list: 'tools' | 'resources' | 'prompts') => {
    revision++
    emit({ kind: 'list-changed', list })
  }
  const server: AgoraServer = {
    [BRAND]: true,
    info,
    tools,
    resources,
    resourceTemplates,
    prompts,
    gates,
    get revision() {
      return revision
    },
    tool(name, config, handler) {
      if (tools.has(name)) throw new Error(`tool ${name} is defined twice`)
      tools.set(name, createToolEntry(name, config as ToolConfig, handler as ToolHandler<never>))
      listChanged('tools')
      return this
    },
    resource(uri, config, read) {
      const entry = createResourceEntry(uri, config, read)
      if (resources.has(entry.uri)) throw new Error(`resource ${uri} is defined twice`)
      resources.set(entry.uri, entry)
      listChanged('resources')
      return this
    },
    resourceTemplate(uriTemplate, config, read) {
      resourceTemplates.push(createResourceTemplateEntry(uriTemplate, config, read))
      listChanged('resources')
      return this
    },
    prompt(name, config, handler) {
      if (prompts.has(name)) throw new Error(`prompt ${name} is defined twice`)
      prompts.set(name, createPromptEntry(name, config as PromptConfig, handler as PromptHandler<never>))
      listChanged('prompts')
      return this
    },
    auth(options) {
      gates.auth = options
      revision++
      return this
    },
    rateLimit(options) {
      gates.rateLimit = options === false ? undefined : options
      revision++
      return this
    },
    payments(gateway) {
      gates.payments = gateway
      revision++
      return this
    },
    use(gate) {
      gates.custom.push(gate)
      revision++
      return this
    },
    removeTool(name) {
      if (!tools.delete(name)) return false
      listChanged('tools')
      return true
    },
    removeResource(uri) {
      let key = uri
      try {
        key = new URL(uri).toString()
      } catch {}
      if (!resources.delete(key)) return false
      listChanged('resources')
      return true
    },
    removeResourceTemplate(uriTemplate) {
      const at = resourceTemplates.findIndex((t) => t.listing.uriTemplate === uriTemplate)
      if (at < 0) return false
      resourceTemplates.splice(at, 1)
      listChanged('resources')
      return true
    },
    removePrompt(name) {
      if (!prompts.delete(name)) return false
      listChanged('prompts')
      return true
    },
    resourceUpdated(uri) {
      emit({ kind: 'resource-updated', uri: new URL(uri).toString() })
    },
    onChange(listener) {
      listeners.add(listener)
      return () => listeners.delete(listener)
    },
  }
  return server
}

export type { HandlerContext }
