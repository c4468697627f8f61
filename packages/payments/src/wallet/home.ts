import { homedir } from 'node:os'
import { join } from 'node:path'

/**
 * Where Agora keeps the paying client's files: `$AGORA_HOME`, else `~/.agora`.
 *
 * @example
 * ```ts
 * agoraHome({ AGORA_HOME: '/tmp/agora' }) // '/tmp/agora'
 * ```
 */
export function agoraHome(env: Readonly<Record<string, string | undefined>> = process.env): string {
  return env.AGORA_HOME?.trim() || join(homedir(), '.agora')
}

/**
 * The wallet keystore's default path: `<agora home>/wallet.json`.
 *
 * @example
 * ```ts
 * const wallet = await loadWallet(defaultWalletPath())
 * ```
 */
export function defaultWalletPath(env?: Readonly<Record<string, string | undefined>>): string {
  return join(agoraHome(env), 'wallet.json')
}

/**
 * The payment record's default path: `<agora home>/payments.jsonl`.
 *
 * @example
 * ```ts
 * const record = openPaymentRecord(defaultRecordPath())
 * ```
 */
export function defaultRecordPath(env?: Readonly<Record<string, string | undefined>>): string {
  return join(agoraHome(env), 'payments.jsonl')
}
