const MAX = 300

/**
 * Shortens a viem-style multi-line error message (call arguments, calldata, docs links) to the
 * line that says what went wrong, e.g. `reverted with reason string 'AgoraUSD: authorization is
 * expired'`. Reasons stay machine-readable in `invalidReason`/`errorReason`; this is for people.
 *
 * @example
 * ```ts
 * shortMessage('An unknown RPC error occurred.\n…\nDetails: VM Exception … reverted …\nVersion: viem@2')
 * ```
 */
export function shortMessage(message: string | undefined): string | undefined {
  if (message === undefined) return undefined
  const lines = message.split('\n').map((l) => l.trim())
  const details = lines.find((l) => l.startsWith('Details: '))?.slice('Details: '.length)
  const text = details ?? lines.find((l) => l.length > 0) ?? ''
  return text.length > MAX ? `${text.slice(0, MAX - 1)}…` : text
}
