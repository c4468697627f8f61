import type { AgoraServer, Logger, ServerInfo } from '@agora/core'
import { silentLogger } from '@agora/core'
import { AgoraError } from '@agora/core/errors'
import type { DiscoveredServer } from '@agora/transport-nostr'
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
  /**
   * How often to look for servers announced since (and drop those no longer announced), in ms.
   * Default 60 000; `0` looks once, at start.
   */
  readonly rediscoverMs?: number | undefined
  readonly logger?: Logger | undefined
  readonly signal?: AbortSignal | undefined
}

/** A remote server the gateway reaches. */
export interface GatewayUpstream {
  readonly name: string
  readonly pubkey: string
  readonly serverId: string
  readonly target: string
  /** Names the gateway exposes this server's tools under. */
  readonly tools: readonly string[]
}

export interface NostrGateway {
  /** One definition over every discovered server: serve it over stdio for Claude Desktop & co. */
  readonly server: AgoraServer
  /** The servers reached now. */
  readonly upstreams: readonly GatewayUpstream[]
  /** Looks for new and withdrawn announcements now (it also runs every `rediscoverMs`). */
  rediscover(): Promise<void>
  /** Closes every upstream connection. */
  close(): Promise<void>
}

/**
 * Finds MCP servers announced on Nostr relays and gathers their tools, resources and prompts into
 * one local definition (see {@link proxyServer}): serve it over stdio and any MCP client can use
 * remote tools, with held calls paid through `onPaymentRequired` within the budget it enforces.
 * Tools that two servers share get the first four hex digits of the server's pubkey as suffix,
 * as DVMCP's discovery does. Servers that cannot be reached are skipped (and logged). The gateway
 * keeps up: a server's own list changes are followed as they happen, and every `rediscoverMs` it
 * adds servers announced since and drops those whose announcement is gone (two looks in a row).
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
  const rediscoverMs = options.rediscoverMs ?? 60_000
  const { discoverNostr } = await import('@agora/transport-nostr')
  const discover = () =>
    discoverNostr({
      relays: [...options.relays],
      tool: options.tool,
      name: options.server,
      profile: options.profile,
      timeoutMs,
      signal: options.signal,
      logger: log,
    })
  const found = await discover()
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

  /** The servers the gateway reaches, by `<pubkey>/<serverId>`; `missed` counts rediscoveries without them. */
  const live = new Map<string, Live>()
  const keyOf = (s: DiscoveredServer) => `${s.pubkey}/${s.serverId}`
  async function reach(s: DiscoveredServer): Promise<Live | undefined> {
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
      return { found: s, target, client, missed: 0 }
    } catch (err) {
      log.warn('skipping a server that cannot be reached', { server: s.name ?? s.serverId, pubkey: s.pubkey, error: String(err) })
      return undefined
    }
  }
  for (const entry of await Promise.all(found.map(reach))) if (entry) live.set(keyOf(entry.found), entry)

  let closed = false
  let timer: ReturnType<typeof setInterval> | undefined
  const close = async () => {
    closed = true
    clearInterval(timer)
    await Promise.all([...live.values()].map((e) => e.client.close().catch(() => {})))
  }
  if (live.size === 0) throw new AgoraError('CONNECTION', `none of the ${found.length} servers found could be reached`)
  let built: Awaited<ReturnType<typeof proxyServer>>
  try {
    built = await proxyServer(
      [...live.values()].map((e) => ({ client: e.client, label: e.found.pubkey.slice(0, 4) })),
      {
        info: options.info ?? { name: 'agora-gateway', version: '0.1.0', description: 'MCP servers found on Nostr' },
        timeoutMs: options.callTimeoutMs,
        logger: log,
        signal: options.signal,
      },
    )
    proxy = built
  } catch (err) {
    await close()
    throw err
  }

  /** Finds servers announced since, and drops those no longer announced (missing twice in a row). */
  let busy = false
  async function rediscover(): Promise<void> {
    if (busy || closed) return
    busy = true
    try {
      const now = await discover()
      const keys = new Set(now.map(keyOf))
      for (const s of now) {
        if (live.has(keyOf(s)) || closed) continue
        const entry = await reach(s)
        if (!entry) continue
        if (closed) {
          await entry.client.close()
          continue
        }
        live.set(keyOf(s), entry)
        await built.add({ client: entry.client, label: s.pubkey.slice(0, 4) })
        log.info('gateway: found a new server', { server: s.name ?? s.serverId, pubkey: s.pubkey })
      }
      for (const [key, entry] of live) {
        entry.missed = keys.has(key) ? 0 : entry.missed + 1
        if (entry.missed < 2) continue
        live.delete(key)
        built.remove(entry.client)
        await entry.client.close().catch(() => {})
        log.info('gateway: a server is no longer announced; dropped it', { server: entry.found.name ?? entry.found.serverId })
      }
    } catch (err) {
      log.warn('gateway: rediscovery failed; trying again later', { error: String(err) })
    } finally {
      busy = false
    }
  }
  if (rediscoverMs > 0) {
    timer = setInterval(() => void rediscover(), rediscoverMs)
    timer.unref()
  }

  return {
    server: built.server,
    get upstreams() {
      return [...live.values()].map((e) => ({
        name: e.found.name ?? e.client.server?.name ?? e.found.serverId,
        pubkey: e.found.pubkey,
        serverId: e.found.serverId,
        target: e.target,
        tools: [...built.tools].filter(([, route]) => route.upstream.client === e.client).map(([name]) => name),
      }))
    },
    rediscover,
    close,
  }
}

interface Live {
  readonly found: DiscoveredServer
  readonly target: string
  readonly client: AgoraClient
  missed: number
}
