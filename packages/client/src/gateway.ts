import type { AgoraServer, Logger, ServerInfo } from '@agora/core'
import { silentLogger } from '@agora/core'
import { AgoraError } from '@agora/core/errors'
import type { AgoraClient } from './connect.ts'
import { connect } from './connect.ts'
import { proxyServer } from './proxy.ts'
import type { PaymentNoticeHandler } from './targets/types.ts'

export interface NostrGatewayOptions {
  /** Relays to discover servers on (and reach them through). */
  readonly relays: readonly string[]
  /** Only servers offering this tool. */
  readonly tool?: string | undefined
  /** Only servers with this name. */
  readonly server?: string | undefined
  /** Wire dialect of the servers to find and reach: the DVMCP draft (default) or `contextvm`. */
  readonly profile?: string | undefined
  /** Pays invoices of held calls (e.g. `payNotices(lightningPaymentHandler({ wallet, budget }))`). */
  readonly onPaymentRequired?: PaymentNoticeHandler | undefined
  /** How the gateway introduces itself. Default `{ name: 'agora-gateway' }`. */
  readonly info?: ServerInfo | undefined
  /** Bound on discovery and on each connection (ms). Default 10 000. */
  readonly timeoutMs?: number | undefined
  /** Bound on each forwarded call (ms), including time spent paying. Default 120 000. */
  readonly callTimeoutMs?: number | undefined
  readonly logger?: Logger | undefined
  readonly signal?: AbortSignal | undefined
}

/** A remote server the gateway reaches. */
export interface GatewayUpstream {
  readonly name: string
  readonly pubkey: string
  readonly serverId: string
  readonly target: string
  /** Names the gateway exposed this server's tools under when it started (it follows later changes). */
  readonly tools: readonly string[]
}

export interface NostrGateway {
  /** One definition over every discovered server: serve it over stdio for Claude Desktop & co. */
  readonly server: AgoraServer
  readonly upstreams: readonly GatewayUpstream[]
  /** Closes every upstream connection. */
  close(): Promise<void>
}

/**
 * Finds MCP servers announced on Nostr relays and gathers their tools, resources and prompts into
 * one local definition (see {@link proxyServer}): serve it over stdio and any MCP client can use
 * remote tools, with held calls paid through `onPaymentRequired` within the budget it enforces.
 * Tools that two servers share get the first four hex digits of the server's pubkey as suffix,
 * as DVMCP's discovery does. Servers that cannot be reached are skipped (and logged).
 *
 * @example
 * ```ts
 * const gateway = await nostrGateway({ relays: ['ws://127.0.0.1:7777'], onPaymentRequired: payNotices(pay) })
 * serveStdio(gateway.server)
 * ```
 */
export async function nostrGateway(options: NostrGatewayOptions): Promise<NostrGateway> {
  const log = options.logger ?? silentLogger
  const timeoutMs = options.timeoutMs ?? 10_000
  const { discoverNostr } = await import('@agora/transport-nostr')
  const found = await discoverNostr({
    relays: [...options.relays],
    tool: options.tool,
    name: options.server,
    profile: options.profile,
    timeoutMs,
    signal: options.signal,
    logger: log,
  })
  if (found.length === 0) {
    const what = [options.server && `named ${options.server}`, options.tool && `offering ${options.tool}`]
      .filter(Boolean)
      .join(' ')
    throw new AgoraError('NOT_FOUND', `no MCP server${what ? ` ${what}` : ''} is announced on ${options.relays.join(', ')}`)
  }
  const relayQuery =
    options.relays.map((r) => `relay=${r.replace(/[&#%]/g, encodeURIComponent)}`).join('&') +
    (options.profile ? `&profile=${options.profile}` : '')
  // Upstream list changes are followed once the proxy exists (see `refresh` below).
  let proxy: Awaited<ReturnType<typeof proxyServer>> | undefined
  const connected = await Promise.all(
    found.map(async (s) => {
      const target = `nostr:${s.pubkey}${s.serverId ? `/${s.serverId}` : ''}?${relayQuery}`
      try {
        const client: AgoraClient = await connect(target, {
          timeoutMs,
          signal: options.signal,
          onPaymentRequired: options.onPaymentRequired,
          onListChanged: () =>
            void proxy?.refresh(client).catch((err: unknown) => {
              log.warn('cannot list a server again after it changed', { pubkey: s.pubkey, error: String(err) })
            }),
        })
        return { found: s, target, client }
      } catch (err) {
        log.warn('skipping a server that cannot be reached', {
          server: s.name ?? s.serverId,
          pubkey: s.pubkey,
          error: String(err),
        })
        return undefined
      }
    }),
  )
  const live = connected.filter((c) => c !== undefined)
  const clients: AgoraClient[] = live.map((c) => c.client)
  const close = async () => {
    await Promise.all(clients.map((c) => c.close().catch(() => {})))
  }
  if (live.length === 0) throw new AgoraError('CONNECTION', `none of the ${found.length} servers found could be reached`)
  try {
    const built = await proxyServer(
      live.map((c) => ({ client: c.client, label: c.found.pubkey.slice(0, 4) })),
      {
        info: options.info ?? { name: 'agora-gateway', version: '0.1.0', description: 'MCP servers found on Nostr' },
        timeoutMs: options.callTimeoutMs,
        logger: log,
        signal: options.signal,
      },
    )
    proxy = built
    const upstreams = live.map((c) => ({
      name: c.found.name ?? c.client.server?.name ?? c.found.serverId,
      pubkey: c.found.pubkey,
      serverId: c.found.serverId,
      target: c.target,
      tools: [...built.tools].filter(([, route]) => route.upstream.client === c.client).map(([name]) => name),
    }))
    return { server: built.server, upstreams, close }
  } catch (err) {
    await close()
    throw err
  }
}
