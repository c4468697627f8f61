/**
 * One string picks the ledger's database, as a server's configuration or `--ledger` flag gives it:
 * a file path or `sqlite:<path>` (SQLite, the default), `:memory:` (a throwaway SQLite ledger), or
 * `postgres://…` / `postgresql://…` (PostgreSQL).
 */
import { fileURLToPath } from 'node:url'
import { AgoraError } from '@agora/core/errors'
import type { ChargeLedger } from '../ledger.ts'
import type { LedgerComponents } from './kysely-ledger.ts'
import { describePostgresUrl, postgresLedger } from './postgres.ts'
import { sqliteLedger } from './sqlite.ts'

/** Where a ledger lives, as {@link parseLedgerUrl} reads it. */
export type LedgerLocation = { kind: 'sqlite'; path: string } | { kind: 'postgres'; connectionString: string }

/** Options for whichever database the URL names; each applies to one kind only. */
export interface OpenLedgerOptions extends LedgerComponents {
  /** SQLite: how long a write waits for another process's lock (default 5000 ms). */
  busyTimeoutMs?: number
  /** SQLite: `full` (default, survives power loss) or `normal` (survives a process crash). */
  synchronous?: 'full' | 'normal'
  /** PostgreSQL: connections in the pool (default 10). */
  poolSize?: number
  /** PostgreSQL: how long to wait for a connection before `CONNECTION` (default 5000 ms). */
  connectTimeoutMs?: number
}

/**
 * Reads a ledger URL. Throws `CONFIG` for an empty, malformed or unsupported one.
 *
 * @example
 * ```ts
 * parseLedgerUrl('sqlite:./data/ledger.db') // { kind: 'sqlite', path: './data/ledger.db' }
 * parseLedgerUrl('postgres://agora@db:5432/agora') // { kind: 'postgres', connectionString: '…' }
 * ```
 */
export function parseLedgerUrl(url: string): LedgerLocation {
  if (typeof url !== 'string' || url.trim() === '') {
    throw new AgoraError('CONFIG', 'the ledger URL is empty: give a file path, sqlite:<path>, :memory: or postgres://…')
  }
  if (url === ':memory:') return { kind: 'sqlite', path: ':memory:' }
  const scheme = /^([a-z][a-z0-9+.-]+):/i.exec(url)?.[1]?.toLowerCase()
  if (scheme === 'postgres' || scheme === 'postgresql') {
    describePostgresUrl(url)
    return { kind: 'postgres', connectionString: url }
  }
  if (scheme === 'sqlite') {
    const rest = url.slice('sqlite:'.length)
    const path = rest.startsWith('//') ? rest.slice(2) : rest
    if (path === '') throw new AgoraError('CONFIG', `the ledger URL "${url}" names no file: expected sqlite:<path>`)
    return { kind: 'sqlite', path }
  }
  if (scheme === 'file') {
    try {
      return { kind: 'sqlite', path: fileURLToPath(url) }
    } catch (err) {
      throw new AgoraError('CONFIG', `malformed ledger file URL "${url}": ${(err as Error).message}`, { cause: err })
    }
  }
  if (scheme !== undefined && url.slice(scheme.length + 1).startsWith('//')) {
    throw new AgoraError('CONFIG', `unsupported ledger URL scheme "${scheme}:": use a file path, sqlite:<path> or postgres://…`)
  }
  return { kind: 'sqlite', path: url }
}

/**
 * Opens the charge ledger a URL names, creating and migrating its database if needed. Throws
 * `CONFIG` for a bad URL or a file that is not a SQLite database, `CONNECTION` when PostgreSQL
 * cannot be reached.
 *
 * @example
 * ```ts
 * const ledger = await openLedger(process.env.AGORA_LEDGER ?? 'sqlite:./agora-ledger.db')
 * try {
 *   const charge = await ledger.create({ requestKey, caller, resource: 'mcp://tool/echo', amount: '1000',
 *     asset, network: 'eip155:31337', rail: 'x402-exact-evm', proofKey })
 *   await ledger.transition(charge.id, ['pending'], 'authorized')
 * } finally {
 *   await ledger.close()
 * }
 * ```
 */
export async function openLedger(url: string, options: OpenLedgerOptions = {}): Promise<ChargeLedger> {
  const location = parseLedgerUrl(url)
  return location.kind === 'postgres'
    ? postgresLedger({ ...options, connectionString: location.connectionString })
    : sqliteLedger({ ...options, path: location.path })
}
