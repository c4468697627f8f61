/**
 * NIP-47 (Nostr Wallet Connect) wire details shared by the client ({@link nwcWallet}) and the
 * service ({@link serveNwc}): event kinds, payload encryption (NIP-04, or NIP-44 v2 when the wallet
 * advertises it), the relay pool, and the transaction object.
 */
import { AbstractSimplePool } from 'nostr-tools/abstract-pool'
import * as nip04 from 'nostr-tools/nip04'
import * as nip44 from 'nostr-tools/nip44'
import { verifyEvent } from 'nostr-tools/pure'
import { WebSocket } from 'ws'
import type { InvoiceState, InvoiceStatus } from './wallet.ts'

export const NWC_INFO_KIND = 13194
export const NWC_REQUEST_KIND = 23194
export const NWC_RESPONSE_KIND = 23195
/** Notifications encrypted with NIP-04 (the legacy kind). */
export const NWC_NOTIFICATION_NIP04_KIND = 23196
/** Notifications encrypted with NIP-44 v2. */
export const NWC_NOTIFICATION_KIND = 23197

/** Payload encryption schemes, as the info event's `encryption` tag names them. */
export type NwcEncryption = 'nip44_v2' | 'nip04'

export interface NwcRequest {
  method: string
  params: Record<string, unknown>
}

export interface NwcResponse {
  result_type: string
  error?: { code: string; message: string } | null
  result?: Record<string, unknown> | null
}

export interface NwcNotification {
  notification_type: string
  notification: Record<string, unknown>
}

/** NIP-47's transaction object (`make_invoice`, `lookup_invoice`, notifications). */
export interface NwcTransaction {
  type: 'incoming' | 'outgoing'
  state?: InvoiceState | 'failed'
  invoice?: string
  description?: string
  preimage?: string
  payment_hash: string
  amount: number
  fees_paid?: number
  created_at?: number
  expires_at?: number
  settled_at?: number
}

export function encryptPayload(scheme: NwcEncryption, secretKey: Uint8Array, pubkey: string, text: string): string {
  if (scheme === 'nip44_v2') return nip44.encrypt(text, nip44.getConversationKey(secretKey, pubkey))
  return nip04.encrypt(secretKey, pubkey, text)
}

export function decryptPayload(scheme: NwcEncryption, secretKey: Uint8Array, pubkey: string, data: string): string {
  if (scheme === 'nip44_v2') return nip44.decrypt(data, nip44.getConversationKey(secretKey, pubkey))
  return nip04.decrypt(secretKey, pubkey, data)
}

/** The scheme an event says it uses (its `encryption` tag); NIP-04 when it has none. */
export function encryptionOf(tags: readonly string[][]): NwcEncryption {
  return tags.some((t) => t[0] === 'encryption' && t[1]?.split(/\s+/).includes('nip44_v2')) ? 'nip44_v2' : 'nip04'
}

/** A relay pool on the `ws` package, with signatures checked on every event. */
export function nwcPool(): AbstractSimplePool {
  return new AbstractSimplePool({
    verifyEvent,
    websocketImplementation: WebSocket as unknown as typeof globalThis.WebSocket,
    maxWaitForConnection: 3000,
  })
}

export function toTransaction(status: InvoiceStatus, type: 'incoming' | 'outgoing' = 'incoming'): NwcTransaction {
  return {
    type,
    state: status.state,
    ...(status.invoice ? { invoice: status.invoice } : {}),
    ...(status.preimage ? { preimage: status.preimage } : {}),
    payment_hash: status.paymentHash,
    amount: status.amountMsat,
    fees_paid: 0,
    ...(status.expiresAt !== undefined ? { expires_at: status.expiresAt } : {}),
    ...(status.settledAt !== undefined ? { settled_at: status.settledAt } : {}),
  }
}

export function fromTransaction(t: NwcTransaction): InvoiceStatus {
  const now = Math.floor(Date.now() / 1000)
  const state: InvoiceState =
    t.state === 'settled' || t.state === 'pending' || t.state === 'expired'
      ? t.state
      : t.settled_at
        ? 'settled'
        : t.expires_at !== undefined && t.expires_at <= now
          ? 'expired'
          : 'pending'
  return {
    state,
    paymentHash: String(t.payment_hash ?? ''),
    amountMsat: Number(t.amount ?? 0),
    ...(t.preimage ? { preimage: t.preimage } : {}),
    ...(t.settled_at !== undefined ? { settledAt: t.settled_at } : {}),
    ...(t.expires_at !== undefined ? { expiresAt: t.expires_at } : {}),
    ...(t.invoice ? { invoice: t.invoice } : {}),
  }
}
