import type { AccessRule, AgoraServer, Logger, PriceSpec, ServerInfo } from '@agora/core'
import { createServer, fromJsonSchema, silentLogger } from '@agora/core'
import { AgoraError } from '@agora/core/errors'
import type { Prompt, Tool } from '@modelcontextprotocol/client'
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
}

const NAME_CHARS = /[^A-Za-z0-9_.-]/g

/**
 * Re-exposes the tools, resources, resource templates and prompts of one or more connected servers
 * as one Agora definition, so the whole pipeline (prices, access rules, rate limits) sits in front
 * of servers that have none: `agora bridge` puts any stdio MCP server on Nostr this way, and
 * `agora gateway` gathers remote servers into one local stdio server. Names two upstreams share
 * become `<name>_<label>`; input schemas are the upstream's own (validated with ajv before a
 * call is priced and forwarded). Lists are read once, when the proxy is built.
 *
 * @example
 * ```ts
 * const upstream = await connect('stdio:npx @modelcontextprotocol/server-everything')
 * const { server } = await proxyServer([{ client: upstream }], {
 *   info: { name: 'everything-paid', version: '1.0.0' },
 *   prices: { echo: '1 sats' },
 * })
 * await serveHttp(server, { port: 3000 })
 * ```
 */
export async function proxyServer(upstreams: readonly ProxyUpstream[], options: ProxyOptions): Promise<ProxyServer> {
  if (upstreams.length === 0) throw new AgoraError('CONFIG', 'proxyServer: at least one upstream is required')
  const log = options.logger ?? silentLogger
  const request = { signal: options.signal }
  const listings = await Promise.all(
    upstreams.map(async (upstream, i) => {
      const caps = upstream.client.sdk.getServerCapabilities() ?? {}
      const label = (upstream.label ?? String(i + 1)).replace(NAME_CHARS, '')
      return {
        upstream,
        label,
        tools: caps.tools ? await upstream.client.listTools(request) : [],
        resources: caps.resources ? await upstream.client.listResources(request) : [],
        templates: caps.resources ? await upstream.client.listResourceTemplates(request) : [],
        prompts: caps.prompts ? await upstream.client.listPrompts(request) : [],
      }
    }),
  )
  const server = createServer(options.info)
  const timeoutMs = options.timeoutMs ?? 120_000
  const toolRoutes = new Map<string, ProxyRoute>()
  const promptRoutes = new Map<string, ProxyRoute>()
  const resourceRoutes = new Map<string, ProxyRoute>()
  const toolNames = exposedNames(listings.map((l) => ({ label: l.label, names: l.tools.map((t) => t.name) })))
  const promptNames = exposedNames(listings.map((l) => ({ label: l.label, names: l.prompts.map((p) => p.name) })))

  for (const [i, listing] of listings.entries()) {
    const { client } = listing.upstream
    for (const tool of listing.tools) {
      const exposed = toolNames[i]!.get(tool.name)!
      toolRoutes.set(exposed, { upstream: listing.upstream, name: tool.name })
      server.tool(exposed, toolConfig(tool, options.prices?.[exposed], options.access, timeoutMs), (args, ctx) =>
        client.callTool(tool.name, args as Record<string, unknown>, { signal: ctx.signal, timeoutMs }),
      )
    }
    for (const prompt of listing.prompts) {
      const exposed = promptNames[i]!.get(prompt.name)!
      promptRoutes.set(exposed, { upstream: listing.upstream, name: prompt.name })
      server.prompt(exposed, promptConfig(prompt, options.access), (args, ctx) =>
        client.getPrompt(prompt.name, args as Record<string, string>, { signal: ctx.signal, timeoutMs }),
      )
    }
    for (const resource of listing.resources) {
      if (resourceRoutes.has(resource.uri)) {
        log.warn('two upstreams list the same resource; keeping the first', { uri: resource.uri })
        continue
      }
      resourceRoutes.set(resource.uri, { upstream: listing.upstream, name: resource.uri })
      const { name, title, description, mimeType } = resource
      server.resource(resource.uri, { name, title, description, mimeType, access: options.access }, (uri, ctx) =>
        client.readResource(uri.href, { signal: ctx.signal, timeoutMs }),
      )
    }
    for (const template of listing.templates) {
      const { name, title, description, mimeType } = template
      try {
        server.resourceTemplate(
          template.uriTemplate,
          { name, title, description, mimeType, access: options.access },
          (uri, _vars, ctx) => client.readResource(uri.href, { signal: ctx.signal, timeoutMs }),
        )
      } catch (err) {
        log.warn('skipping a resource template the proxy cannot serve', { uriTemplate: template.uriTemplate, error: String(err) })
      }
    }
  }
  return { server, tools: toolRoutes, prompts: promptRoutes, resources: resourceRoutes }
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
