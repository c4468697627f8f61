/**
 * BOLT11 invoices through the `bolt11` package: signing with a node key, decoding with the
 * signature checked (the payee's key is recovered from it), and the preimage check that proves
 * payment.
 */
import { createECDH, createHash, randomBytes, timingSafeEqual } from 'node:crypto'
import { AgoraError } from '@agora/core/errors'
import { decode, encode, sign } from 'bolt11'
import type { LightningNetwork } from './wallet.ts'

/** BOLT11 network parameters (`bolt11`'s `Network`): the bech32 prefix picks the network. */
const NETWORKS: Record<
  LightningNetwork,
  { bech32: string; pubKeyHash: number; scriptHash: number; validWitnessVersions: number[] }
> = {
  mainnet: { bech32: 'bc', pubKeyHash: 0x00, scriptHash: 0x05, validWitnessVersions: [0, 1] },
  testnet: { bech32: 'tb', pubKeyHash: 0x6f, scriptHash: 0xc4, validWitnessVersions: [0, 1] },
  signet: { bech32: 'tbs', pubKeyHash: 0x6f, scriptHash: 0xc4, validWitnessVersions: [0, 1] },
  regtest: { bech32: 'bcrt', pubKeyHash: 0x6f, scriptHash: 0xc4, validWitnessVersions: [0, 1] },
}

/** BOLT11's default expiry when an invoice has no `x` tag. */
export const DEFAULT_EXPIRY_SECONDS = 3600

/** A decoded BOLT11 invoice whose signature checked out. */
export interface DecodedInvoice {
  invoice: string
  network: LightningNetwork
  /** The payee node's public key, recovered from the signature (hex, compressed). */
  payee: string
  paymentHash: string
  paymentSecret: string | undefined
  /** Undefined for an amountless invoice. */
  amountMsat: number | undefined
  description: string | undefined
  /** Unix seconds. */
  createdAt: number
  /** Unix seconds. */
  expiresAt: number
}

/** A secp256k1 node key. */
export interface NodeKey {
  /** Hex, 32 bytes. */
  privateKey: string
  /** Hex, 33 bytes compressed. */
  publicKey: string
}

/**
 * A node key: the given private key (hex or bytes), or a fresh random one.
 *
 * @example
 * ```ts
 * const key = nodeKey() // { privateKey: '…', publicKey: '02…' }
 * ```
 */
export function nodeKey(privateKey?: string | Uint8Array): NodeKey {
  const ecdh = createECDH('secp256k1')
  if (privateKey === undefined) ecdh.generateKeys()
  else {
    const bytes = typeof privateKey === 'string' ? Buffer.from(privateKey, 'hex') : Buffer.from(privateKey)
    if (bytes.length !== 32) throw new AgoraError('CONFIG', 'a Lightning node key must be 32 bytes (64 hex characters)')
    try {
      ecdh.setPrivateKey(bytes)
    } catch (err) {
      throw new AgoraError('CONFIG', 'the Lightning node key is not a valid secp256k1 private key', { cause: err })
    }
  }
  return { privateKey: ecdh.getPrivateKey('hex').padStart(64, '0'), publicKey: ecdh.getPublicKey('hex', 'compressed') }
}

/**
 * A fresh preimage and its payment hash (hex).
 *
 * @example
 * ```ts
 * const { preimage, paymentHash } = newPreimage()
 * preimageMatches(preimage, paymentHash) // true
 * ```
 */
export function newPreimage(): { preimage: string; paymentHash: string } {
  const preimage = randomBytes(32)
  return { preimage: preimage.toString('hex'), paymentHash: createHash('sha256').update(preimage).digest('hex') }
}

const HEX32 = /^[0-9a-f]{64}$/i

/**
 * True when `preimage` is 32 bytes of hex whose sha256 is `paymentHash`: the proof that an
 * invoice was paid.
 *
 * @example
 * ```ts
 * if (!preimageMatches(preimage, charge.proof.paymentHash)) throw new Error('not paid')
 * ```
 */
export function preimageMatches(preimage: unknown, paymentHash: string): boolean {
  if (typeof preimage !== 'string' || !HEX32.test(preimage) || !HEX32.test(paymentHash)) return false
  const digest = createHash('sha256').update(Buffer.from(preimage, 'hex')).digest()
  return timingSafeEqual(digest, Buffer.from(paymentHash, 'hex'))
}

/** The payment hash of a preimage (hex). Throws `INVALID_PARAMS` unless it is 32 bytes of hex. */
export function paymentHashOf(preimage: string): string {
  if (!HEX32.test(preimage)) throw new AgoraError('INVALID_PARAMS', 'a preimage is 32 bytes of hex (64 characters)')
  return createHash('sha256').update(Buffer.from(preimage, 'hex')).digest('hex')
}

export interface SignInvoiceOptions {
  key: NodeKey
  network: LightningNetwork
  amountMsat: number
  paymentHash: string
  description?: string | undefined
  expirySeconds?: number | undefined
  /** Unix seconds; default now. */
  timestamp?: number | undefined
}

/**
 * Encodes and signs a BOLT11 invoice (with a random payment secret).
 *
 * @example
 * ```ts
 * const { preimage, paymentHash } = newPreimage()
 * const invoice = signInvoice({ key: nodeKey(), network: 'regtest', amountMsat: 10_000, paymentHash, description: 'forecast' })
 * // 'lnbcrt100n1p…'
 * ```
 */
export function signInvoice(options: SignInvoiceOptions): string {
  const expiry = options.expirySeconds ?? DEFAULT_EXPIRY_SECONDS
  if (!Number.isSafeInteger(expiry) || expiry <= 0)
    throw new AgoraError('INVALID_PARAMS', 'expirySeconds must be a positive integer')
  const unsigned = encode({
    network: NETWORKS[options.network],
    millisatoshis: String(options.amountMsat),
    timestamp: options.timestamp ?? Math.floor(Date.now() / 1000),
    tags: [
      { tagName: 'payment_hash', data: options.paymentHash },
      { tagName: 'payment_secret', data: randomBytes(32).toString('hex') },
      { tagName: 'description', data: options.description ?? '' },
      { tagName: 'expire_time', data: expiry },
    ],
  })
  const signed = sign(unsigned, options.key.privateKey)
  if (!signed.paymentRequest) throw new AgoraError('INTERNAL', 'bolt11 produced no payment request')
  return signed.paymentRequest
}

function networkOf(hrp: string): LightningNetwork | undefined {
  // Longest bech32 prefix first: `lnbcrt` also starts with `lnbc`, `lntbs` with `lntb`.
  const lower = hrp.toLowerCase()
  const order: LightningNetwork[] = ['regtest', 'signet', 'testnet', 'mainnet']
  return order.find((n) => lower.startsWith(`ln${NETWORKS[n].bech32}`))
}

/**
 * Decodes a BOLT11 invoice and checks its signature: `bolt11` recovers the payee's key from the
 * signature (and rejects one that contradicts an explicit payee tag), so an edited invoice names
 * a different payee. Throws `INVALID_PARAMS` for anything that is not a well-formed, signed invoice.
 *
 * @example
 * ```ts
 * const d = decodeInvoice(bolt11) // { payee: '02…', paymentHash, amountMsat: 10000, expiresAt, … }
 * if (d.payee !== knownNode) throw new Error('unknown payee')
 * ```
 */
export function decodeInvoice(invoice: string): DecodedInvoice {
  if (typeof invoice !== 'string' || !/^ln/i.test(invoice.trim())) {
    throw new AgoraError('INVALID_PARAMS', 'not a BOLT11 invoice (expected a string starting with "ln")')
  }
  const text = invoice.trim()
  const network = networkOf(text.slice(0, text.lastIndexOf('1')))
  if (!network) throw new AgoraError('INVALID_PARAMS', 'a BOLT11 invoice for an unknown network')
  let d: ReturnType<typeof decode>
  try {
    d = decode(text, NETWORKS[network])
  } catch (err) {
    throw new AgoraError('INVALID_PARAMS', `invalid BOLT11 invoice: ${(err as Error).message}`, { cause: err })
  }
  const tags = d.tagsObject
  if (!d.payeeNodeKey || !d.signature) throw new AgoraError('INVALID_PARAMS', 'the BOLT11 invoice is not signed')
  if (!tags.payment_hash || !HEX32.test(tags.payment_hash)) {
    throw new AgoraError('INVALID_PARAMS', 'the BOLT11 invoice has no payment hash')
  }
  const createdAt = d.timestamp ?? 0
  const msat = d.millisatoshis ? Number(d.millisatoshis) : undefined
  return {
    invoice: text,
    network,
    payee: d.payeeNodeKey,
    paymentHash: tags.payment_hash.toLowerCase(),
    paymentSecret: tags.payment_secret,
    amountMsat: msat !== undefined && Number.isSafeInteger(msat) ? msat : undefined,
    description: tags.description,
    createdAt,
    expiresAt: d.timeExpireDate ?? createdAt + (tags.expire_time ?? DEFAULT_EXPIRY_SECONDS),
  }
}
