import type { ServerDescriptor } from '@agora/core'
import { descriptorSchema } from '@agora/core'
import { AgoraError } from '@agora/core/errors'
import type { PeerId, PrivateKey } from '@libp2p/interface'
import { peerIdFromPrivateKey, peerIdFromString } from '@libp2p/peer-id'
import { canonicalJson } from './canonical-json.ts'

/** `signature.type` of a descriptor signed by a libp2p peer key. */
export const PEER_SIGNATURE_TYPE = 'libp2p-peer-id'

/** Prepended to the canonical JSON before signing, so the signature means nothing elsewhere. */
export const DESCRIPTOR_SIGNING_DOMAIN = 'agora-descriptor/v1\n'

/** The detached signature a libp2p peer puts in `descriptor.signature`. */
export interface PeerDescriptorSignature {
  readonly type: typeof PEER_SIGNATURE_TYPE
  /** The signer; equals `descriptor.identity.peerId`. */
  readonly peerId: string
  /** When it was signed (ISO 8601). */
  readonly created: string
  /** base64url signature over `DESCRIPTOR_SIGNING_DOMAIN ‖ canonicalJson(descriptor minus signature.value)`. */
  readonly value: string
}

/**
 * Why a descriptor was refused, in `AgoraError.data.reason` (stable strings):
 * `unreachable`, `timeout` and `cancelled` (could not ask), `too_large` and `malformed` (the answer
 * is not a bounded JSON document), `invalid_descriptor` (not a server descriptor), `unsigned`,
 * `bad_signature` and `wrong_peer` (not provably from the peer asked).
 */
export type DescriptorRejection =
  | 'unreachable'
  | 'timeout'
  | 'cancelled'
  | 'too_large'
  | 'malformed'
  | 'invalid_descriptor'
  | 'unsigned'
  | 'bad_signature'
  | 'wrong_peer'

const CODES: Record<DescriptorRejection, AgoraError['code']> = {
  unreachable: 'CONNECTION',
  timeout: 'TIMEOUT',
  cancelled: 'CANCELLED',
  too_large: 'CONNECTION',
  malformed: 'CONNECTION',
  invalid_descriptor: 'CONNECTION',
  unsigned: 'UNAUTHENTICATED',
  bad_signature: 'UNAUTHENTICATED',
  wrong_peer: 'UNAUTHENTICATED',
}

/** An `AgoraError` for a refused descriptor: code by reason, `data: { reason, peerId }`. */
export function descriptorError(reason: DescriptorRejection, peerId: string | undefined, message: string, cause?: unknown) {
  const who = peerId ? `peer ${peerId}: ` : ''
  return new AgoraError(CODES[reason], `${who}${message}`, { data: { reason, ...(peerId ? { peerId } : {}) }, cause })
}

const encoder = new TextEncoder()

function signingBytes(unsigned: Record<string, unknown>): Uint8Array {
  return encoder.encode(DESCRIPTOR_SIGNING_DOMAIN + canonicalJson(unsigned))
}

/**
 * Signs a descriptor with a libp2p private key: sets `identity.peerId` to the key's PeerId and adds
 * a detached {@link PeerDescriptorSignature} in `signature`. Anyone holding the descriptor can
 * check it with {@link verifyPeerDescriptor}, without contacting the peer.
 *
 * @example
 * ```ts
 * const signed = await signPeerDescriptor(createDescriptor(server), nodePrivateKey(node)!)
 * signed.signature // { type: 'libp2p-peer-id', peerId: '12D3Koo…', created: '2025-…', value: '…' }
 * ```
 */
export async function signPeerDescriptor(
  descriptor: ServerDescriptor,
  privateKey: PrivateKey,
  options: { now?: Date | undefined } = {},
): Promise<ServerDescriptor> {
  const peerId = peerIdFromPrivateKey(privateKey).toString()
  const { signature: _previous, ...rest } = descriptor
  const header = { type: PEER_SIGNATURE_TYPE, peerId, created: (options.now ?? new Date()).toISOString() }
  const unsigned = { ...rest, identity: { ...rest.identity, peerId }, signature: header }
  const value = Buffer.from(await privateKey.sign(signingBytes(unsigned))).toString('base64url')
  return { ...unsigned, signature: { ...header, value } }
}

/**
 * Checks a descriptor someone handed over (parsed JSON): it must carry a libp2p peer signature
 * that verifies against the signer's PeerId (whose public key it embeds), name that peer as
 * `identity.peerId` and as every libp2p endpoint's `peerId`, and — when `expectedPeer` is given —
 * be signed by exactly that peer. Then it must be a valid descriptor. The signature covers the
 * JSON as received (unknown fields included); the result is the schema-validated descriptor.
 * Throws an `AgoraError` whose `data.reason` says why (see {@link DescriptorRejection}).
 *
 * @example
 * ```ts
 * const descriptor = await verifyPeerDescriptor(JSON.parse(text), { expectedPeer: provider.id })
 * ```
 */
export async function verifyPeerDescriptor(
  value: unknown,
  options: { expectedPeer?: PeerId | string | undefined } = {},
): Promise<ServerDescriptor> {
  const expected = options.expectedPeer?.toString()
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw descriptorError('malformed', expected, 'the descriptor is not a JSON object')
  }
  const { signature, ...rest } = value as Record<string, unknown>
  const sig = signature as Partial<PeerDescriptorSignature> | undefined
  if (!sig || typeof sig !== 'object' || sig.type !== PEER_SIGNATURE_TYPE) {
    throw descriptorError('unsigned', expected, `the descriptor has no ${PEER_SIGNATURE_TYPE} signature`)
  }
  if (typeof sig.peerId !== 'string' || typeof sig.value !== 'string' || typeof sig.created !== 'string') {
    throw descriptorError('unsigned', expected, 'the descriptor signature lacks peerId, created or value')
  }
  if (expected !== undefined && sig.peerId !== expected) {
    throw descriptorError('wrong_peer', expected, `the descriptor is signed by ${sig.peerId}, not by the peer that sent it`)
  }
  let signer: PeerId
  try {
    signer = peerIdFromString(sig.peerId)
  } catch (err) {
    throw descriptorError('bad_signature', expected, `the signer ${JSON.stringify(sig.peerId)} is not a PeerId`, err)
  }
  if (!signer.publicKey) {
    throw descriptorError(
      'bad_signature',
      expected,
      `the signer ${sig.peerId} does not embed its public key (use Ed25519 or secp256k1)`,
    )
  }
  const { value: signatureValue, ...header } = sig
  let valid = false
  try {
    const unsigned = { ...rest, signature: header }
    valid = await signer.publicKey.verify(signingBytes(unsigned), Buffer.from(signatureValue, 'base64url'))
  } catch (err) {
    throw descriptorError('bad_signature', expected, 'the descriptor signature cannot be checked', err)
  }
  if (!valid) throw descriptorError('bad_signature', expected, `the descriptor signature does not verify against ${sig.peerId}`)

  const parsed = descriptorSchema.safeParse(value)
  if (!parsed.success) {
    const first = parsed.error.issues[0]
    const where = first?.path.length ? ` at ${first.path.join('.')}` : ''
    throw descriptorError('invalid_descriptor', expected, `not a server descriptor${where}: ${first?.message ?? 'invalid'}`)
  }
  const descriptor = parsed.data
  if (descriptor.identity.peerId !== sig.peerId) {
    throw descriptorError(
      'wrong_peer',
      expected,
      `identity.peerId ${String(descriptor.identity.peerId)} is not the signer ${sig.peerId}`,
    )
  }
  for (const endpoint of descriptor.endpoints) {
    if (endpoint.transport === 'libp2p' && endpoint.peerId !== sig.peerId) {
      throw descriptorError(
        'wrong_peer',
        expected,
        `a libp2p endpoint names ${String(endpoint.peerId)}, not the signer ${sig.peerId}`,
      )
    }
  }
  return descriptor
}
