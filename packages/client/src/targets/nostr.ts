import { AgoraError } from '@agora/core/errors'
import { API_KEY_META } from './stdio.ts'
import type { NostrTarget, TargetScheme } from './types.ts'

/** 64 hex characters, or a bech32 `npub1…` (checked in full when the target is opened). */
const PUBKEY = /^([0-9a-fA-F]{64}|npub1[02-9ac-hj-np-z]{58})$/
const SERVER_ID = /^[^/?#\s]+$/

const usage = 'nostr:<hex or npub pubkey>[/<serverId>]?relay=<ws url>[&relay=…][&profile=contextvm]'

/**
 * MCP over Nostr targets (the DVMCP transport): `nostr:<pubkey>[/<serverId>]?relay=<ws url>`, with
 * the pubkey as 64 hex characters or `npub1…` and one `relay` parameter per relay, e.g.
 * `nostr:npub1…/weather?relay=ws://127.0.0.1:7777&relay=wss://relay.example.com`. Opening one
 * subscribes on the relays with a fresh key (or `AGORA_NOSTR_SECRET_KEY`, hex or nsec, when set:
 * the key is the caller identity servers see), loading the Nostr stack on first use only. An API
 * key travels as `_meta["agora/api-key"]`; a server's payment request goes to `onPaymentRequired`.
 *
 * @example
 * ```ts
 * const client = await connect('nostr:3bf0c63f…/weather?relay=ws://127.0.0.1:7777')
 * console.log(await client.listTools())
 * await client.close()
 * ```
 */
export const nostrScheme: TargetScheme<'nostr'> = {
  kind: 'nostr',
  prefixes: ['nostr:'],
  usage,
  parse(text): NostrTarget {
    const rest = text.slice('nostr:'.length).trim()
    const query = rest.indexOf('?')
    const path = query === -1 ? rest : rest.slice(0, query)
    const params = new URLSearchParams(query === -1 ? '' : rest.slice(query + 1))
    const slash = path.indexOf('/')
    const pubkey = slash === -1 ? path : path.slice(0, slash)
    const serverId = slash === -1 ? undefined : decodeURIComponent(path.slice(slash + 1))
    const fail = (why: string) =>
      new AgoraError('TARGET', `invalid nostr target ${JSON.stringify(text)}: ${why}; expected ${usage}`)
    if (!PUBKEY.test(pubkey)) throw fail('the pubkey must be 64 hex characters or npub1…')
    if (serverId !== undefined && !SERVER_ID.test(serverId)) throw fail('the server id is empty or contains / ? # or spaces')
    const relays = params.getAll('relay')
    if (relays.length === 0) throw fail('name at least one relay with ?relay=ws://…')
    const bad = relays.find((r) => !/^wss?:\/\/[^\s]+$/i.test(r))
    if (bad !== undefined) throw fail(`relay ${JSON.stringify(bad)} is not a ws:// or wss:// URL`)
    const profile = params.get('profile') ?? undefined
    if (profile !== undefined && !/^[a-z0-9][a-z0-9.-]*$/.test(profile))
      throw fail(`profile ${JSON.stringify(profile)} is not a profile id`)
    return { kind: 'nostr', pubkey, serverId, relays, ...(profile ? { profile } : {}) }
  },
  format(target) {
    const id = target.serverId === undefined ? '' : `/${encodeURIComponent(target.serverId)}`
    const profile = target.profile ? `&profile=${target.profile}` : ''
    return `nostr:${target.pubkey}${id}?${target.relays.map((r) => `relay=${r}`).join('&')}${profile}`
  },
  async open(target, options) {
    const { connectNostr } = await import('@agora/transport-nostr')
    const where = nostrScheme.format(target)
    const onPaymentRequired = options.onPaymentRequired
    const transport = await connectNostr({
      relays: [...target.relays],
      profile: target.profile,
      serverPubkey: target.pubkey,
      serverId: target.serverId,
      secretKey: process.env.AGORA_NOSTR_SECRET_KEY || undefined,
      signal: options.signal,
      onPaymentRequired: onPaymentRequired
        ? ({ amount, unit, invoice, expiresAt, request }) => {
            const tool = request.method === 'tools/call' ? (request.params as { name?: unknown } | undefined)?.name : undefined
            return onPaymentRequired({
              amount,
              unit,
              invoice,
              expiresAt,
              target: where,
              tool: typeof tool === 'string' ? tool : undefined,
            })
          }
        : undefined,
    })
    return { transport, meta: options.apiKey ? { [API_KEY_META]: options.apiKey } : undefined }
  },
}
