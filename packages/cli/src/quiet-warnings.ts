let installed = false

/**
 * Drops Node's "SQLite is an experimental feature" warning (the charge ledger uses `node:sqlite`),
 * which would otherwise land in the middle of a banner. Every other warning still prints.
 *
 * @example
 * ```ts
 * quietSqliteWarning()
 * const { openLedger } = await import('@agora/payments')
 * ```
 */
export function quietSqliteWarning(): void {
  if (installed) return
  installed = true
  const emit = process.emitWarning.bind(process)
  process.emitWarning = ((warning: string | Error, ...rest: unknown[]) => {
    const text = typeof warning === 'string' ? warning : warning?.message
    if (typeof text === 'string' && text.startsWith('SQLite is an experimental feature')) return
    return (emit as (...args: unknown[]) => void)(warning, ...rest)
  }) as typeof process.emitWarning
}
