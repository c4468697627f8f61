import type { Logger } from '@agora/core'
import { AgoraError } from '@agora/core/errors'
import type { NostrPaymentNotice } from './client-transport.ts'
import { NostrClientTransport } from './client-transport.ts'
import type { EncryptionMode } from './encryption.ts'
import { parsePublicKey, resolveKeys } from './keys.ts'
import type { RelayPool } from './pool.ts'
import { createRelayPool } from './pool.ts'
import type { NostrProfile } from './profile.ts'
import { resolveProfile } from './profile.ts'
import { useFastSigning } from './signing.ts'

/** Default bound on a request without any news from the server: 60 s. */
export const DEFAULT_NOSTR_TIMEOUT_MS = 60_000

export interface NostrConnectOptions {
  /** Relays the server listens on. Required unless `pool` is given. */
  relays?: string[] | undefined
  /** An open pool to use (not closed with the transport). */
  pool?: RelayPool | undefined
  /** The server's public key: hex, `npub1…` or `nprofile1…`. */
  serverPubkey: string
  /** The server id to target (`s` tag). Default: learnt from the `d` tag of the initialize response. */
  serverId?: string | undefined
  /** This client's secret key (hex, nsec or bytes); its pubkey is the caller identity. Default: a fresh one. */
  secretKey?: string | Uint8Array | undefined
  /** Wire dialect. Default {@link DVMCP_DRAFT}. */
  profile?: NostrProfile | string | undefined
  /**
   * `optional` (default): plaintext requests, encrypted answers accepted. `required`: requests are
   * NIP-59 gift-wrapped and plaintext answers ignored. `disabled`: plaintext only.
   */
  encryption?: EncryptionMode | undefined
  /** A request without any news from the server (response, progress) for this long fails with `TIMEOUT`. Default 60 s. */
  timeoutMs?: number | undefined
  /** Largest `content` accepted from the server, in UTF-8 bytes. Default 1 MiB. */
  maxContentBytes?: number | undefined
  /**
   * Called when the server asks to be paid for a request (DVMCP `payment-required`); the request
   * waits (until the invoice expires) for the server to see the payment. Without it, such a
   * request fails with `PAYMENT_REQUIRED` carrying the invoice. A throw fails the request too.
   */
  onPaymentRequired?: ((notice: NostrPaymentNotice) => void | Promise<void>) | undefined
  logger?: Logger | undefined
  /** Aborts connecting. */
  signal?: AbortSignal | undefined
}

/**
 * Opens the client end of MCP over Nostr to `serverPubkey`: subscribes to answers for this
 * client's key on the relays and resolves once a relay confirmed the subscription. Connect an SDK
 * `Client` to the result. Rejects with `CONNECTION` when no relay can be reached.
 *
 * @example
 * ```ts
 * import { Client } from '@modelcontextprotocol/client'
 * const transport = await connectNostr({ relays: ['ws://127.0.0.1:7777'], serverPubkey: 'npub1…' })
 * const client = new Client({ name: 'me', version: '1.0.0' })
 * await client.connect(transport)
 * console.log(transport.serverId, await client.listTools())
 * await client.close()
 * ```
 */
export async function connectNostr(options: NostrConnectOptions): Promise<NostrClientTransport> {
  options.signal?.throwIfAborted()
  const serverPubkey = parsePublicKey(options.serverPubkey)
  await useFastSigning()
  const { secretKey, pubkey } = await resolveKeys({ secretKey: options.secretKey })
  const encryption = options.encryption ?? 'optional'
  if (!['disabled', 'optional', 'required'].includes(encryption)) {
    throw new AgoraError('CONFIG', `encryption must be disabled, optional or required, got ${JSON.stringify(encryption)}`)
  }
  const pool = options.pool ?? createRelayPool({ relays: options.relays ?? [], logger: options.logger })
  const transport = new NostrClientTransport({
    pool,
    ownsPool: options.pool === undefined,
    secretKey,
    pubkey,
    serverPubkey,
    serverId: options.serverId,
    profile: resolveProfile(options.profile),
    encryption,
    timeoutMs: options.timeoutMs ?? DEFAULT_NOSTR_TIMEOUT_MS,
    maxContentBytes: options.maxContentBytes ?? 1024 * 1024,
    onPaymentRequired: options.onPaymentRequired,
    logger: options.logger,
  })
  try {
    await transport.listen(options.signal)
  } catch (err) {
    await transport.close()
    if (options.signal?.aborted) throw new AgoraError('CANCELLED', 'connecting over Nostr was cancelled', { cause: err })
    throw err
  }
  return transport
}
