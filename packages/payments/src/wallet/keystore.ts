import { chmodSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { AgoraError } from '@agora/core/errors'
import type { Address, Hex, PrivateKeyAccount } from 'viem'
import { getAddress, isAddress, isHex } from 'viem'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { defaultWalletPath } from './home.ts'
import { assertPrivate, ensurePrivateDir, PRIVATE_FILE_MODE } from './private-file.ts'

/** The keystore file's JSON: the key in the clear, protected by file permissions (0600). */
export interface KeystoreFile {
  address: Address
  privateKey: Hex
  /** ISO 8601. */
  createdAt: string
}

/** A loaded EVM wallet: its address and a signer. The private key stays inside `account`. */
export interface Wallet {
  readonly path: string
  readonly address: Address
  readonly createdAt: string
  /** viem's local account: signs typed data (EIP-3009 authorizations) and transactions. */
  readonly account: PrivateKeyAccount
}

export interface CreateWalletOptions {
  /** Replace an existing wallet file (its key is lost). Default false: an existing file is an error. */
  force?: boolean | undefined
  /** Use this key instead of a fresh random one (e.g. a dev key in tests). */
  privateKey?: Hex | undefined
}

/**
 * Creates a wallet with a fresh random key and writes its keystore: mode `0600`, in a directory
 * created `0700`. Refuses (`CONFIG`) to replace an existing file unless `force` is set.
 *
 * @example
 * ```ts
 * const wallet = await createWallet(defaultWalletPath())
 * console.log(wallet.address)
 * ```
 */
export async function createWallet(path: string = defaultWalletPath(), options: CreateWalletOptions = {}): Promise<Wallet> {
  const privateKey = options.privateKey ?? generatePrivateKey()
  const account = privateKeyToAccount(privateKey)
  const file: KeystoreFile = { address: account.address, privateKey, createdAt: new Date().toISOString() }
  const text = `${JSON.stringify(file, null, 2)}\n`
  ensurePrivateDir(path)
  if (options.force) {
    // Written aside, then renamed over: a crash never leaves a half-written key.
    const aside = `${path}.${process.pid}.tmp`
    try {
      writeFileSync(aside, text, { mode: PRIVATE_FILE_MODE, flag: 'wx' })
      chmodSync(aside, PRIVATE_FILE_MODE)
      renameSync(aside, path)
    } catch (err) {
      rmSync(aside, { force: true })
      throw new AgoraError('CONFIG', `cannot write the wallet file ${path}: ${(err as Error).message}`, { cause: err })
    }
  } else {
    try {
      writeFileSync(path, text, { mode: PRIVATE_FILE_MODE, flag: 'wx' })
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') {
        throw new AgoraError(
          'CONFIG',
          `a wallet already exists at ${path}; replacing it loses its key and funds (force to do it anyway)`,
          {
            data: { path, exists: true },
          },
        )
      }
      throw new AgoraError('CONFIG', `cannot write the wallet file ${path}: ${(err as Error).message}`, { cause: err })
    }
    chmodSync(path, PRIVATE_FILE_MODE)
  }
  return { path, address: account.address, createdAt: file.createdAt, account }
}

/**
 * Loads a wallet from its keystore. Throws `CONFIG` when there is none, when it is malformed,
 * or when other users could read it (it says how to fix that: `chmod 600 <path>`).
 *
 * @example
 * ```ts
 * const wallet = await loadWallet() // $AGORA_HOME/wallet.json or ~/.agora/wallet.json
 * ```
 */
export async function loadWallet(path: string = defaultWalletPath()): Promise<Wallet> {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new AgoraError('CONFIG', `no wallet at ${path}; create one first (agora wallet create)`, { data: { path } })
    }
    throw new AgoraError('CONFIG', `cannot read the wallet file ${path}: ${(err as Error).message}`, { cause: err })
  }
  assertPrivate(path, 'wallet')
  let file: Partial<KeystoreFile>
  try {
    file = JSON.parse(text) as Partial<KeystoreFile>
  } catch {
    throw new AgoraError('CONFIG', `the wallet file ${path} is not JSON`)
  }
  const key = file?.privateKey
  if (typeof key !== 'string' || !isHex(key) || key.length !== 66) {
    throw new AgoraError('CONFIG', `the wallet file ${path} has no valid privateKey (0x followed by 64 hex digits)`)
  }
  const account = privateKeyToAccount(key)
  if (
    typeof file.address === 'string' &&
    (!isAddress(file.address, { strict: false }) || getAddress(file.address) !== account.address)
  ) {
    throw new AgoraError('CONFIG', `the wallet file ${path} is inconsistent: its address is not its key's (${account.address})`)
  }
  return { path, address: account.address, createdAt: String(file.createdAt ?? ''), account }
}
