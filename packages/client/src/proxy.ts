import type { AccessRule, AgoraServer, Logger, PriceSpec, ServerInfo } from '@agora/core'
import { createServer, fromJsonSchema, silentLogger } from '@agora/core'
import { AgoraError } from '@agora/core/errors'
import type { Prompt, Resource, ResourceTemplateType as ResourceTemplate, Tool } from '@modelcontextprotocol/client'
import type { AgoraClient } from './connect.ts'

/** One server a proxy re-exposes. */
export interface ProxyUpstream {
  readonly client: AgoraClient
  /**
   * Short, stable label that disambiguates names two upstreams share (`<name>_<label>`), e.g. the
   * first characters of a Nostr pubkey. Default: the upstream's position (`1`, `2`, …).
   */
  readonly label?: string | undefined
}

export interface ProxyOptions {
  /** How the proxy introduces itself. */
  readonly info: ServerInfo
  /** Prices by exposed tool name (`"10 sats"`, `"0.01 USDC"`, or a function of the arguments). */
  readonly prices?: Readonly<Record<string, PriceSpec>> | undefined
  /** Who may use everything the proxy exposes; anyone when omitted. */
  readonly access?: AccessRule | undefined
  /** Bound on each forwarded call (ms). Default 120 000 (a paid remote call may wait for its payment). */
  readonly timeoutMs?: number | undefined
  readonly logger?: Logger | undefined
  readonly signal?: AbortSignal | undefined
}

/** Where an exposed name leads. */
export interface ProxyRoute {
  readonly upstream: ProxyUpstream
  /** The name (or URI) on the upstream. */
  readonly name: string
}

/** A proxy: a definition to serve anywhere, and where each exposed tool and prompt leads. */
export interface ProxyServer {
  readonly server: AgoraServer
  readonly tools: ReadonlyMap<string, ProxyRoute>
  readonly prompts: ReadonlyMap<string, ProxyRoute>
  readonly resources: ReadonlyMap<string, ProxyRoute>
  /**
   * Lists an upstream again (by its client; every upstream when omitted) and brings what the proxy
   * exposes up to date: new tools, prompts and resources appear, vanished ones go, changed ones are
   * replaced. The proxy's own clients hear `list_changed`. Wire it to the upstream's
   * `onListChanged` (see `connect`) to follow an upstream as it changes.
   */
  refresh(client?: AgoraClient, options?: { signal?: AbortSignal | undefined }): Promise<void>
  /** Adds an upstream while serving: its names that are taken get `_<label>`. */
  add(upstream: ProxyUpstream, options?: { signal?: AbortSignal | undefined }): Promise<void>
  /** Stops exposing an upstream (by its client); false when it was not one. Does not close the client. */
  remove(client: AgoraClient): boolean
  /** The upstreams exposed now. */
  readonly upstreams: readonly ProxyUpstream[]
}

const NAME_CHARS = /[^A-Za-z0-9_.-]/g

interface Listing {
  tools: Tool[]
  resources: Resource[]
  templates: ResourceTemplate[]
  prompts: Prompt[]
}

/** What the proxy exposes for one upstream: upstream name (or URI) → exposed name and a fingerprint. */
interface Exposed {
  readonly upstream: ProxyUpstream
  readonly label: string
  readonly tools: Map<string, { exposed: string; print: string }>
  readonly prompts: Map<string, { exposed: string; print: string }>
  readonly resources: Map<string, { exposed: string; print: string }>
  readonly templates: Map<string, { exposed: string; print: string }>
}

/**
 * Re-exposes the tools, resources, resource templates and prompts of one or more connected servers
 * as one Agora definition, so the whole pipeline (prices, access rules, rate limits) sits in front
 * of servers that have none: `agora bridge` puts any stdio MCP server on Nostr this way, and
 * `agora gateway` gathers remote servers into one local stdio server. Names two upstreams share
 * become `<name>_<label>`; input schemas are the upstream's own (validated with ajv before a
 * call is priced and forwarded). Lists are read when the proxy is built and again on `refresh()`.
 *
 * @example
 * ```ts
 * let proxy: ProxyServer | undefined
 * const upstream = await connect('stdio:npx @modelcontextprotocol/server-everything', {
 *   onListChanged: () => void proxy?.refresh(upstream),
 * })
 * proxy = await proxyServer([{ client: upstream }], {
 *   info: { name: 'everything-paid', version: '1.0.0' },
 *   prices: { echo: '1 sats' },
 * })
 * await serveHttp(proxy.server, { port: 3000 })
 * ```
 */
export async function proxyServer(upstreams: readonly ProxyUpstream[], options: ProxyOptions): Promise<ProxyServer> {
  if (upstreams.length === 0) throw new AgoraError('CONFIG', 'proxyServer: at least one upstream is required')
  const log = options.logger ?? silentLogger
  const server = createServer(options.info)
  const timeoutMs = options.timeoutMs ?? 120_000
  const toolRoutes = new Map<string, ProxyRoute>()
  const promptRoutes = new Map<string, ProxyRoute>()
  const resourceRoutes = new Map<string, ProxyRoute>()
  const stateOf = (upstream: ProxyUpstream, i: number): Exposed => ({
    upstream,
    label: (upstream.label ?? String(i + 1)).replace(NAME_CHARS, ''),
    tools: new Map(),
    prompts: new Map(),
    resources: new Map(),
    templates: new Map(),
  })
  const states: Exposed[] = upstreams.map(stateOf)

  async function list(upstream: ProxyUpstream, signal: AbortSignal | undefined): Promise<Listing> {
    const caps = upstream.client.sdk.getServerCapabilities() ?? {}
    const request = { signal }
    return {
      tools: caps.tools ? await upstream.client.listTools(request) : [],
      resources: caps.resources ? await upstream.client.listResources(request) : [],
      templates: caps.resources ? await upstream.client.listResourceTemplates(request) : [],
      prompts: caps.prompts ? await upstream.client.listPrompts(request) : [],
    }
  }

  /** The exposed name for an upstream name: as it is when free, else `<name>_<label>`. */
  const freeName = (taken: ReadonlyMap<string, unknown>, name: string, label: string) =>
    taken.has(name) ? `${name.slice(0, 127 - label.length)}_${label}` : name

  /** Brings one upstream's exposed entries in line with its listing. */
  function apply(state: Exposed, listing: Listing, names?: { tools: Map<string, string>; prompts: Map<string, string> }): void {
    const { client } = state.upstream
    sync(
      state.tools,
      listing.tools.map((t) => [t.name, t] as const),
      (name) => names?.tools.get(name) ?? freeName(toolRoutes, name, state.label),
      (exposed) => {
        server.removeTool(exposed)
        toolRoutes.delete(exposed)
      },
      (exposed, tool) => {
        if (toolRoutes.has(exposed)) return log.warn('two upstream tools map to one name; keeping the first', { tool: exposed })
        toolRoutes.set(exposed, { upstream: state.upstream, name: tool.name })
        server.tool(exposed, toolConfig(tool, options.prices?.[exposed], options.access, timeoutMs), (args, ctx) =>
          client.callTool(tool.name, args as Record<string, unknown>, { signal: ctx.signal, timeoutMs }),
        )
      },
    )
    sync(
      state.prompts,
      listing.prompts.map((p) => [p.name, p] as const),
      (name) => names?.prompts.get(name) ?? freeName(promptRoutes, name, state.label),
      (exposed) => {
        server.removePrompt(exposed)
        promptRoutes.delete(exposed)
      },
      (exposed, prompt) => {
        if (promptRoutes.has(exposed))
          return log.warn('two upstream prompts map to one name; keeping the first', { prompt: exposed })
        promptRoutes.set(exposed, { upstream: state.upstream, name: prompt.name })
        server.prompt(exposed, promptConfig(prompt, options.access), (args, ctx) =>
          client.getPrompt(prompt.name, args as Record<string, string>, { signal: ctx.signal, timeoutMs }),
        )
      },
    )
    sync(
      state.resources,
      listing.resources.map((r) => [r.uri, r] as const),
      (uri) => uri,
      (uri) => {
        server.removeResource(uri)
        resourceRoutes.delete(uri)
      },
      (uri, resource) => {
        if (resourceRoutes.has(uri)) return log.warn('two upstreams list the same resource; keeping the first', { uri })
        resourceRoutes.set(uri, { upstream: state.upstream, name: uri })
        const { name, title, description, mimeType } = resource
        server.resource(uri, { name, title, description, mimeType, access: options.access }, (url, ctx) =>
          client.readResource(url.href, { signal: ctx.signal, timeoutMs }),
        )
      },
    )
    sync(
      state.templates,
      listing.templates.map((t) => [t.uriTemplate, t] as const),
      (uriTemplate) => uriTemplate,
      (uriTemplate) => void server.removeResourceTemplate(uriTemplate),
      (uriTemplate, template) => {
        const { name, title, description, mimeType } = template
        try {
          server.resourceTemplate(
            uriTemplate,
            { name, title, description, mimeType, access: options.access },
            (uri, _vars, ctx) => client.readResource(uri.href, { signal: ctx.signal, timeoutMs }),
          )
        } catch (err) {
          log.warn('skipping a resource template the proxy cannot serve', { uriTemplate, error: String(err) })
        }
      },
    )
  }

  // The first build names shared names `<name>_<label>` on every upstream that has them.
  const listings = await Promise.all(upstreams.map((u) => list(u, options.signal)))
  const toolNames = exposedNames(listings.map((l, i) => ({ label: states[i]!.label, names: l.tools.map((t) => t.name) })))
  const promptNames = exposedNames(listings.map((l, i) => ({ label: states[i]!.label, names: l.prompts.map((p) => p.name) })))
  for (const [i, listing] of listings.entries()) {
    apply(states[i]!, listing, { tools: toolNames[i]!, prompts: promptNames[i]! })
  }

  return {
    server,
    tools: toolRoutes,
    prompts: promptRoutes,
    resources: resourceRoutes,
    get upstreams() {
      return states.map((s) => s.upstream)
    },
    async refresh(client, refreshOptions = {}) {
      for (const state of [...states]) {
        if (client && state.upstream.client !== client) continue
        const listing = await list(state.upstream, refreshOptions.signal ?? options.signal)
        if (states.includes(state)) apply(state, listing)
      }
    },
    async add(upstream, addOptions = {}) {
      const listing = await list(upstream, addOptions.signal ?? options.signal)
      const state = stateOf(upstream, states.length)
      states.push(state)
      apply(state, listing)
    },
    remove(client) {
      const at = states.findIndex((s) => s.upstream.client === client)
      if (at < 0) return false
      const [state] = states.splice(at, 1)
      apply(state!, { tools: [], resources: [], templates: [], prompts: [] })
      return true
    },
  }
}

/**
 * Updates `current` (upstream key → exposed name and fingerprint) to `wanted`: entries gone or
 * changed are removed, new or changed ones added under `nameFor(key)` (a changed one keeps its name).
 */
function sync<T>(
  current: Map<string, { exposed: string; print: string }>,
  wanted: readonly (readonly [string, T])[],
  nameFor: (key: string) => string,
  remove: (exposed: string) => void,
  add: (exposed: string, item: T) => void,
): void {
  const next = new Map(wanted.map(([key, item]) => [key, { item, print: JSON.stringify(item) }]))
  for (const [key, entry] of [...current]) {
    const now = next.get(key)
    if (now && now.print === entry.print) continue
    remove(entry.exposed)
    if (!now) current.delete(key)
  }
  for (const [key, { item, print }] of next) {
    const entry = current.get(key)
    if (entry && entry.print === print) continue
    const exposed = entry?.exposed ?? nameFor(key)
    add(exposed, item)
    current.set(key, { exposed, print })
  }
}

/**
 * Exposed names per upstream: a name only one upstream has stays as it is, a shared one becomes
 * `<name>_<label>` (shortened to the 128 characters MCP allows).
 */
function exposedNames(lists: readonly { label: string; names: readonly string[] }[]): Map<string, string>[] {
  const count = new Map<string, number>()
  for (const list of lists) for (const name of new Set(list.names)) count.set(name, (count.get(name) ?? 0) + 1)
  return lists.map(({ label, names }) => {
    const map = new Map<string, string>()
    for (const name of names) {
      const shared = (count.get(name) ?? 0) > 1
      map.set(name, shared ? `${name.slice(0, 127 - label.length)}_${label}` : name)
    }
    return map
  })
}

function toolConfig(tool: Tool, price: PriceSpec | undefined, access: AccessRule | undefined, timeoutMs: number) {
  return {
    title: tool.title,
    description: tool.description,
    input: fromJsonSchema(tool.inputSchema as Record<string, unknown>),
    output: tool.outputSchema ? fromJsonSchema(tool.outputSchema as Record<string, unknown>) : undefined,
    annotations: tool.annotations,
    price,
    access,
    // The forwarded call has its own bound; a little slack lets its clearer error arrive first.
    timeoutMs: timeoutMs + 5_000,
  }
}

function promptConfig(prompt: Prompt, access: AccessRule | undefined) {
  const args = prompt.arguments ?? []
  const schema = {
    type: 'object',
    properties: Object.fromEntries(
      args.map((a) => [a.name, { type: 'string', ...(a.description ? { description: a.description } : {}) }]),
    ),
    required: args.filter((a) => a.required).map((a) => a.name),
  }
  return {
    title: prompt.title,
    description: prompt.description,
    args: args.length > 0 ? fromJsonSchema(schema) : undefined,
    access,
  }
}
