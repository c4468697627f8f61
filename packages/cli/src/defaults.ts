/** Where `agora serve` listens when no `--http` value is given. */
export const DEFAULT_HTTP = '127.0.0.1:3000'

/** Where `agora dev` binds, and its first port (each example takes the next one). */
export const DEV_HOST = '127.0.0.1'
export const DEV_BASE_PORT = 3000

/** The example servers `agora dev` runs, in order. Missing ones are skipped. */
export const DEV_EXAMPLES = [
  {
    path: 'examples/weather/src/server.ts',
    try: { tool: 'current-weather', args: '{"city":"Oslo"}' },
    pay: { tool: 'forecast', args: '{"city":"Oslo"}', maxPrice: '0.05' },
  },
  { path: 'examples/everything/src/server.ts', try: undefined, pay: undefined },
] as const

/** Where `agora devchain` (and the dev chain of `agora dev`) serves JSON-RPC, facilitator and faucet. */
export const DEVCHAIN_PORT = 8545

/** Where the DHT bootstrap node of `agora dev` listens (libp2p's customary port). */
export const DEV_P2P_PORT = 4001

/** The dev chain's base URL (JSON-RPC at `/`, faucet at `/faucet`): where `agora wallet` and `agora call --max-price` look by default. */
export const DEVCHAIN_URL = `http://127.0.0.1:${DEVCHAIN_PORT}`

/** Where `agora relay` (and the relay of `agora dev`) listens: the customary local Nostr relay port. */
export const RELAY_PORT = 7777
