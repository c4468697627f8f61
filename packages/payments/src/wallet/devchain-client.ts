import { AgoraError } from '@agora/core/errors'

/** What a dev chain (`agora dev`, `agora devchain`) says about itself at `GET /`. */
export interface DevchainDescription {
  chainId: number
  network: string
  rpcUrl: string
  token: { address: string; symbol: string; decimals: number; name: string; version: string }
  facilitatorUrl: string
  faucetUrl: string
}

/** What the faucet answers: amounts in whole units. */
export interface FaucetDrip {
  address: string
  amount: string
  transaction: string
  balance: string
}

async function fetchJson(url: string, init: RequestInit, what: string, timeoutMs: number): Promise<unknown> {
  let res: Response
  try {
    res = await fetch(url, { ...init, signal: AbortSignal.timeout(timeoutMs) })
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause?.code
    const why = cause === 'ECONNREFUSED' ? 'connection refused (is agora dev running?)' : (cause ?? (err as Error).message)
    throw new AgoraError('CONNECTION', `cannot reach the ${what} at ${url}: ${why}`, { cause: err })
  }
  const body = await res.text()
  let json: unknown
  try {
    json = JSON.parse(body)
  } catch {
    throw new AgoraError('CONNECTION', `the ${what} at ${url} answered HTTP ${res.status} with something other than JSON`)
  }
  if (!res.ok) {
    const error = (json as { error?: unknown } | null)?.error
    const code = res.status >= 400 && res.status < 500 ? 'INVALID_PARAMS' : 'CONNECTION'
    throw new AgoraError(code, `the ${what} at ${url} refused: ${typeof error === 'string' ? error : `HTTP ${res.status}`}`)
  }
  return json
}

/**
 * Asks a dev chain's base URL what it runs (chain, token, facilitator, faucet). Throws
 * `CONNECTION` when nothing answers, `CONFIG` when what answers is not an Agora dev chain.
 *
 * @example
 * ```ts
 * const { token } = await describeDevchain('http://127.0.0.1:8545')
 * ```
 */
export async function describeDevchain(url: string, options: { timeoutMs?: number } = {}): Promise<DevchainDescription> {
  const base = url.replace(/\/+$/, '')
  const info = (await fetchJson(
    `${base}/`,
    { method: 'GET' },
    'dev chain',
    options.timeoutMs ?? 5_000,
  )) as Partial<DevchainDescription>
  if (typeof info?.chainId !== 'number' || typeof info.token?.address !== 'string') {
    throw new AgoraError('CONFIG', `${base} is not an Agora dev chain (GET / did not describe a chain and token)`)
  }
  return info as DevchainDescription
}

/**
 * Asks a dev chain's faucet for `amount` whole units of its token (and gas) for `address`.
 *
 * @example
 * ```ts
 * const drip = await requestFaucet('http://127.0.0.1:8545/faucet', wallet.address, '10')
 * console.log(drip.balance) // "10"
 * ```
 */
export async function requestFaucet(
  faucetUrl: string,
  address: string,
  amount: string,
  options: { timeoutMs?: number } = {},
): Promise<FaucetDrip> {
  const init = { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ address, amount }) }
  return (await fetchJson(faucetUrl, init, 'faucet', options.timeoutMs ?? 30_000)) as FaucetDrip
}
