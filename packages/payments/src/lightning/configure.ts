import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import type { PaymentGateway } from '@agora/core'
import { openLedger, parseLedgerUrl } from '../ledger/open.ts'
import type { LightningPaymentsOptions } from './gateway.ts'
import { createLightningPayments } from './gateway.ts'
import { nwcWallet } from './nwc-client.ts'
import type { LightningWallet } from './wallet.ts'

export interface LightningConfigOptions {
  /** The server's wallet: a Nostr Wallet Connect URI (`nostr+walletconnect://…`) or a wallet object. */
  wallet: string | LightningWallet
  /** Charge ledger URL (`sqlite:<path>`, `postgres://…`). Default `sqlite:.agora/charges.db`. */
  ledger?: string | undefined
  /** Seconds an invoice stays payable (and a call is held). Default 600. */
  expirySeconds?: number | undefined
  /** Converts prices in other assets to sats. */
  toSats?: LightningPaymentsOptions['toSats']
  /** Calls one caller may have held waiting for payment at once. Default 8. */
  maxHeldPerCaller?: number | undefined
  logger?: LightningPaymentsOptions['logger']
  signal?: AbortSignal | undefined
}

/** A configured Lightning gateway, what it was configured with, and how to release it. */
export interface LightningConfig {
  readonly gateway: PaymentGateway
  readonly wallet: LightningWallet
  readonly summary: { network: string; walletPubkey: string; ledger: string }
  close(): Promise<void>
}

/**
 * Builds the hold-until-paid Lightning gateway from configuration values, as `agora serve --nwc`
 * and `agora bridge --nwc` do: connects the wallet (NIP-47 when given a URI) and opens the ledger
 * (creating a SQLite ledger's directory, private to the user).
 *
 * @example
 * ```ts
 * const ln = await lightningPayments({ wallet: 'nostr+walletconnect://…?relay=ws://127.0.0.1:7777&secret=…' })
 * server.payments(ln.gateway)
 * ```
 */
export async function lightningPayments(options: LightningConfigOptions): Promise<LightningConfig> {
  const wallet = typeof options.wallet === 'string' ? await nwcWallet(options.wallet, { signal: options.signal }) : options.wallet
  try {
    const info = await wallet.getInfo({ signal: options.signal })
    const ledgerUrl = options.ledger ?? 'sqlite:.agora/charges.db'
    const location = parseLedgerUrl(ledgerUrl)
    if (location.kind === 'sqlite' && location.path !== ':memory:') {
      mkdirSync(dirname(location.path), { recursive: true, mode: 0o700 })
    }
    const ledger = await openLedger(ledgerUrl)
    const gateway = createLightningPayments({
      ledger,
      wallet,
      expirySeconds: options.expirySeconds,
      toSats: options.toSats,
      maxHeldPerCaller: options.maxHeldPerCaller,
      logger: options.logger,
    })
    return {
      gateway,
      wallet,
      summary: { network: `lightning:${info.network}`, walletPubkey: info.pubkey, ledger: ledgerUrl },
      async close() {
        await ledger.close()
        if (typeof options.wallet === 'string') await wallet.close()
      },
    }
  } catch (err) {
    if (typeof options.wallet === 'string') await Promise.resolve(wallet.close()).catch(() => {})
    throw err
  }
}
