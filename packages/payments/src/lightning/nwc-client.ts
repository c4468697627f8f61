/**
 * A {@link LightningWallet} reached over Nostr Wallet Connect (NIP-47): requests are encrypted
 * events (kind 23194) to the wallet service's key on its relays, answered by kind 23195 events that
 * reference the request in an `e` tag.
 */
import type { Logger } from '@agora/core'
import { silentLogger } from '@agora/core'
import { AgoraError } from '@agora/core/errors'
import type { SubCloser } from 'nostr-tools/abstract-pool'
import type { Event } from 'nostr-tools/pure'
import { finalizeEvent, getPublicKey } from 'nostr-tools/pure'
import { hexToBytes } from 'nostr-tools/utils'
import { throwIfCancelled } from './abort.ts'
import { decodeInvoice, preimageMatches } from './invoice.ts'
import type { NwcEncryption, NwcResponse, NwcTransaction } from './nwc-protocol.ts'
import {
  decryptPayload,
  encryptionOf,
  encryptPayload,
  fromTransaction,
  NWC_INFO_KIND,
  NWC_NOTIFICATION_KIND,
  NWC_NOTIFICATION_NIP04_KIND,
  NWC_REQUEST_KIND,
  NWC_RESPONSE_KIND,
  nwcPool,
} from './nwc-protocol.ts'
import type {
  CallOptions,
  Invoice,
  InvoiceStatus,
  LightningNetwork,
  LightningWallet,
  Payment,
  ReceivedPayment,
  WalletInfo,
} from './wallet.ts'
import { requireMsat, walletError } from './wallet.ts'

export interface NwcWalletOptions {
  /** Aborts connecting. */
  signal?: AbortSignal | undefined
  /** How long one request waits for its response before `TIMEOUT`. Default 15000 ms. */
  timeoutMs?: number | undefined
  /** How long to look for the wallet's info event (kind 13194) when connecting. Default 2000 ms. */
  infoTimeoutMs?: number | undefined
  logger?: Logger | undefined
}

const HEX32 = /^[0-9a-f]{64}$/i
const NETWORKS = new Set(['mainnet', 'testnet', 'signet', 'regtest'])

/**
 * Reads `nostr+walletconnect://<pubkey>?relay=…&secret=…`. By hand: nostr-tools has a parser in
 * its `nip47` module, but does not export that module as a subpath (only through its root index).
 */
function parseConnectionUri(uri: string): { pubkey: string; relays: string[]; secret: string } {
  let url: URL
  try {
    url = new URL(uri)
  } catch (err) {
    throw new AgoraError('CONFIG', 'not a Nostr Wallet Connect URI: expected nostr+walletconnect://<pubkey>?relay=…&secret=…', {
      cause: err,
    })
  }
  const pubkey = url.host || url.pathname.replace(/^\/+/, '')
  const relays = url.searchParams.getAll('relay')
  const secret = url.searchParams.get('secret') ?? ''
  if (url.protocol !== 'nostr+walletconnect:' || relays.length === 0) {
    throw new AgoraError('CONFIG', 'not a Nostr Wallet Connect URI: expected nostr+walletconnect://<pubkey>?relay=…&secret=…')
  }
  if (!HEX32.test(pubkey) || !HEX32.test(secret)) {
    throw new AgoraError('CONFIG', 'the Nostr Wallet Connect URI needs a 32-byte hex wallet pubkey and secret')
  }
  return { pubkey, relays, secret }
}

interface Waiter {
  method: string
  resolve(response: NwcResponse): void
  reject(err: Error): void
}

/**
 * Connects to a wallet over Nostr Wallet Connect. Reads the wallet's info event for its methods,
 * encryption (NIP-44 v2 when advertised, else NIP-04) and notifications; when it sends
 * `payment_received`, the wallet has {@link LightningWallet.onPaymentReceived}. Throws `CONFIG`
 * for a malformed URI and `CONNECTION` when none of its relays can be reached. Requests that get
 * no answer throw `TIMEOUT`; wallet errors keep their NIP-47 code in `data.reason`.
 *
 * @example
 * ```ts
 * const wallet = await nwcWallet('nostr+walletconnect://b889…?relay=wss%3A%2F%2Frelay.example&secret=71a8…')
 * const { preimage } = await wallet.payInvoice('lnbc100n1p…')
 * await wallet.close()
 * ```
 */
export async function nwcWallet(connectionUri: string, options: NwcWalletOptions = {}): Promise<LightningWallet> {
  const conn = parseConnectionUri(connectionUri)
  const walletPubkey = conn.pubkey.toLowerCase()
  const relays = conn.relays
  const secretKey = hexToBytes(conn.secret)
  const me = getPublicKey(secretKey)
  const timeoutMs = options.timeoutMs ?? 15_000
  const log = options.logger ?? silentLogger
  const pool = nwcPool()

  throwIfCancelled(options.signal, 'connecting to the wallet')
  const reached = await Promise.allSettled(
    relays.map((url) => pool.ensureRelay(url, { connectionTimeout: 3000, abort: options.signal })),
  )
  if (!reached.some((r) => r.status === 'fulfilled')) {
    pool.destroy()
    throwIfCancelled(options.signal, 'connecting to the wallet')
    const why = reached.map((r, i) => `${relays[i]}: ${(r as PromiseRejectedResult).reason?.message ?? 'unreachable'}`)
    throw new AgoraError('CONNECTION', `cannot reach the wallet's relays (${why.join('; ')})`)
  }
  const info = await pool.get(
    relays,
    { kinds: [NWC_INFO_KIND], authors: [walletPubkey] },
    { maxWait: options.infoTimeoutMs ?? 2000 },
  )
  const encryption: NwcEncryption = info ? encryptionOf(info.tags) : 'nip04'
  const advertised = info?.content.split(/\s+/).filter(Boolean)
  const notifications = info?.tags.find((t) => t[0] === 'notifications')?.[1]?.split(/\s+/) ?? []
  if (!info) log.warn('nwc: no info event from the wallet; assuming NIP-04 and no notifications', { wallet: walletPubkey })

  const waiters = new Map<string, Waiter>()
  const listeners = new Set<(payment: ReceivedPayment) => void>()
  const seenPayments = new Set<string>()
  let closed = false
  let subscription: { closer: SubCloser; ready: Promise<void> } | undefined

  function fail(err: Error) {
    for (const w of waiters.values()) w.reject(err)
    waiters.clear()
  }

  function onEvent(event: Event) {
    if (event.kind === NWC_RESPONSE_KIND) {
      const requestId = event.tags.find((t) => t[0] === 'e')?.[1]
      const waiter = requestId ? waiters.get(requestId) : undefined
      if (!waiter) return
      try {
        waiter.resolve(JSON.parse(decrypt(encryptionOf(event.tags) === 'nip44_v2' ? 'nip44_v2' : encryption, event.content)))
      } catch (err) {
        waiter.reject(new AgoraError('INTERNAL', `unreadable ${waiter.method} response from the wallet`, { cause: err }))
      }
      return
    }
    const scheme: NwcEncryption = event.kind === NWC_NOTIFICATION_KIND ? 'nip44_v2' : 'nip04'
    let note: { notification_type?: unknown; notification?: NwcTransaction }
    try {
      note = JSON.parse(decrypt(scheme, event.content))
    } catch {
      return
    }
    const tx = note.notification
    if (note.notification_type !== 'payment_received' || !tx?.payment_hash || !tx.preimage || !tx.invoice) return
    // A service speaking both encryptions sends each notification twice.
    if (seenPayments.has(tx.payment_hash)) return
    seenPayments.add(tx.payment_hash)
    const payment: ReceivedPayment = {
      invoice: tx.invoice,
      paymentHash: tx.payment_hash,
      preimage: tx.preimage,
      amountMsat: Number(tx.amount),
      settledAt: tx.settled_at ?? Math.floor(Date.now() / 1000),
    }
    for (const listener of listeners) listener(payment)
  }

  function decrypt(scheme: NwcEncryption, content: string): string {
    try {
      return decryptPayload(scheme, secretKey, walletPubkey, content)
    } catch {
      return decryptPayload(scheme === 'nip04' ? 'nip44_v2' : 'nip04', secretKey, walletPubkey, content)
    }
  }

  /** One subscription for responses and notifications, opened before the first request. */
  function subscribe(): { closer: SubCloser; ready: Promise<void> } {
    let settle!: (err?: Error) => void
    const ready = new Promise<void>((resolve, reject) => {
      settle = (err) => (err ? reject(err) : resolve())
    })
    ready.catch(() => {})
    let down = false
    const current = {
      closer: pool.subscribe(
        relays,
        { kinds: [NWC_RESPONSE_KIND, NWC_NOTIFICATION_NIP04_KIND, NWC_NOTIFICATION_KIND], authors: [walletPubkey], '#p': [me] },
        {
          onevent: onEvent,
          // A relay that cannot be reached also counts as "end of stored events": wait a tick for its close.
          oneose: () => queueMicrotask(() => !down && settle()),
          onclose: (reasons) => {
            down = true
            if (subscription === current) subscription = undefined
            const err = new AgoraError(
              'CONNECTION',
              `lost the wallet's relays (${reasons.map((r) => `${r.url}: ${r.reason}`).join('; ')})`,
            )
            settle(err)
            fail(err)
          },
        },
      ),
      ready,
    }
    return current
  }

  async function request(method: string, params: Record<string, unknown>, signal: AbortSignal | undefined) {
    if (closed) throw new AgoraError('CONNECTION', 'the NWC wallet is closed')
    throwIfCancelled(signal, method)
    subscription ??= subscribe()
    await subscription.ready
    const now = Math.floor(Date.now() / 1000)
    const tags = [
      ['p', walletPubkey],
      ['expiration', String(now + Math.ceil(timeoutMs / 1000) + 5)],
    ]
    if (encryption === 'nip44_v2') tags.push(['encryption', 'nip44_v2'])
    const event = finalizeEvent(
      {
        kind: NWC_REQUEST_KIND,
        created_at: now,
        tags,
        content: encryptPayload(encryption, secretKey, walletPubkey, JSON.stringify({ method, params })),
      },
      secretKey,
    )
    let timer: ReturnType<typeof setTimeout> | undefined
    let onAbort = () => {}
    const answered = new Promise<NwcResponse>((resolve, reject) => {
      waiters.set(event.id, { method, resolve, reject })
      timer = setTimeout(
        () => reject(new AgoraError('TIMEOUT', `the wallet did not answer ${method} within ${timeoutMs} ms`)),
        timeoutMs,
      )
      onAbort = () => reject(new AgoraError('CANCELLED', `${method} was cancelled`, { cause: signal?.reason }))
      signal?.addEventListener('abort', onAbort, { once: true })
    })
    answered.catch(() => {})
    try {
      const published = await Promise.allSettled(pool.publish(relays, event))
      if (!published.some((p) => p.status === 'fulfilled')) {
        const why = published.map((p, i) => `${relays[i]}: ${(p as PromiseRejectedResult).reason?.message ?? p.status}`)
        throw new AgoraError('CONNECTION', `no relay took the ${method} request (${why.join('; ')})`)
      }
      const response = await answered
      if (response.error) throw walletError(response.error.code, `${method}: ${response.error.message}`)
      if (response.result_type !== method || !response.result) {
        throw new AgoraError('INTERNAL', `the wallet answered ${method} with ${String(response.result_type)} and no result`)
      }
      return response.result
    } finally {
      clearTimeout(timer)
      signal?.removeEventListener('abort', onAbort)
      waiters.delete(event.id)
    }
  }

  async function makeInvoice(req: Parameters<LightningWallet['makeInvoice']>[0], opts: CallOptions = {}): Promise<Invoice> {
    const amountMsat = requireMsat(req.amountMsat)
    const result = (await request(
      'make_invoice',
      {
        amount: amountMsat,
        ...(req.description !== undefined ? { description: req.description } : {}),
        ...(req.expirySeconds !== undefined ? { expiry: req.expirySeconds } : {}),
      },
      opts.signal,
    )) as unknown as NwcTransaction
    let decoded: ReturnType<typeof decodeInvoice>
    try {
      decoded = decodeInvoice(String(result.invoice))
    } catch (err) {
      throw new AgoraError('INTERNAL', 'the wallet made an invoice that does not decode', { cause: err })
    }
    if (decoded.paymentHash !== String(result.payment_hash).toLowerCase() || decoded.amountMsat !== amountMsat) {
      throw new AgoraError('INTERNAL', 'the wallet made an invoice whose payment hash or amount does not match its answer')
    }
    return {
      invoice: decoded.invoice,
      paymentHash: decoded.paymentHash,
      amountMsat,
      expiresAt: result.expires_at ?? decoded.expiresAt,
    }
  }

  async function payInvoice(invoice: string, opts: CallOptions = {}): Promise<Payment> {
    const result = await request('pay_invoice', { invoice }, opts.signal)
    const preimage = String(result.preimage ?? '')
    let hash: string | undefined
    try {
      hash = decodeInvoice(invoice).paymentHash
    } catch {
      hash = undefined
    }
    if (hash && !preimageMatches(preimage, hash)) {
      throw walletError('PAYMENT_FAILED', 'the wallet reported the payment done, but its preimage does not match the invoice')
    }
    return { preimage, feesPaidMsat: Number(result.fees_paid ?? 0) }
  }

  async function lookupInvoice(
    query: { paymentHash: string } | { invoice: string },
    opts: CallOptions = {},
  ): Promise<InvoiceStatus> {
    const params = 'invoice' in query ? { invoice: query.invoice } : { payment_hash: query.paymentHash }
    return fromTransaction((await request('lookup_invoice', params, opts.signal)) as unknown as NwcTransaction)
  }

  async function getBalance(opts: CallOptions = {}) {
    const result = await request('get_balance', {}, opts.signal)
    return { balanceMsat: Number(result.balance ?? 0) }
  }

  async function getInfo(opts: CallOptions = {}): Promise<WalletInfo> {
    const result = await request('get_info', {}, opts.signal)
    const network = String(result.network ?? 'mainnet')
    return {
      ...(typeof result.alias === 'string' ? { alias: result.alias } : {}),
      pubkey: String(result.pubkey ?? ''),
      network: (NETWORKS.has(network) ? network : 'mainnet') as LightningNetwork,
      methods: Array.isArray(result.methods) ? result.methods.map(String) : (advertised ?? []),
    }
  }

  async function close() {
    if (closed) return
    closed = true
    fail(new AgoraError('CONNECTION', 'the NWC wallet was closed'))
    listeners.clear()
    subscription?.closer.close()
    pool.destroy()
  }

  const wallet: LightningWallet = { makeInvoice, payInvoice, lookupInvoice, getBalance, getInfo, close }
  if (notifications.includes('payment_received')) {
    wallet.onPaymentReceived = (listener) => {
      listeners.add(listener)
      subscription ??= subscribe()
      return () => listeners.delete(listener)
    }
  }
  return wallet
}
