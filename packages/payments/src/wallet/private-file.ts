import { chmodSync, mkdirSync, statSync } from 'node:fs'
import { dirname } from 'node:path'
import { AgoraError } from '@agora/core/errors'

/** Owner-only permissions: files `0600`, directories `0700`. */
export const PRIVATE_FILE_MODE = 0o600
export const PRIVATE_DIR_MODE = 0o700

/**
 * Creates the directory a private file goes in (`0700` for any directory it creates).
 *
 * @example
 * ```ts
 * ensurePrivateDir('/home/ada/.agora/wallet.json') // creates /home/ada/.agora with mode 0700
 * ```
 */
export function ensurePrivateDir(file: string): void {
  const dir = dirname(file)
  let existed = true
  try {
    statSync(dir)
  } catch {
    existed = false
  }
  mkdirSync(dir, { recursive: true, mode: PRIVATE_DIR_MODE })
  if (!existed && process.platform !== 'win32') chmodSync(dir, PRIVATE_DIR_MODE)
}

/**
 * Throws `CONFIG` when `file` may be read by anyone but its owner (any group or other bit set),
 * saying how to fix it. POSIX only; on Windows it checks nothing.
 *
 * @example
 * ```ts
 * assertPrivate('/home/ada/.agora/wallet.json', 'wallet')
 * ```
 */
export function assertPrivate(file: string, what: string): void {
  if (process.platform === 'win32') return
  const mode = statSync(file).mode & 0o777
  if ((mode & 0o077) !== 0) {
    throw new AgoraError(
      'CONFIG',
      `the ${what} file ${file} can be read or changed by other users (mode ${mode.toString(8).padStart(4, '0')}); make it private with: chmod 600 ${file}`,
      { data: { path: file, mode } },
    )
  }
}
