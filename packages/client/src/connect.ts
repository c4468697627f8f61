import { AgoraError } from '@agora/core/errors'
import type {
  CallToolResult,
  GetPromptResult,
  Implementation,
  Prompt,
  ReadResourceResult,
  Resource,
  ResourceTemplateType as ResourceTemplate,
  RequestOptions as SdkRequestOptions,
  Tool,
} from '@modelcontextprotocol/client'
import { Client } from '@modelcontextprotocol/client'
import pkg from '../package.json' with { type: 'json' }
import { toClientError } from './errors.ts'
import { orderedTransport } from './ordered-transport.ts'
import type { PaymentHook } from './payments.ts'
import { payForCall } from './payments.ts'
import { parseTarget, schemeFor } from './targets/registry.ts'
import type { PaymentNoticeHandler, Target } from './targets/types.ts'

/** Default bound on connecting and on each request: 30 s. */
export const DEFAULT_TIMEOUT_MS = 30_000

export interface ConnectOptions {
  /** Aborting closes the connection (and stops a spawned server). */
  signal?: AbortSignal | undefined
  /** HTTP headers for every request, e.g. `{ 'X-API-Key': 'sk-…' }`. */
  headers?: Readonly<Record<string, string>> | undefined
  /** An API key: `Authorization: Bearer <key>` on HTTP, `_meta["agora/api-key"]` elsewhere. */
  apiKey?: string | undefined
  /** Extra environment variables for a server spawned by a `stdio:` target. */
  env?: Readonly<Record<string, string>> | undefined
  /** How this client introduces itself. Default `{ name: 'agora-client', version }`. */
  clientInfo?: Implementation | undefined
  /** Bound on the handshake, and the default bound on every request. Default 30 s. */
  timeoutMs?: number | undefined
  /**
   * Pays for priced tools: asked whenever a call comes back with a payment challenge, then the
   * call is retried once with its proof. Without one, a challenge fails with `PAYMENT_REQUIRED`.
   */
  payments?: PaymentHook | undefined
  /**
   * Pays payment requests a server sends while it holds a call (Nostr's `payment-required` with a
   * BOLT11 invoice), e.g. `lightningPaymentHandler` from `@agora/payments/lightning` under a budget.
   * Without one, such a call fails with `PAYMENT_REQUIRED` carrying the invoice.
   */
  onPaymentRequired?: PaymentNoticeHandler | undefined
  /**
   * Which MCP era to speak: `'legacy'` (default: `initialize`, the 2025 revisions every server
   * knows), `'auto'` (asks with `server/discover` first and falls back to `initialize`), or a
   * revision to require, e.g. `'2026-07-28'` (fails if the server does not offer it).
   */
  protocol?: 'legacy' | 'auto' | (string & {}) | undefined
  /**
   * Called when the server says its tools, resources or prompts changed (`notifications/*\/list_changed`;
   * a 2026-07-28 connection opens a `subscriptions/listen` stream for them). List again to see the
   * change. Without it, such notifications are ignored.
   */
  onListChanged?: ((list: 'tools' | 'resources' | 'prompts') => void) | undefined
}

/** Per-request options. */
export interface RequestOptions {
  signal?: AbortSignal | undefined
  /** Overrides the connection's `timeoutMs` for this request. */
  timeoutMs?: number | undefined
}

/**
 * A connected MCP client. Every method throws an `AgoraError`: the server's JSON-RPC errors keep
 * their message and stable `code` (numeric code in `data.rpcCode`); transport failures are
 * `CONNECTION`, timeouts `TIMEOUT`. A tool's own failure is not thrown: it is a result with
 * `isError: true`.
 */
export interface AgoraClient {
  readonly target: Target
  /** The server's name and version, as it introduced itself. */
  readonly server: Implementation | undefined
  /** The protocol revision the connection speaks, e.g. `2025-11-25` or `2026-07-28`. */
  readonly protocolVersion: string | undefined
  /** The underlying SDK client, for anything this interface does not cover. */
  readonly sdk: Client
  /** Every tool, following `nextCursor` through all pages. */
  listTools(options?: RequestOptions): Promise<Tool[]>
  /**
   * Calls a tool. A priced tool's payment challenge goes to the `payments` hook and the call is
   * retried once with its proof; the paid result keeps `_meta["x402/payment-response"]` and
   * `_meta["agora/receipt"]`. Without a hook (or when it declines) this throws `PAYMENT_REQUIRED`
   * with the server's terms in `data.paymentRequired`.
   */
  callTool(name: string, args?: Record<string, unknown>, options?: RequestOptions): Promise<CallToolResult>
  /** Every resource, following `nextCursor` through all pages. */
  listResources(options?: RequestOptions): Promise<Resource[]>
  /** Every resource template, following `nextCursor` through all pages. */
  listResourceTemplates(options?: RequestOptions): Promise<ResourceTemplate[]>
  readResource(uri: string, options?: RequestOptions): Promise<ReadResourceResult>
  /** Every prompt, following `nextCursor` through all pages. */
  listPrompts(options?: RequestOptions): Promise<Prompt[]>
  getPrompt(name: string, args?: Record<string, string>, options?: RequestOptions): Promise<GetPromptResult>
  /** Closes the connection; a spawned server process is stopped. Idempotent. */
  close(): Promise<void>
  [Symbol.asyncDispose](): Promise<void>
}

/**
 * Connects to a server by target (`http(s)://…`, `stdio:<command line>`, or a parsed target).
 *
 * @example
 * ```ts
 * import { connect } from '@agora/client'
 *
 * const client = await connect('http://127.0.0.1:3000/mcp', { apiKey: process.env.KEY })
 * const tools = await client.listTools()
 * const result = await client.callTool('current-weather', { city: 'Oslo' })
 * console.log(result.content)
 * await client.close()
 * ```
 */
export async function connect(target: string | Target, options: ConnectOptions = {}): Promise<AgoraClient> {
  const parsed = typeof target === 'string' ? parseTarget(target) : target
  const scheme = schemeFor(parsed)
  const where = scheme.format(parsed)
  const timeout = options.timeoutMs ?? DEFAULT_TIMEOUT_MS
  if (options.signal?.aborted) throw new AgoraError('CANCELLED', `${where}: cancelled before connecting`)

  const opened = await scheme.open(parsed, {
    headers: options.headers,
    apiKey: options.apiKey,
    env: options.env,
    onPaymentRequired: options.onPaymentRequired,
    signal: options.signal,
  })
  const protocol = options.protocol ?? 'legacy'
  const mode = protocol === 'legacy' || protocol === 'auto' ? (protocol as 'legacy' | 'auto') : { pin: String(protocol) }
  const onListChanged = options.onListChanged
  const watch = (list: 'tools' | 'resources' | 'prompts') => ({
    autoRefresh: false,
    debounceMs: 0,
    onChanged: () => onListChanged?.(list),
  })
  const sdk = new Client(options.clientInfo ?? { name: 'agora-client', version: pkg.version }, {
    versionNegotiation: { mode },
    ...(onListChanged
      ? { listChanged: { tools: watch('tools'), resources: watch('resources'), prompts: watch('prompts') } }
      : {}),
  })
  sdk.onerror = () => {} // failures surface on the request that hit them
  const fail = (err: unknown, signal?: AbortSignal) =>
    signal?.aborted
      ? new AgoraError('CANCELLED', `${where}: cancelled`, { cause: err })
      : toClientError(err, where, opened.diagnose?.())
  const shutdown = async () => {
    await sdk.close().catch(() => {})
    await opened.dispose?.().catch(() => {})
  }
  try {
    await sdk.connect(orderedTransport(opened.transport), { signal: options.signal, timeout })
  } catch (err) {
    await shutdown()
    throw fail(err, options.signal)
  }

  let closed: Promise<void> | undefined
  const close = () => {
    closed ??= shutdown()
    return closed
  }
  options.signal?.addEventListener('abort', () => void close(), { once: true })

  const meta = opened.meta && Object.keys(opened.meta).length > 0 ? { _meta: { ...opened.meta } } : {}
  const guard = async <T>(o: RequestOptions | undefined, run: (opts: SdkRequestOptions) => Promise<T>): Promise<T> => {
    try {
      return await run({ signal: o?.signal, timeout: o?.timeoutMs ?? timeout })
    } catch (err) {
      throw fail(err, o?.signal)
    }
  }

  return {
    target: parsed,
    server: sdk.getServerVersion(),
    protocolVersion: sdk.getNegotiatedProtocolVersion(),
    sdk,
    listTools: (o) => guard(o, (r) => allPages((cursor) => sdk.listTools({ ...meta, cursor }, r), 'tools')),
    callTool: (name, args = {}, o) =>
      payForCall(
        (paid) =>
          guard(o, (r) => {
            const params = paid ? { ...meta, _meta: { ...opened.meta, ...paid } } : meta
            return sdk.callTool({ name, arguments: args, ...params }, r) as Promise<CallToolResult>
          }),
        { tool: name, target: where, hook: options.payments, signal: o?.signal },
      ),
    listResources: (o) => guard(o, (r) => allPages((cursor) => sdk.listResources({ ...meta, cursor }, r), 'resources')),
    listResourceTemplates: (o) =>
      guard(o, (r) => allPages((cursor) => sdk.listResourceTemplates({ ...meta, cursor }, r), 'resourceTemplates')),
    readResource: (uri, o) => guard(o, (r) => sdk.readResource({ uri, ...meta }, r)),
    listPrompts: (o) => guard(o, (r) => allPages((cursor) => sdk.listPrompts({ ...meta, cursor }, r), 'prompts')),
    getPrompt: (name, args = {}, o) => guard(o, (r) => sdk.getPrompt({ name, arguments: args, ...meta }, r)),
    close,
    [Symbol.asyncDispose]: close,
  }
}

/** Most pages a list call follows before giving up on a server that never stops paginating. */
const MAX_PAGES = 1000

/** Collects every page of a paginated list (a repeated cursor ends it, so a buggy server cannot loop us). */
async function allPages<K extends string, T>(
  fetch: (cursor: string | undefined) => Promise<{ [key in K]: T[] } & { nextCursor?: string | undefined }>,
  key: K,
): Promise<T[]> {
  const items: T[] = []
  const seen = new Set<string>()
  let cursor: string | undefined
  for (let page = 0; page < MAX_PAGES; page++) {
    const result = await fetch(cursor)
    items.push(...result[key])
    cursor = result.nextCursor
    if (cursor === undefined || seen.has(cursor)) break
    seen.add(cursor)
  }
  return items
}
