import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises'
import { dirname } from 'node:path'
import { AgoraError } from '@agora/core/errors'
import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } from '@libp2p/crypto/keys'
import type { PrivateKey } from '@libp2p/interface'

/**
 * Loads the node key from `path`, or creates an Ed25519 key there (mode 0600) when the file does
 * not exist, so a node keeps its PeerId across restarts.
 *
 * @example
 * ```ts
 * const privateKey = await loadOrCreateKey('.agora/node.key')
 * const node = await createAgoraNode({ privateKey })
 * ```
 */
export async function loadOrCreateKey(path: string): Promise<PrivateKey> {
  let bytes: Buffer | undefined
  try {
    bytes = await readFile(path)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new AgoraError('CONFIG', `cannot read node key ${path}: ${(err as Error).message}`, { cause: err })
    }
  }
  if (bytes) {
    try {
      return privateKeyFromProtobuf(bytes)
    } catch (err) {
      throw new AgoraError('CONFIG', `node key ${path} is not a libp2p private key`, { cause: err })
    }
  }
  const key = await generateKeyPair('Ed25519')
  await mkdir(dirname(path), { recursive: true })
  await writeFile(path, privateKeyToProtobuf(key), { mode: 0o600 })
  await chmod(path, 0o600)
  return key
}
