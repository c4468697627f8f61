/**
 * A local stand-in for a Lightning node: real signed BOLT11 invoices, no HTLC routing. Wallets
 * on one in-process "network" pay each other's invoices directly: a payment checks the invoice's
 * signature, network, expiry and amount, moves the balance and reveals the preimage, exactly what
 * a payer and payee observe on real Lightning. Nothing is routed, locked in channels or persisted.
 * Use it for tests and `agora dev`; reach it over NIP-47 with {@link serveNwc}.
 */
import { AgoraError } from '@agora/core/errors'
import { throwIfCancelled } from './abort.ts'
import type { NodeKey } from './invoice.ts'
import { DEFAULT_EXPIRY_SECONDS, decodeInvoice, newPreimage, nodeKey, signInvoice } from './invoice.ts'
import type {
  CallOptions,
  Invoice,
  InvoiceStatus,
  LightningNetwork,
  LightningWallet,
  MakeInvoiceRequest,
  Payment,
  ReceivedPayment,
  WalletInfo,
} from './wallet.ts'
import { requireMsat, walletError } from './wallet.ts'

export interface LocalLightningOptions {
  /** Which network the invoices are for (their bech32 prefix). Default `regtest` (`lnbcrt…`). */
  network?: LightningNetwork | undefined
}

export interface LocalWalletOptions {
  /** Unique on the network; the node's alias. */
  name: string
  /** Starting balance. Default 0. */
  balanceMsat?: number | undefined
  /** The node's secp256k1 private key (hex or bytes). Default: a fresh random key. */
  nodeKey?: string | Uint8Array | undefined
}

/** A wallet of the local stand-in network. */
export interface LocalLightningWallet extends LightningWallet {
  readonly name: string
  /** The node's public key: the payee every invoice it signs recovers to. */
  readonly pubkey: string
  onPaymentReceived(listener: (payment: ReceivedPayment) => void): () => void
}

export interface LocalLightning {
  readonly network: LightningNetwork
  createWallet(options: LocalWalletOptions): LocalLightningWallet
  /** The open wallet called `name`, if any. */
  wallet(name: string): LocalLightningWallet | undefined
  /** Closes every wallet. */
  close(): Promise<void>
}

interface Issued {
  invoice: string
  paymentHash: string
  preimage: string
  amountMsat: number
  createdAt: number
  expiresAt: number
  settledAt: number | undefined
}

interface Node {
  name: string
  key: NodeKey
  balanceMsat: number
  issued: Map<string, Issued>
  /** Invoices this node paid, by payment hash. */
  paid: Map<string, Issued>
  listeners: Set<(payment: ReceivedPayment) => void>
}

const METHODS = ['pay_invoice', 'make_invoice', 'lookup_invoice', 'get_balance', 'get_info']
const nowSeconds = () => Math.floor(Date.now() / 1000)

function status(entry: Issued): InvoiceStatus {
  const settled = entry.settledAt !== undefined
  return {
    state: settled ? 'settled' : nowSeconds() >= entry.expiresAt ? 'expired' : 'pending',
    paymentHash: entry.paymentHash,
    amountMsat: entry.amountMsat,
    invoice: entry.invoice,
    expiresAt: entry.expiresAt,
    ...(settled ? { preimage: entry.preimage, settledAt: entry.settledAt } : {}),
  }
}

/**
 * A local stand-in for a Lightning node network: real signed BOLT11 invoices, no HTLC routing.
 *
 * @example
 * ```ts
 * const ln = createLocalLightning()
 * const shop = ln.createWallet({ name: 'shop' })
 * const alice = ln.createWallet({ name: 'alice', balanceMsat: 1_000_000 })
 * const { invoice } = await shop.makeInvoice({ amountMsat: 10_000, description: 'forecast' })
 * const { preimage } = await alice.payInvoice(invoice)
 * await shop.getBalance() // { balanceMsat: 10000 }
 * ```
 */
export function createLocalLightning(options: LocalLightningOptions = {}): LocalLightning {
  const network = options.network ?? 'regtest'
  const byKey = new Map<string, Node>()
  const byName = new Map<string, LocalLightningWallet>()

  function createWallet(opts: LocalWalletOptions): LocalLightningWallet {
    if (typeof opts.name !== 'string' || opts.name === '') throw new AgoraError('CONFIG', 'a local Lightning wallet needs a name')
    if (byName.has(opts.name)) throw new AgoraError('CONFLICT', `a wallet called "${opts.name}" already exists on this network`)
    const balance = opts.balanceMsat ?? 0
    if (!Number.isSafeInteger(balance) || balance < 0) {
      throw new AgoraError('CONFIG', 'balanceMsat must be a non-negative whole number of millisatoshis')
    }
    const key = nodeKey(opts.nodeKey)
    if (byKey.has(key.publicKey)) throw new AgoraError('CONFLICT', `node ${key.publicKey} is already on this network`)
    let closed = false
    const self: Node = { name: opts.name, key, balanceMsat: balance, issued: new Map(), paid: new Map(), listeners: new Set() }

    const open = (what: string, signal: AbortSignal | undefined) => {
      if (closed) throw new AgoraError('CONNECTION', `the Lightning wallet "${opts.name}" is closed`)
      throwIfCancelled(signal, what)
    }

    async function makeInvoice(request: MakeInvoiceRequest, { signal }: CallOptions = {}): Promise<Invoice> {
      open('make_invoice', signal)
      const amountMsat = requireMsat(request.amountMsat)
      const expiry = request.expirySeconds ?? DEFAULT_EXPIRY_SECONDS
      const { preimage, paymentHash } = newPreimage()
      const createdAt = nowSeconds()
      const invoice = signInvoice({
        key,
        network,
        amountMsat,
        paymentHash,
        description: request.description,
        expirySeconds: expiry,
        timestamp: createdAt,
      })
      const expiresAt = createdAt + expiry
      self.issued.set(paymentHash, { invoice, paymentHash, preimage, amountMsat, createdAt, expiresAt, settledAt: undefined })
      return { invoice, paymentHash, amountMsat, expiresAt }
    }

    async function payInvoice(invoice: string, { signal }: CallOptions = {}): Promise<Payment> {
      open('pay_invoice', signal)
      let decoded: ReturnType<typeof decodeInvoice>
      try {
        decoded = decodeInvoice(invoice)
      } catch (err) {
        throw walletError('PAYMENT_FAILED', (err as Error).message, { detail: 'invalid_invoice' })
      }
      if (decoded.network !== network) {
        throw walletError('PAYMENT_FAILED', `the invoice is for ${decoded.network}; this wallet pays on ${network}`, {
          detail: 'wrong_network',
        })
      }
      const payee = byKey.get(decoded.payee)
      const entry = payee?.issued.get(decoded.paymentHash)
      if (!payee || !entry || entry.invoice !== decoded.invoice) {
        // An edited invoice recovers to a key no node has (or to one that never issued it).
        throw walletError(
          'PAYMENT_FAILED',
          `no route to the payee ${decoded.payee}: no node of this network issued the invoice`,
          {
            detail: 'unknown_payee',
          },
        )
      }
      if (payee === self) throw walletError('PAYMENT_FAILED', 'a wallet cannot pay its own invoice', { detail: 'self_payment' })
      if (decoded.amountMsat === undefined) {
        throw walletError('PAYMENT_FAILED', 'invoices without an amount are not supported', { detail: 'no_amount' })
      }
      if (entry.settledAt !== undefined)
        throw walletError('PAYMENT_FAILED', 'the invoice is already paid', { detail: 'already_paid' })
      if (nowSeconds() >= entry.expiresAt) throw walletError('PAYMENT_FAILED', 'the invoice has expired', { detail: 'expired' })
      if (self.balanceMsat < entry.amountMsat) {
        throw walletError(
          'INSUFFICIENT_BALANCE',
          `the balance of ${self.balanceMsat} msat does not cover the invoice's ${entry.amountMsat} msat`,
        )
      }
      // No await from the checks to here: the move is atomic in this process.
      self.balanceMsat -= entry.amountMsat
      payee.balanceMsat += entry.amountMsat
      entry.settledAt = nowSeconds()
      self.paid.set(entry.paymentHash, entry)
      const received: ReceivedPayment = {
        invoice: entry.invoice,
        paymentHash: entry.paymentHash,
        preimage: entry.preimage,
        amountMsat: entry.amountMsat,
        settledAt: entry.settledAt,
      }
      for (const listener of payee.listeners) queueMicrotask(() => listener(received))
      return { preimage: entry.preimage, feesPaidMsat: 0 }
    }

    async function lookupInvoice(
      query: { paymentHash: string } | { invoice: string },
      { signal }: CallOptions = {},
    ): Promise<InvoiceStatus> {
      open('lookup_invoice', signal)
      let hash: string
      if ('invoice' in query && typeof query.invoice === 'string') {
        try {
          hash = decodeInvoice(query.invoice).paymentHash
        } catch (err) {
          throw walletError('NOT_FOUND', `no such invoice: ${(err as Error).message}`)
        }
      } else {
        hash = String((query as { paymentHash?: unknown }).paymentHash ?? '').toLowerCase()
      }
      const entry = self.issued.get(hash) ?? self.paid.get(hash)
      if (!entry) throw walletError('NOT_FOUND', `this wallet has no invoice with payment hash ${hash}`)
      return status(entry)
    }

    async function getBalance({ signal }: CallOptions = {}) {
      open('get_balance', signal)
      return { balanceMsat: self.balanceMsat }
    }

    async function getInfo({ signal }: CallOptions = {}): Promise<WalletInfo> {
      open('get_info', signal)
      return { alias: opts.name, pubkey: key.publicKey, network, methods: [...METHODS] }
    }

    function onPaymentReceived(listener: (payment: ReceivedPayment) => void): () => void {
      self.listeners.add(listener)
      return () => self.listeners.delete(listener)
    }

    async function close() {
      if (closed) return
      closed = true
      self.listeners.clear()
      byKey.delete(key.publicKey)
      byName.delete(opts.name)
    }

    const wallet: LocalLightningWallet = {
      name: opts.name,
      pubkey: key.publicKey,
      makeInvoice,
      payInvoice,
      lookupInvoice,
      getBalance,
      getInfo,
      onPaymentReceived,
      close,
    }
    byKey.set(key.publicKey, self)
    byName.set(opts.name, wallet)
    return wallet
  }

  return {
    network,
    createWallet,
    wallet: (name) => byName.get(name),
    async close() {
      for (const wallet of [...byName.values()]) await wallet.close()
    },
  }
}
