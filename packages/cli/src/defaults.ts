/** Where `agora serve` listens when no `--http` value is given. */
export const DEFAULT_HTTP = '127.0.0.1:3000'

/** Where `agora dev` binds, and its first port (each example takes the next one). */
export const DEV_HOST = '127.0.0.1'
export const DEV_BASE_PORT = 3000

/** The example servers `agora dev` runs, in order. Missing ones are skipped. */
export const DEV_EXAMPLES = [
  { path: 'examples/weather/src/server.ts', try: { tool: 'current-weather', args: '{"city":"Oslo"}' } },
  { path: 'examples/everything/src/server.ts', try: undefined },
] as const
