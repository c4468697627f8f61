/**
 * The wallet side of Nostr Wallet Connect (NIP-47): exposes any {@link LightningWallet} (the local
 * stand-in in `agora dev` and tests) to NWC clients on Nostr relays.
 */
import type { Logger } from '@agora/core'
import { silentLogger } from '@agora/core'
import { AgoraError, isAgoraError } from '@agora/core/errors'
import type { SubCloser } from 'nostr-tools/abstract-pool'
import type { Event, EventTemplate } from 'nostr-tools/pure'
import { finalizeEvent, generateSecretKey, getPublicKey } from 'nostr-tools/pure'
import { bytesToHex, hexToBytes } from 'nostr-tools/utils'
import { decodeInvoice } from './invoice.ts'
import type { NwcEncryption, NwcRequest, NwcResponse } from './nwc-protocol.ts'
import {
  decryptPayload,
  encryptionOf,
  encryptPayload,
  NWC_INFO_KIND,
  NWC_NOTIFICATION_KIND,
  NWC_NOTIFICATION_NIP04_KIND,
  NWC_REQUEST_KIND,
  NWC_RESPONSE_KIND,
  nwcPool,
  toTransaction,
} from './nwc-protocol.ts'
import type { LightningWallet, ReceivedPayment } from './wallet.ts'
import { walletError } from './wallet.ts'

export interface ServeNwcOptions {
  /** Relays the service listens on and the connection URI names. At least one. */
  relays: readonly string[]
  /** The service's Nostr secret key (hex or bytes). Default: a fresh one. */
  secretKey?: string | Uint8Array | undefined
  /** The secret handed to the client in the connection URI (hex or bytes). Default: a fresh one. */
  clientSecret?: string | Uint8Array | undefined
  /** Payload encryptions accepted, as advertised in the info event. Default `['nip44_v2', 'nip04']`. */
  encryption?: readonly NwcEncryption[] | undefined
  /** Send `payment_received` notifications (when the wallet can push payments). Default true. */
  notifications?: boolean | undefined
  /** Stops the service when aborted. */
  signal?: AbortSignal | undefined
  logger?: Logger | undefined
}

/** A running NWC service. */
export interface NwcService {
  /** `nostr+walletconnect://<walletPubkey>?relay=…&secret=…`: give it to the one client allowed in. */
  readonly connectionUri: string
  readonly walletPubkey: string
  /** The public key of the client secret in the URI: the only key whose requests are served. */
  readonly clientPubkey: string
  /** Stops answering (the wallet itself stays open). */
  close(): Promise<void>
}

const METHODS = ['pay_invoice', 'make_invoice', 'lookup_invoice', 'get_balance', 'get_info'] as const
const SEEN_LIMIT = 1000

const keyBytes = (key: string | Uint8Array | undefined): Uint8Array => {
  if (key === undefined) return generateSecretKey()
  if (typeof key !== 'string') return key
  if (!/^[0-9a-f]{64}$/i.test(key)) throw new AgoraError('CONFIG', 'a Nostr secret key is 32 bytes of hex (64 characters)')
  return hexToBytes(key)
}

/** The NIP-47 error code for an error a wallet threw. */
function reasonOf(err: unknown): string {
  const reason = (err as { data?: { reason?: unknown } })?.data?.reason
  if (typeof reason === 'string') return reason
  if (!isAgoraError(err)) return 'INTERNAL'
  switch (err.code) {
    case 'NOT_FOUND':
      return 'NOT_FOUND'
    case 'RATE_LIMITED':
      return 'RATE_LIMITED'
    case 'FORBIDDEN':
      return 'RESTRICTED'
    case 'UNAUTHENTICATED':
      return 'UNAUTHORIZED'
    case 'INVALID_PARAMS':
      return 'OTHER'
    default:
      return 'INTERNAL'
  }
}

/**
 * Serves a wallet over Nostr Wallet Connect: publishes the info event (kind 13194), answers
 * `pay_invoice`, `make_invoice`, `lookup_invoice`, `get_balance` and `get_info` requests from the
 * client whose secret is in {@link NwcService.connectionUri} (anyone else gets `UNAUTHORIZED`), and
 * sends that client `payment_received` notifications. Throws `CONNECTION` when no relay can be
 * reached.
 *
 * @example
 * ```ts
 * const ln = createLocalLightning()
 * const service = await serveNwc(ln.createWallet({ name: 'alice', balanceMsat: 1_000_000 }), { relays: [relay.url] })
 * const wallet = await nwcWallet(service.connectionUri)
 * await wallet.getBalance() // { balanceMsat: 1000000 }
 * ```
 */
export async function serveNwc(wallet: LightningWallet, options: ServeNwcOptions): Promise<NwcService> {
  const relays = [...options.relays]
  if (relays.length === 0) throw new AgoraError('CONFIG', 'serveNwc: give at least one relay')
  const accepted = [...(options.encryption ?? ['nip44_v2', 'nip04'])]
  if (accepted.length === 0) throw new AgoraError('CONFIG', 'serveNwc: accept at least one encryption')
  const secretKey = keyBytes(options.secretKey)
  const clientSecret = keyBytes(options.clientSecret)
  const walletPubkey = getPublicKey(secretKey)
  const clientPubkey = getPublicKey(clientSecret)
  const log = options.logger ?? silentLogger
  const notify = options.notifications !== false && wallet.onPaymentReceived !== undefined
  const pool = nwcPool()
  const seen = new Set<string>()
  let closed = false
  let sub: SubCloser | undefined
  let retry: ReturnType<typeof setTimeout> | undefined
  let backoff = 100

  async function publish(template: EventTemplate): Promise<void> {
    const event = finalizeEvent(template, secretKey)
    const results = await Promise.allSettled(pool.publish(relays, event))
    if (!results.some((r) => r.status === 'fulfilled')) {
      const why = results.map((r, i) => `${relays[i]}: ${(r as PromiseRejectedResult).reason?.message ?? r.status}`)
      throw new AgoraError('CONNECTION', `no relay took the NWC event (${why.join('; ')})`)
    }
  }

  const publishInfo = () =>
    publish({
      kind: NWC_INFO_KIND,
      created_at: Math.floor(Date.now() / 1000),
      tags: [['encryption', accepted.join(' ')], ...(notify ? [['notifications', 'payment_received']] : [])],
      content: [...METHODS, ...(notify ? ['notifications'] : [])].join(' '),
    })

  async function run(method: string, params: Record<string, unknown>): Promise<Record<string, unknown>> {
    switch (method) {
      case 'pay_invoice': {
        const invoice = params.invoice
        if (typeof invoice !== 'string') throw walletError('OTHER', 'pay_invoice needs an invoice')
        if (params.amount !== undefined) {
          const amount = (() => {
            try {
              return decodeInvoice(invoice).amountMsat
            } catch {
              return undefined
            }
          })()
          if (amount !== params.amount) throw walletError('NOT_IMPLEMENTED', 'paying an amount other than the invoice amount')
        }
        const paid = await wallet.payInvoice(invoice)
        return { preimage: paid.preimage, fees_paid: paid.feesPaidMsat }
      }
      case 'make_invoice': {
        const made = await wallet.makeInvoice({
          amountMsat: params.amount as number,
          description: typeof params.description === 'string' ? params.description : undefined,
          expirySeconds: typeof params.expiry === 'number' ? params.expiry : undefined,
        })
        return {
          type: 'incoming',
          state: 'pending',
          invoice: made.invoice,
          ...(typeof params.description === 'string' ? { description: params.description } : {}),
          payment_hash: made.paymentHash,
          amount: made.amountMsat,
          fees_paid: 0,
          created_at: Math.floor(Date.now() / 1000),
          expires_at: made.expiresAt,
        }
      }
      case 'lookup_invoice': {
        const query =
          typeof params.payment_hash === 'string'
            ? { paymentHash: params.payment_hash }
            : typeof params.invoice === 'string'
              ? { invoice: params.invoice }
              : undefined
        if (!query) throw walletError('OTHER', 'lookup_invoice needs a payment_hash or an invoice')
        return { ...toTransaction(await wallet.lookupInvoice(query)) }
      }
      case 'get_balance':
        return { balance: (await wallet.getBalance()).balanceMsat }
      case 'get_info': {
        const info = await wallet.getInfo()
        return {
          ...(info.alias ? { alias: info.alias } : {}),
          pubkey: info.pubkey,
          network: info.network,
          methods: [...METHODS],
          ...(notify ? { notifications: ['payment_received'] } : {}),
        }
      }
      default:
        throw walletError('NOT_IMPLEMENTED', `${method} is not supported by this wallet service`)
    }
  }

  async function respond(request: Event, scheme: NwcEncryption, response: NwcResponse): Promise<void> {
    await publish({
      kind: NWC_RESPONSE_KIND,
      created_at: Math.floor(Date.now() / 1000),
      tags: [['p', request.pubkey], ['e', request.id], ...(scheme === 'nip44_v2' ? [['encryption', 'nip44_v2']] : [])],
      content: encryptPayload(scheme, secretKey, request.pubkey, JSON.stringify(response)),
    })
  }

  async function handle(event: Event): Promise<void> {
    if (seen.has(event.id)) return
    seen.add(event.id)
    if (seen.size > SEEN_LIMIT) seen.delete(seen.values().next().value as string)
    const expiration = Number(event.tags.find((t) => t[0] === 'expiration')?.[1])
    if (Number.isFinite(expiration) && expiration < Math.floor(Date.now() / 1000)) return
    const scheme = encryptionOf(event.tags)
    let req: Partial<NwcRequest> = {}
    try {
      req = JSON.parse(decryptPayload(scheme, secretKey, event.pubkey, event.content)) as NwcRequest
    } catch {
      // Unreadable: answered below with the error that applies.
    }
    const method = typeof req.method === 'string' ? req.method : 'unknown'
    const error = (code: string, message: string) =>
      respond(event, accepted.includes(scheme) ? scheme : 'nip04', {
        result_type: method,
        error: { code, message },
        result: null,
      })
    if (event.pubkey !== clientPubkey) {
      log.warn('nwc: request from a key with no connection', { pubkey: event.pubkey })
      return error('UNAUTHORIZED', 'this public key has no wallet connection')
    }
    if (!accepted.includes(scheme)) return error('UNSUPPORTED_ENCRYPTION', `this wallet service does not accept ${scheme}`)
    if (method === 'unknown') return error('OTHER', 'the request could not be decrypted or has no method')
    let response: NwcResponse
    try {
      response = { result_type: method, error: null, result: await run(method, req.params ?? {}) }
    } catch (err) {
      response = { result_type: method, error: { code: reasonOf(err), message: (err as Error).message }, result: null }
    }
    await respond(event, scheme, response)
  }

  function subscribe(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      let down = false
      sub = pool.subscribe(
        relays,
        { kinds: [NWC_REQUEST_KIND], '#p': [walletPubkey], since: Math.floor(Date.now() / 1000) - 10 },
        {
          onevent: (event) => {
            handle(event).catch((err: unknown) => log.warn('nwc: answering a request failed', { error: (err as Error).message }))
          },
          oneose: () =>
            queueMicrotask(() => {
              if (down) return
              backoff = 100
              resolve()
            }),
          onclose: (reasons) => {
            down = true
            const why = reasons.map((r) => `${r.url}: ${r.reason}`).join('; ')
            reject(new AgoraError('CONNECTION', `cannot listen on the NWC relays (${why})`))
            if (closed) return
            log.warn('nwc: lost the relays; reconnecting', { reasons: why })
            retry = setTimeout(() => {
              if (closed) return
              subscribe()
                .then(publishInfo)
                .catch(() => {})
            }, backoff)
            backoff = Math.min(backoff * 2, 5000)
          },
        },
      )
    })
  }

  let unsubscribe = () => {}
  async function close() {
    if (closed) return
    closed = true
    clearTimeout(retry)
    unsubscribe()
    sub?.close()
    pool.destroy()
  }
  options.signal?.addEventListener('abort', () => void close(), { once: true })

  try {
    await subscribe()
    await publishInfo()
  } catch (err) {
    await close()
    throw err
  }
  if (notify && wallet.onPaymentReceived) {
    unsubscribe = wallet.onPaymentReceived((payment: ReceivedPayment) => {
      if (closed) return
      const content = JSON.stringify({
        notification_type: 'payment_received',
        notification: {
          ...toTransaction({ ...payment, state: 'settled' }),
        },
      })
      for (const scheme of accepted) {
        publish({
          kind: scheme === 'nip44_v2' ? NWC_NOTIFICATION_KIND : NWC_NOTIFICATION_NIP04_KIND,
          created_at: Math.floor(Date.now() / 1000),
          tags: [['p', clientPubkey]],
          content: encryptPayload(scheme, secretKey, clientPubkey, content),
        }).catch((err: unknown) => log.warn('nwc: a notification was not sent', { error: (err as Error).message }))
      }
    })
  }

  const relayParams = relays.map((r) => `relay=${encodeURIComponent(r)}`).join('&')
  return {
    connectionUri: `nostr+walletconnect://${walletPubkey}?${relayParams}&secret=${bytesToHex(clientSecret)}`,
    walletPubkey,
    clientPubkey,
    close,
  }
}
