/**
 * Canonical JSON (RFC 8785 / JCS for the values JSON.parse produces): object keys sorted by UTF-16
 * code units, no whitespace, numbers and strings as `JSON.stringify` writes them. Two parties that
 * hold the same JSON value produce the same bytes, so a signature over them survives re-encoding.
 *
 * @example
 * ```ts
 * canonicalJson({ b: 1, a: [true, null, 'x'] }) // '{"a":[true,null,"x"],"b":1}'
 * ```
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value === 'boolean' || typeof value === 'string') return JSON.stringify(value)
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new TypeError('canonicalJson: numbers must be finite')
    return JSON.stringify(value)
  }
  if (Array.isArray(value)) return `[${value.map((v) => canonicalJson(v === undefined ? null : v)).join(',')}]`
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`
  }
  throw new TypeError(`canonicalJson: cannot encode a ${typeof value}`)
}
