import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises'
import { dirname } from 'node:path'
import { AgoraError } from '@agora/core/errors'
import { decode, npubEncode, nsecEncode } from 'nostr-tools/nip19'
import { generateSecretKey, getPublicKey } from 'nostr-tools/pure'
import { bytesToHex, hexToBytes } from 'nostr-tools/utils'

const HEX64 = /^[0-9a-f]{64}$/i

/**
 * Parses a Nostr secret key: 32 bytes, 64 hex characters, or a NIP-19 `nsec1…`.
 *
 * @example
 * ```ts
 * const sk = parseSecretKey(process.env.NOSTR_SECRET_KEY!) // hex or nsec1…
 * getPublicKey(sk)
 * ```
 */
export function parseSecretKey(input: string | Uint8Array): Uint8Array {
  if (input instanceof Uint8Array) {
    if (input.length !== 32) throw new AgoraError('CONFIG', `a Nostr secret key is 32 bytes, got ${input.length}`)
    return input
  }
  const text = input.trim()
  if (HEX64.test(text)) return hexToBytes(text.toLowerCase())
  if (text.startsWith('nsec1')) {
    try {
      const decoded = decode(text as `nsec1${string}`)
      if (decoded.type === 'nsec') return decoded.data
    } catch (err) {
      throw new AgoraError('CONFIG', `invalid nsec: ${(err as Error).message}`, { cause: err })
    }
  }
  throw new AgoraError('CONFIG', 'a Nostr secret key must be 64 hex characters or an nsec1… string')
}

/**
 * Parses a Nostr public key: 64 hex characters, `npub1…` or `nprofile1…` (its relays are ignored).
 * Returns lower-case hex, the form used on the wire.
 *
 * @example
 * ```ts
 * parsePublicKey('npub1…') // '3bf0c63f…'
 * ```
 */
export function parsePublicKey(input: string): string {
  const text = input.trim()
  if (HEX64.test(text)) return text.toLowerCase()
  if (text.startsWith('npub1') || text.startsWith('nprofile1')) {
    try {
      const decoded = decode(text)
      if (decoded.type === 'npub') return decoded.data
      if (decoded.type === 'nprofile') return decoded.data.pubkey
    } catch (err) {
      throw new AgoraError('TARGET', `invalid Nostr public key ${JSON.stringify(text)}: ${(err as Error).message}`, {
        cause: err,
      })
    }
  }
  throw new AgoraError('TARGET', `invalid Nostr public key ${JSON.stringify(text)}: expected 64 hex characters or npub1…`)
}

/**
 * The `npub1…` form of a hex public key (for display).
 *
 * @example
 * ```ts
 * toNpub(getPublicKey(sk)) // 'npub1…'
 * ```
 */
export function toNpub(pubkey: string): string {
  return npubEncode(parsePublicKey(pubkey))
}

/** A secret key with its public key (hex). */
export interface NostrKeys {
  readonly secretKey: Uint8Array
  readonly pubkey: string
}

/**
 * Loads the secret key kept in `path` (hex or nsec, one line), or creates one there (mode 0600)
 * when the file does not exist, so a server keeps its pubkey across restarts.
 *
 * @example
 * ```ts
 * const { secretKey, pubkey } = await loadOrCreateSecretKey('.agora/nostr.key')
 * ```
 */
export async function loadOrCreateSecretKey(path: string): Promise<NostrKeys> {
  let text: string | undefined
  try {
    text = await readFile(path, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new AgoraError('CONFIG', `cannot read Nostr key ${path}: ${(err as Error).message}`, { cause: err })
    }
  }
  if (text !== undefined) {
    try {
      return keysOf(parseSecretKey(text))
    } catch (err) {
      throw new AgoraError('CONFIG', `Nostr key file ${path} holds no secret key: ${(err as Error).message}`, { cause: err })
    }
  }
  const secretKey = generateSecretKey()
  await mkdir(dirname(path), { recursive: true })
  await writeFile(path, `${bytesToHex(secretKey)}\n`, { mode: 0o600, flag: 'wx' }).catch(async (err) => {
    // Another process created it first: use theirs.
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return
    throw new AgoraError('CONFIG', `cannot write Nostr key ${path}: ${(err as Error).message}`, { cause: err })
  })
  await chmod(path, 0o600)
  return keysOf(parseSecretKey(await readFile(path, 'utf8')))
}

/**
 * The keys to use from `{ secretKey?, keyFile? }`: the given key, else the key file (created when
 * missing), else a fresh ephemeral key.
 *
 * @example
 * ```ts
 * const { pubkey } = await resolveKeys({ keyFile: '.agora/nostr.key' })
 * ```
 */
export async function resolveKeys(options: {
  secretKey?: string | Uint8Array | undefined
  keyFile?: string | undefined
}): Promise<NostrKeys> {
  if (options.secretKey !== undefined) return keysOf(parseSecretKey(options.secretKey))
  if (options.keyFile !== undefined) return loadOrCreateSecretKey(options.keyFile)
  return keysOf(generateSecretKey())
}

/**
 * Keys from a secret key.
 *
 * @example
 * ```ts
 * keysOf(generateSecretKey()).pubkey // 64 hex characters
 * ```
 */
export function keysOf(secretKey: Uint8Array): NostrKeys {
  return Object.freeze({ secretKey, pubkey: getPublicKey(secretKey) })
}

/**
 * The `nsec1…` form of a secret key (for export; never log it).
 *
 * @example
 * ```ts
 * toNsec(generateSecretKey()) // 'nsec1…'
 * ```
 */
export function toNsec(secretKey: Uint8Array): string {
  return nsecEncode(secretKey)
}

export { generateSecretKey }
