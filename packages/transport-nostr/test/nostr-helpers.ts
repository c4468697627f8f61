import { orderedTransport } from '@agora/client'
import type { AgoraServer } from '@agora/core'
import { silentLogger } from '@agora/core'
import { Client } from '@modelcontextprotocol/client'
import { AbstractRelay } from 'nostr-tools/abstract-relay'
import type { Filter } from 'nostr-tools/filter'
import type { Event } from 'nostr-tools/pure'
import { verifyEvent } from 'nostr-tools/pure'
import { afterAll, afterEach, beforeAll } from 'vitest'
import { WebSocket } from 'ws'
import type { NostrClientTransport, NostrConnectOptions, NostrServeOptions, NostrServerHandle } from '../src/index.ts'
import { connectNostr, serveNostr } from '../src/index.ts'
import type { RelayHandle } from '../src/relay/index.ts'
import { startRelay } from '../src/relay/index.ts'

/** A raw view of a relay: every event matching `filter`, as the relay sends it. */
export class WireSpy {
  readonly events: Event[] = []
  readonly #relay: AbstractRelay
  #waiters: { match: (e: Event) => boolean; resolve: (e: Event) => void }[] = []

  private constructor(relay: AbstractRelay) {
    this.#relay = relay
  }

  static async open(url: string, filter: Filter | Filter[]): Promise<WireSpy> {
    const relay = new AbstractRelay(url, { verifyEvent: () => true, websocketImplementation: WebSocket as never })
    await relay.connect()
    const spy = new WireSpy(relay)
    await new Promise<void>((resolve) => {
      relay.subscribe(Array.isArray(filter) ? filter : [filter], {
        onevent: (e) => spy.#push(e),
        oneose: resolve,
      })
    })
    return spy
  }

  #push(event: Event): void {
    this.events.push(event)
    this.#waiters = this.#waiters.filter((w) => {
      if (!w.match(event)) return true
      w.resolve(event)
      return false
    })
  }

  /** The first event (already seen or to come) matching `match`. */
  waitFor(match: (e: Event) => boolean, timeoutMs = 3000): Promise<Event> {
    const found = this.events.find(match)
    if (found) return Promise.resolve(found)
    return new Promise<Event>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('WireSpy: no matching event in time')), timeoutMs)
      this.#waiters.push({
        match,
        resolve: (e) => {
          clearTimeout(timer)
          resolve(e)
        },
      })
    })
  }

  close(): void {
    this.#relay.close()
  }
}

/**
 * Sends `event` to the relay as is (no checks on our side) and resolves with the relay's `OK`
 * verdict.
 */
export async function rawPublish(url: string, event: unknown): Promise<{ ok: boolean; message: string }> {
  const ws = new WebSocket(url)
  await new Promise((resolve, reject) => {
    ws.once('open', resolve)
    ws.once('error', reject)
  })
  try {
    return await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('rawPublish: no OK from the relay')), 3000)
      ws.on('message', (data) => {
        const msg = JSON.parse(data.toString()) as unknown[]
        if (msg[0] === 'OK') {
          clearTimeout(timer)
          resolve({ ok: msg[2] as boolean, message: String(msg[3] ?? '') })
        }
      })
      ws.send(JSON.stringify(['EVENT', event]))
    })
  } finally {
    ws.close()
  }
}

/** Starts relays, servers and clients for a test and closes all of them afterwards. */
export class NostrHarness {
  readonly #closers: (() => unknown)[] = []

  async relay(): Promise<RelayHandle> {
    const relay = await startRelay({ port: 0, logger: silentLogger })
    this.#closers.push(() => relay.close())
    return relay
  }

  async serve(server: AgoraServer, options: NostrServeOptions): Promise<NostrServerHandle> {
    const handle = await serveNostr(server, { logger: silentLogger, ...options })
    this.#closers.push(() => handle.close())
    return handle
  }

  async transport(options: NostrConnectOptions): Promise<NostrClientTransport> {
    const transport = await connectNostr({ logger: silentLogger, ...options })
    this.#closers.push(() => transport.close())
    return transport
  }

  /** An SDK client connected over Nostr. */
  async client(
    options: NostrConnectOptions,
    mode: 'legacy' | { pin: '2026-07-28' } = 'legacy',
  ): Promise<{ client: Client; transport: NostrClientTransport }> {
    const transport = await this.transport(options)
    const client = new Client({ name: 'nostr-test', version: '1.0.0' }, { versionNegotiation: { mode } })
    await client.connect(orderedTransport(transport))
    this.#closers.push(() => client.close())
    return { client, transport }
  }

  async spy(url: string, filter: Filter | Filter[]): Promise<WireSpy> {
    const spy = await WireSpy.open(url, filter)
    this.#closers.push(() => spy.close())
    return spy
  }

  /** Registers something else to close. */
  add(close: () => unknown): void {
    this.#closers.push(close)
  }

  async closeAll(): Promise<void> {
    // Newest first: clients before servers before relays.
    for (const close of this.#closers.splice(0).reverse()) await Promise.resolve(close()).catch(() => {})
  }
}

/**
 * One relay for the whole test file (started before the first test, closed after the last) and a
 * harness `h` whose servers, clients and spies are closed after each test. Call it at the top
 * level of a test file.
 */
export function nostrTestbed(): { readonly relay: RelayHandle; readonly h: NostrHarness } {
  const shared = new NostrHarness()
  const h = new NostrHarness()
  let relay: RelayHandle | undefined
  beforeAll(async () => {
    relay = await shared.relay()
  })
  afterEach(() => h.closeAll())
  afterAll(() => shared.closeAll())
  return {
    h,
    get relay() {
      if (!relay) throw new Error('nostrTestbed: the relay starts in beforeAll')
      return relay
    },
  }
}

/** Reads stored events straight from a relay (nostr-tools' relay client, not the code under test). */
export async function fetchEvents(url: string, filter: Filter): Promise<Event[]> {
  const relay = await AbstractRelay.connect(url, { verifyEvent, websocketImplementation: WebSocket as never })
  try {
    return await new Promise<Event[]>((resolve, reject) => {
      const events: Event[] = []
      const sub = relay.subscribe([filter], {
        onevent: (e) => events.push(e),
        oneose: () => {
          resolve(events)
          sub.close()
        },
        onclose: (reason) => reject(new Error(reason)),
        eoseTimeout: 2000,
      })
    })
  } finally {
    relay.close()
  }
}

/** Polls until `check` passes (it throws while not yet), at most `timeoutMs`. */
export async function eventually<T>(check: () => Promise<T>, timeoutMs = 3000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    try {
      return await check()
    } catch (err) {
      if (Date.now() > deadline) throw err
      await new Promise((r) => setTimeout(r, 40))
    }
  }
}

/** Filters for every event of `kinds` to or from `pubkey` (stored ones of the last minute too). */
export function around(pubkey: string, kinds: number[]): Filter[] {
  const since = Math.floor(Date.now() / 1000) - 60
  return [
    { kinds, authors: [pubkey], since },
    { kinds, '#p': [pubkey], since },
  ]
}

/** The JSON-RPC message in an event's content. */
export const contentOf = (e: Event): Record<string, unknown> => JSON.parse(e.content) as Record<string, unknown>

/** True when the event's signature checks out. */
export const signed = (e: Event): boolean => verifyEvent({ ...e })

/** A URL on loopback where nothing listens. */
export async function deadRelayUrl(): Promise<string> {
  const { createServer } = await import('node:net')
  const srv = createServer()
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r))
  const port = (srv.address() as { port: number }).port
  await new Promise<void>((r) => srv.close(() => r()))
  return `ws://127.0.0.1:${port}`
}

/**
 * A relay that checks nothing (no signatures, no storage): what a malicious or broken relay may
 * deliver. `inject` pushes any object to every subscription, whatever its filters.
 */
export interface LooseRelay {
  readonly url: string
  /** Events received with `EVENT`, as sent. */
  readonly received: Event[]
  inject(event: unknown): void
  close(): Promise<void>
}

export async function startLooseRelay(): Promise<LooseRelay> {
  const { WebSocketServer } = await import('ws')
  const { matchFilters } = await import('nostr-tools/filter')
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 })
  await new Promise<void>((r) => wss.once('listening', () => r()))
  const subs = new Map<WebSocket, Map<string, Filter[]>>()
  const received: Event[] = []
  const broadcast = (event: Event, ignoreFilters = false) => {
    for (const [ws, map] of subs) {
      for (const [id, filters] of map) {
        if (ignoreFilters || matchFilters(filters, event)) ws.send(JSON.stringify(['EVENT', id, event]))
      }
    }
  }
  wss.on('connection', (ws) => {
    subs.set(ws, new Map())
    ws.on('close', () => subs.delete(ws))
    ws.on('message', (data) => {
      const msg = JSON.parse(data.toString()) as [string, ...unknown[]]
      if (msg[0] === 'REQ') {
        subs.get(ws)?.set(msg[1] as string, msg.slice(2) as Filter[])
        ws.send(JSON.stringify(['EOSE', msg[1]]))
      } else if (msg[0] === 'CLOSE') {
        subs.get(ws)?.delete(msg[1] as string)
      } else if (msg[0] === 'EVENT') {
        const event = msg[1] as Event
        received.push(event)
        ws.send(JSON.stringify(['OK', event.id, true, '']))
        broadcast(event)
      }
    })
  })
  const port = (wss.address() as { port: number }).port
  return {
    url: `ws://127.0.0.1:${port}`,
    received,
    inject: (event) => broadcast(event as Event, true),
    close: async () => {
      for (const ws of wss.clients) ws.terminate()
      await new Promise<void>((r) => wss.close(() => r()))
    },
  }
}
