import { chmodSync, closeSync, fstatSync, fsyncSync, openSync, readFileSync, readSync, writeSync } from 'node:fs'
import { AgoraError } from '@agora/core/errors'
import type { FileLockOptions } from './file-lock.ts'
import { withFileLock } from './file-lock.ts'
import { defaultRecordPath } from './home.ts'
import { ensurePrivateDir, PRIVATE_FILE_MODE } from './private-file.ts'

/** How a recorded payment ended, as far as the client could tell. */
export interface PaymentEntryOutcome {
  /** `settled` (money moved), `refused` (the server did not accept it), `unpaid` (no charge), `error` (unknown). */
  status: 'settled' | 'refused' | 'unpaid' | 'error'
  /** ISO 8601. */
  time: string
  /** The settlement transaction, once known. */
  transaction?: string | undefined
  reason?: string | undefined
}

/** One payment the wallet signed. Amounts in whole units (`amount`) and atomic units (`atomic`). */
export interface PaymentEntry {
  /** The authorization's nonce: unique per payment. */
  id: string
  /** When it was signed (ISO 8601). */
  time: string
  /** The server, as a target string. */
  target: string
  tool: string
  /** The resource the server priced, e.g. `mcp://tool/forecast`. */
  resource?: string | undefined
  amount: string
  atomic: string
  /** The token contract. */
  asset: string
  symbol: string
  network: string
  payTo: string
  payer: string
  nonce: string
  /** Unix seconds after which the authorization can no longer move money. */
  validBefore?: string | undefined
  /** Filled in when the paid call came back. */
  outcome?: PaymentEntryOutcome | undefined
}

/** Which payments to add up for {@link PaymentRecord.spent}. */
export interface SpentQuery {
  network: string
  asset: string
  /** Only payments to this server. */
  target?: string | undefined
  /** Only payments signed at or after this time. */
  since?: Date | undefined
}

/**
 * The local record of every payment made: an append-only JSON-lines file (`0600`). Each signed
 * payment is one `payment` line; how it ended is a later `outcome` line with the same `id`.
 */
export interface PaymentRecord {
  readonly path: string
  /** Every payment, oldest first, outcomes folded in. */
  list(): Promise<PaymentEntry[]>
  append(entry: PaymentEntry): Promise<void>
  /** Appends how payment `id` ended. */
  settle(id: string, outcome: PaymentEntryOutcome): Promise<void>
  /**
   * Atomic units signed for matching payments. Every signed payment counts, whatever its outcome:
   * a signed authorization can move money until it expires.
   */
  spent(query: SpentQuery): Promise<bigint>
  /** Runs `fn` holding the record's lock (other processes using the same file wait). */
  locked<T>(fn: () => Promise<T>): Promise<T>
}

type Line = ({ kind: 'payment' } & PaymentEntry) | ({ kind: 'outcome'; id: string } & PaymentEntryOutcome)

function readLines(path: string): Line[] {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return []
    throw new AgoraError('CONFIG', `cannot read the payment record ${path}: ${(err as Error).message}`, { cause: err })
  }
  const lines: Line[] = []
  for (const raw of text.split('\n')) {
    if (!raw.trim()) continue
    try {
      const line = JSON.parse(raw) as Line
      if (line?.kind === 'payment' || line?.kind === 'outcome') lines.push(line)
    } catch {
      // A line cut short by a crash: it was never followed by a payment leaving this machine.
    }
  }
  return lines
}

function appendLine(path: string, line: Line): void {
  ensurePrivateDir(path)
  const fd = openSync(path, 'a+', PRIVATE_FILE_MODE)
  try {
    const size = fstatSync(fd).size
    let prefix = ''
    if (size > 0) {
      const last = Buffer.alloc(1)
      readSync(fd, last, 0, 1, size - 1)
      if (last[0] !== 0x0a) prefix = '\n' // after a line cut short, start a fresh one
    }
    writeSync(fd, `${prefix}${JSON.stringify(line)}\n`)
    fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
  if (process.platform !== 'win32') chmodSync(path, PRIVATE_FILE_MODE)
}

/**
 * Opens (lazily creating) the payment record at `path`; default `$AGORA_HOME/payments.jsonl`.
 *
 * @example
 * ```ts
 * const record = openPaymentRecord()
 * for (const p of await record.list()) console.log(p.time, p.tool, p.amount, p.symbol, p.outcome?.transaction)
 * ```
 */
export function openPaymentRecord(path: string = defaultRecordPath(), lockOptions: FileLockOptions = {}): PaymentRecord {
  async function list(): Promise<PaymentEntry[]> {
    const byId = new Map<string, PaymentEntry>()
    for (const line of readLines(path)) {
      if (line.kind === 'payment') {
        const { kind: _, ...entry } = line
        byId.set(entry.id, entry)
      } else {
        const entry = byId.get(line.id)
        const { kind: _, id: __, ...outcome } = line
        if (entry) entry.outcome = outcome
      }
    }
    return [...byId.values()]
  }
  return {
    path,
    list,
    async append(entry) {
      appendLine(path, { kind: 'payment', ...entry })
    },
    async settle(id, outcome) {
      appendLine(path, { kind: 'outcome', id, ...outcome })
    },
    async spent({ network, asset, target, since }) {
      const sinceMs = since?.getTime()
      let total = 0n
      for (const p of await list()) {
        if (p.network !== network || p.asset.toLowerCase() !== asset.toLowerCase()) continue
        if (target !== undefined && p.target !== target) continue
        if (sinceMs !== undefined && Date.parse(p.time) < sinceMs) continue
        if (typeof p.atomic !== 'string' || !/^\d+$/.test(p.atomic)) {
          throw new AgoraError('CONFIG', `the payment record ${path} has a malformed amount for payment ${p.id}`)
        }
        total += BigInt(p.atomic)
      }
      return total
    },
    locked: (fn) => {
      // The record's directory (the Agora home, private to the user) may not exist yet.
      ensurePrivateDir(path)
      return withFileLock(path, fn, lockOptions)
    },
  }
}
