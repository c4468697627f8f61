/**
 * Command-line flags shared by the benchmarks: `--name` or `--name=value`. Written by hand because
 * the benches are single scripts run with `npm run bench:<name> -- --flag`, and a parser library
 * would be more code than this.
 */
const argv = process.argv.slice(2)

/** The flag's value: `''` for a bare `--name`, undefined when absent. */
export function flag(name: string): string | undefined {
  const hit = argv.find((a) => a === `--${name}` || a.startsWith(`--${name}=`))
  if (hit === undefined) return undefined
  const eq = hit.indexOf('=')
  return eq === -1 ? '' : hit.slice(eq + 1)
}

/** A positive number flag, or `fallback` when absent or not a positive number. */
export function num(name: string, fallback: number): number {
  const v = flag(name)
  const n = v === undefined || v === '' ? Number.NaN : Number(v)
  return Number.isFinite(n) && n > 0 ? n : fallback
}

/** True when the bench was asked for `--json` (machine output on stdout, nothing else there). */
export const JSON_OUT = flag('json') !== undefined

/** Progress for people, on stderr; silent under `--json`. */
export function log(line: string): void {
  if (!JSON_OUT) process.stderr.write(`${line}\n`)
}
