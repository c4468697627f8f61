import type { AgoraServer } from '@agora/core'
import type { Service } from './services.ts'

/** Where and how a server answers on Nostr (`--nostr`, `--nostr-key-file`, `--server-id`, `--private`). */
export interface NostrOptions {
  /** Relay URLs (`ws://…`, `wss://…`). */
  readonly relays: readonly string[]
  /** Keeps the server's Nostr key (so its pubkey) across restarts. */
  readonly keyFile?: string | undefined
  /** The server's Nostr secret key (hex or nsec), instead of a key file. */
  readonly secretKey?: string | undefined
  /** The server id (`d` tag); default the server's name. */
  readonly serverId?: string | undefined
  /** Do not announce (kinds 31316–31319): reachable only by clients that know the pubkey. */
  readonly private?: boolean | undefined
  /** Wire dialect: `dvmcp-2025-03-26-draft` (default) or `contextvm`. */
  readonly profile?: string | undefined
  /** Only these client pubkeys (hex or npub) may call. */
  readonly allow?: readonly string[] | undefined
  /** These client pubkeys (hex or npub) may not call. */
  readonly block?: readonly string[] | undefined
}

/** What a server on Nostr tells the banner and the `--json` ready line. */
export interface NostrServiceInfo {
  readonly name: string
  readonly version: string
  readonly nostr: {
    readonly pubkey: string
    readonly serverId: string
    readonly relays: readonly string[]
    readonly profile?: string | undefined
  }
  readonly announced: boolean
  readonly def: AgoraServer
}

/**
 * A definition served over Nostr (DVMCP) and announced on the relays, as a service.
 *
 * @example
 * ```ts
 * const group = await startServices([nostrService(def, { relays: ['ws://127.0.0.1:7777'] })])
 * console.log(group.started[0].info.nostr.pubkey)
 * ```
 */
export function nostrService(def: AgoraServer, options: NostrOptions): Service<NostrServiceInfo> {
  return {
    name: `${def.info.name} (nostr)`,
    async start() {
      // Loaded on demand: most verbs never touch Nostr.
      const { DVMCP_DRAFT, publishNostr } = await import('@agora/transport-nostr')
      const published = await publishNostr(def, {
        relays: [...options.relays],
        keyFile: options.keyFile,
        secretKey: options.secretKey,
        serverId: options.serverId,
        announce: !options.private,
        profile: options.profile,
        allow: options.allow ? [...options.allow] : undefined,
        block: options.block ? [...options.block] : undefined,
      })
      return {
        info: {
          name: def.info.name,
          version: def.info.version,
          nostr: {
            pubkey: published.pubkey,
            serverId: published.serverId,
            relays: [...published.relays],
            ...(published.profile.id === DVMCP_DRAFT.id ? {} : { profile: published.profile.id }),
          },
          announced: published.announcement !== undefined,
          def,
        },
        stop: () => published.close(),
      }
    },
  }
}

/** The `nostr:` target that reaches a server on Nostr, for `agora tools|call`. */
export function nostrTarget(info: NostrServiceInfo['nostr']): string {
  // Readable: a relay URL needs escaping only where it would end the query value.
  const relays = info.relays.map((r) => `relay=${r.replace(/[&#%]/g, encodeURIComponent)}`).join('&')
  const profile = info.profile ? `&profile=${info.profile}` : ''
  // ContextVM has no server ids: one key is one server.
  const id = info.serverId ? `/${info.serverId}` : ''
  return `nostr:${info.pubkey}${id}?${relays}${profile}`
}
