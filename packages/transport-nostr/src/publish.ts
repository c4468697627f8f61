import type { AgoraServer } from '@agora/core'
import type { NostrAnnouncement } from './announce/announce.ts'
import { announceNostr } from './announce/announce.ts'
import type { AnnouncementMetadata } from './announce/events.ts'
import { resolveKeys } from './keys.ts'
import type { NostrServeOptions, NostrServerHandle } from './serve.ts'
import { serveNostr } from './serve.ts'

export interface PublishNostrOptions extends Omit<NostrServeOptions, 'pool'> {
  /**
   * Announce the server (kinds 31316–31319) so clients can discover it: `true` (default) with the
   * server's own title and description, an object to set the announcement's metadata, or `false`
   * for a private server reached only by `initialize` to its pubkey.
   */
  announce?: boolean | AnnouncementMetadata | undefined
  /**
   * Withdraw the announcement (NIP-09 deletion) when closing, so clients stop finding a server that
   * is gone. Default true.
   */
  withdrawOnClose?: boolean | undefined
}

/** A server answering on Nostr, announced unless private. */
export interface PublishedNostrServer extends NostrServerHandle {
  /** The announcement, unless the server is private. */
  readonly announcement: NostrAnnouncement | undefined
}

/**
 * Serves a definition over Nostr and announces it: the one call behind `agora serve --nostr`,
 * `agora bridge` and `agora dev`. The server and its announcements share one key (from
 * `secretKey`, else `keyFile`, else a fresh one) and one relay pool; announcements are
 * republished when the definition's lists change, and `close()` stops both.
 *
 * @example
 * ```ts
 * const nostr = await publishNostr(server, { relays: ['ws://127.0.0.1:7777'], keyFile: '.agora/nostr.key' })
 * console.log(nostr.pubkey, nostr.serverId)
 * ```
 */
export async function publishNostr(server: AgoraServer, options: PublishNostrOptions): Promise<PublishedNostrServer> {
  const { announce = true, withdrawOnClose = true, ...serve } = options
  const keys = await resolveKeys({ secretKey: options.secretKey, keyFile: options.keyFile })
  const handle = await serveNostr(server, { ...serve, secretKey: keys.secretKey, keyFile: undefined })
  let announcement: NostrAnnouncement | undefined
  if (announce !== false) {
    const metadata: AnnouncementMetadata = typeof announce === 'object' ? announce : {}
    try {
      announcement = await announceNostr(server, {
        name: server.info.title ?? server.info.name,
        about: server.info.description,
        ...metadata,
        pool: handle.pool,
        secretKey: keys.secretKey,
        serverId: handle.serverId,
        profile: handle.profile,
        supportEncryption: handle.encryption !== 'disabled',
        logger: options.logger,
        signal: options.signal,
      })
    } catch (err) {
      await handle.close()
      throw err
    }
  }
  return Object.freeze({
    pubkey: handle.pubkey,
    serverId: handle.serverId,
    relays: handle.relays,
    profile: handle.profile,
    encryption: handle.encryption,
    pool: handle.pool,
    get sessions() {
      return handle.sessions
    },
    announcement,
    async close() {
      await announcement?.close({ delete: withdrawOnClose }).catch(() => {})
      await handle.close()
    },
  })
}
