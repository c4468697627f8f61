import type { Filter } from 'nostr-tools/filter'
import type { Event } from 'nostr-tools/pure'
import type { EncryptionMode, OpenedEvent } from './encryption.ts'
import { openEvent } from './encryption.ts'
import type { NostrProfile } from './profile.ts'
import { giftWrapKinds, giftWrapSpreadSeconds } from './profile.ts'
import { SeenIds } from './seen.ts'
import { checkEvent } from './signing.ts'
import { addresses } from './wire.ts'

export interface InboxOptions {
  readonly profile: NostrProfile
  /** This end's key pair: events must name `pubkey` in `p`; gift wraps are opened with `secretKey`. */
  readonly pubkey: string
  readonly secretKey: Uint8Array
  /** `disabled` drops gift wraps. */
  readonly encryption: EncryptionMode
  /** How long event ids are remembered to drop an event delivered again. */
  readonly seenTtlMs: number
}

/**
 * What both ends of the transport (server and client) do with the events addressed to them: the
 * filters to subscribe with, and the checks every received event goes through before anything
 * reads it.
 */
export interface Inbox {
  /**
   * Filters for events addressed to this key: `kinds` from `since` (Unix seconds) and, unless
   * encryption is disabled, the profile's gift wraps from further back by their date spread
   * (NIP-59 dates wraps up to two days back: a `since` near now would miss them).
   */
  filters(kinds: readonly number[], since: number): Filter[]
  /**
   * Checks, in order: the signature; that the event is new (by id); that its `p` names this key;
   * for a gift wrap, that encryption is enabled, that it opens (the sender authenticated by the
   * seal or the inner signature), and that the inner event is new and addressed to this key too
   * (so a message signed for someone else cannot be re-wrapped and replayed here). Returns the
   * message, or undefined after telling `onDrop` why the event was dropped.
   */
  admit(event: Event, onDrop: (reason: string) => void): OpenedEvent | undefined
}

/**
 * An {@link Inbox} for one end of the transport.
 *
 * @example
 * ```ts
 * const inbox = createInbox({ profile, pubkey, secretKey, encryption: 'optional', seenTtlMs: 600_000 })
 * pool.subscribe(() => inbox.filters([6910, 21316], now - 300), {
 *   onevent: (e) => {
 *     const message = inbox.admit(e, (reason) => log.debug('dropped', { id: e.id, reason }))
 *     if (message) handle(message)
 *   },
 * })
 * ```
 */
export function createInbox(options: InboxOptions): Inbox {
  const { profile, pubkey, secretKey, encryption } = options
  const seen = new SeenIds({ ttlMs: options.seenTtlMs })
  const wrapKinds = giftWrapKinds(profile)
  return {
    filters(kinds, since) {
      const list: Filter[] = [{ kinds: [...new Set(kinds)], '#p': [pubkey], since }]
      if (encryption !== 'disabled') {
        list.push({ kinds: [...wrapKinds], '#p': [pubkey], since: since - giftWrapSpreadSeconds(profile) })
      }
      return list
    },
    admit(event, onDrop) {
      const drop = (reason: string) => void onDrop(reason)
      // The pool checks signatures too (the verdict is remembered): everything below trusts `pubkey`.
      if (!checkEvent(event)) return drop('invalid signature')
      if (!seen.add(event.id)) return drop('duplicate')
      if (!addresses(event.tags, pubkey)) return drop('not addressed to this key')
      if (!wrapKinds.includes(event.kind)) return openEvent(profile, event, secretKey)
      if (encryption === 'disabled') return drop('encryption is disabled')
      let message: OpenedEvent
      try {
        message = openEvent(profile, event, secretKey)
      } catch (err) {
        return drop((err as Error).message)
      }
      if (!seen.add(message.id)) return drop('duplicate (inner event)')
      if (!addresses(message.tags, pubkey)) return drop('inner event not addressed to this key')
      return message
    },
  }
}
