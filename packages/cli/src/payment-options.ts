import { UsageError } from './errors.ts'

/** Parses an amount in whole units of a token (`--max-price 0.05`, `agora wallet fund 10`). */
export function parseAmount(text: string, flag = 'amount'): string {
  if (!/^\d+(\.\d+)?$/.test(text.trim())) {
    throw new UsageError(`${flag} expects an amount in whole units such as 0.05, got ${JSON.stringify(text)}`)
  }
  return text.trim()
}

/** Parses an `http(s)://` URL flag (`--rpc`, `--faucet`). */
export function parseHttpUrl(text: string, flag: string): string {
  let url: URL
  try {
    url = new URL(text)
  } catch {
    throw new UsageError(`${flag} expects a URL such as http://127.0.0.1:8545, got ${JSON.stringify(text)}`)
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new UsageError(`${flag} expects an http:// or https:// URL, got ${JSON.stringify(text)}`)
  }
  return text.replace(/\/+$/, '')
}

/** Parses a 0x-prefixed 20-byte address (`--token`). */
export function parseAddress(text: string, flag = '--token'): string {
  if (!/^0x[0-9a-fA-F]{40}$/.test(text)) {
    throw new UsageError(`${flag} expects a 0x-prefixed 20-byte hex address, got ${JSON.stringify(text)}`)
  }
  return text
}
