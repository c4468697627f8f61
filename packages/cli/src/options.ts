import type { ConnectOptions } from '@agora/client'
import type { Command } from 'commander'
import { UsageError } from './errors.ts'
import { VERSION } from './paths.ts'

/** Parses `HOST:PORT`, `:PORT` or `PORT` (host defaults to 127.0.0.1); `[::1]:0` for IPv6. */
export function parseHostPort(text: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(text) ?? /^()()(\d+)$/.exec(text)
  const port = Number(m?.[3])
  if (!m || !Number.isInteger(port) || port > 65535) {
    throw new UsageError(`--http expects HOST:PORT, e.g. 127.0.0.1:3000 (port 0 picks a free one), got ${JSON.stringify(text)}`)
  }
  return { host: m[1] || m[2] || '127.0.0.1', port }
}

/** Parses a port number for `--port`. */
export function parsePort(text: string): number {
  const port = Number(text)
  if (!/^\d+$/.test(text) || port > 65535) throw new UsageError(`--port expects a number 0-65535, got ${JSON.stringify(text)}`)
  return port
}

/** Collects repeated `--header 'Name: value'` flags. */
export function collectHeader(text: string, previous: Record<string, string> = {}): Record<string, string> {
  const at = text.indexOf(':')
  const name = text.slice(0, at).trim()
  if (at <= 0 || !/^[!#$%&'*+.^`|~\w-]+$/.test(name)) {
    throw new UsageError(`--header expects 'Name: value', got ${JSON.stringify(text)}`)
  }
  return { ...previous, [name]: text.slice(at + 1).trim() }
}

/** Parses `--args`: a JSON object. */
export function parseArgsJson(text: string): Record<string, unknown> {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (err) {
    throw new UsageError(`--args is not valid JSON (${(err as Error).message}); e.g. --args '{"city":"Oslo"}'`)
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new UsageError(`--args must be a JSON object, e.g. --args '{"city":"Oslo"}'`)
  }
  return value as Record<string, unknown>
}

/** Parses a whole number of seconds (0 allowed). */
export function parseSeconds(text: string): number {
  if (!/^\d+$/.test(text)) throw new UsageError(`expected a whole number of seconds, got ${JSON.stringify(text)}`)
  return Number(text)
}

/** Parses a positive number of milliseconds. */
export function parseTimeout(text: string): number {
  const ms = Number(text)
  if (!/^\d+$/.test(text) || ms <= 0) throw new UsageError(`--timeout expects milliseconds > 0, got ${JSON.stringify(text)}`)
  return ms
}

/** Adds the flags every command that connects to a server shares. */
export function withConnectionOptions(command: Command): Command {
  return command
    .option('--header <header>', "HTTP header to send, 'Name: value' (repeatable)", collectHeader)
    .option('--api-key <key>', 'API key, sent as Authorization: Bearer <key> (or _meta on stdio)')
    .option('--timeout <ms>', 'give up after this many milliseconds', parseTimeout)
    .option(
      '--protocol <mode>',
      'MCP era: legacy (initialize, the default), auto (server/discover, else initialize) or a revision such as 2026-07-28',
      parseProtocol,
    )
    .option('--json', 'print the raw result as JSON on stdout')
}

/** Parses `--protocol`: `legacy`, `auto` or a protocol revision (`YYYY-MM-DD`). */
export function parseProtocol(text: string): string {
  if (text === 'legacy' || text === 'auto' || /^\d{4}-\d{2}-\d{2}$/.test(text)) return text
  throw new UsageError(`--protocol expects legacy, auto or a revision such as 2026-07-28, got ${JSON.stringify(text)}`)
}

export interface ConnectionFlags {
  header?: Record<string, string>
  apiKey?: string
  timeout?: number
  protocol?: string
  json?: boolean
}

/** The `connect()` options the shared flags describe. */
export function connectOptions(flags: ConnectionFlags): ConnectOptions {
  return {
    headers: flags.header,
    apiKey: flags.apiKey,
    timeoutMs: flags.timeout,
    protocol: flags.protocol,
    clientInfo: { name: 'agora-cli', version: VERSION },
  }
}

/** Checks a multiaddr flag value (`/ip4/127.0.0.1/tcp/4001…`); full parsing happens when it is used. */
export function parseMultiaddr(text: string, flag = '--p2p'): string {
  if (!/^\/[a-z0-9]+\/\S+$/i.test(text)) {
    throw new UsageError(`${flag} expects a multiaddr such as /ip4/127.0.0.1/tcp/4001, got ${JSON.stringify(text)}`)
  }
  return text
}

/** Collects repeated `--bootstrap <multiaddr>` flags. */
export function collectBootstrap(text: string, previous: string[] = []): string[] {
  if (!/\/p2p\/\w+$/.test(text)) {
    throw new UsageError(`--bootstrap expects a multiaddr ending in /p2p/<PeerId>, got ${JSON.stringify(text)}`)
  }
  return [...previous, parseMultiaddr(text, '--bootstrap')]
}

/** Collects a repeatable relay URL option (`--nostr ws://127.0.0.1:7777`), checking each is ws:// or wss://. */
export function collectRelay(text: string, previous: string[] = []): string[] {
  let url: URL
  try {
    url = new URL(text)
  } catch {
    throw new UsageError(`expected a relay URL like ws://127.0.0.1:7777, got ${JSON.stringify(text)}`)
  }
  if (url.protocol !== 'ws:' && url.protocol !== 'wss:') {
    throw new UsageError(`a relay URL starts with ws:// or wss://, got ${JSON.stringify(text)}`)
  }
  return [...previous, text]
}
