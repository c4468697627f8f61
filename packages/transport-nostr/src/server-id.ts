/**
 * The server id a server gets when none is given: its name, lower case, with every run of other
 * characters than `a-z`, `0-9`, `.`, `_` and `-` made one `-` (so it is safe in `d` and `s` tags).
 * Used by `serveNostr` and `announceNostr` alike, so both name the same server.
 *
 * @example
 * ```ts
 * defaultServerId('Weather Server') // 'weather-server'
 * ```
 */
export function defaultServerId(name: string): string {
  return name
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, '-')
    .replace(/^-+|-+$/g, '')
}
