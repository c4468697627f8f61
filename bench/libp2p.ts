/**
 * `npm run bench:libp2p`: one Agora server definition (an `echo` tool) reached three ways on
 * loopback, in one run, and a raw baseline:
 *
 * - **libp2p** — `serveLibp2p` on a TCP node (Noise + Yamux), SDK `Client` over `connectLibp2p`;
 * - **http** — `serveHttp` (Streamable HTTP), SDK `Client` over `StreamableHTTPClientTransport`;
 * - **raw tcp** — baseline: `node:net`, the same u32-BE framing, an echo server that answers each
 *   JSON-RPC request with a `tools/call`-shaped result (no MCP, no encryption, no multiplexing).
 *
 * Two more rows split the libp2p figure into its layers (informational, no target): **mcp/tcp** —
 * the same SDK `Client` and Agora server (through `serveConnection`, as a libp2p stream is served)
 * over a plain `node:net` socket with the same framing (what MCP itself costs), and **raw libp2p** — the raw echo over a libp2p stream (what Noise + Yamux +
 * TCP cost without MCP).
 *
 * Each mode runs closed-loop callers (one client, `c` calls in flight) at c = 1 and c = 16, in
 * rounds that rotate the order of the modes so drift hits all alike. Reported: p50/p99 round-trip
 * latency and calls/s, plus a 16 MiB `echo` round trip over libp2p. Targets (PASS/FAIL):
 * libp2p p50 ≤ HTTP p50 and ≤ 3 × raw TCP p50 (c = 1); libp2p calls/s ≥ HTTP calls/s at c = 16.
 * When `bench/libp2p-dht.ts` exports `runDhtBench()`, its DHT find-providers latency is printed too.
 *
 * Flags: `--json` (machine output on stdout), `--duration=<ms>` per round and mode (default 400),
 * `--rounds=<n>` (default 3), `--warmup=<ms>` per mode (default 500), `--no-dht`,
 * `--dht-queries=<n>` (lookups per DHT measure, default 30).
 * Client and server share this process: numbers are whole round trips (client + server CPU).
 * Exits 0 whatever the verdict; only a crash exits 1.
 */
import { existsSync } from 'node:fs'
import type { Server, Socket } from 'node:net'
import { createConnection, createServer as createNetServer } from 'node:net'
import { availableParallelism, loadavg } from 'node:os'
import { serveConnection, silentLogger } from '@agora/core'
import { serveHttp } from '@agora/core/http'
import type { AgoraNode } from '@agora/transport-libp2p'
import { connectLibp2p, createAgoraNode, decodeMessage, encodeFrame, FrameDecoder, serveLibp2p } from '@agora/transport-libp2p'
import type { JSONRPCMessage, Transport } from '@modelcontextprotocol/client'
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client'
import { flag, JSON_OUT, log, num } from './args.ts'
import { echoServer } from './echo-server.ts'
import { fmt, table } from './table.ts'

// ---------------------------------------------------------------------------------------------
// Options

const ROUND_MS = num('duration', 400)
const ROUNDS = Math.round(num('rounds', 3))
const WARMUP_MS = num('warmup', 500)
const DHT = flag('no-dht') === undefined
const DHT_QUERIES = Math.round(num('dht-queries', 30))
const CONCURRENCY = [1, 16]
const BIG_BYTES = 16 * 1024 * 1024 - 4096 // echo text: request and response frames both stay ≤ 16 MiB

// ---------------------------------------------------------------------------------------------
// The server, and the three ways to call it

const definition = echoServer()

/** Something that calls `echo(text)` and resolves to the echoed text. */
interface Caller {
  echo(text: string): Promise<string>
  close(): Promise<void>
}

const clientInfo = { name: 'bench-libp2p', version: '1.0.0' }

async function sdkCaller(client: Client, close: () => Promise<void>): Promise<Caller> {
  return {
    async echo(text) {
      const r = await client.callTool({ name: 'echo', arguments: { text } })
      const first = r.content[0]
      if (r.isError || first?.type !== 'text') throw new Error(`echo failed: ${JSON.stringify(r)}`)
      return first.text
    },
    close,
  }
}

async function libp2pCaller(): Promise<Caller & { nodes: AgoraNode[] }> {
  const serverNode = await createAgoraNode({ listen: ['/ip4/127.0.0.1/tcp/0'] })
  const clientNode = await createAgoraNode({ listen: [] })
  // The bench is one peer calling as fast as it can: the per-peer rate limit would refuse it.
  const p2p = await serveLibp2p(definition, serverNode, { logger: silentLogger, requestsPerSecond: Number.POSITIVE_INFINITY })
  const client = new Client(clientInfo)
  await client.connect(await connectLibp2p(clientNode, p2p.addrs[0]!))
  const caller = await sdkCaller(client, async () => {
    await client.close()
    await p2p.close()
    await clientNode.stop()
    await serverNode.stop()
  })
  return { ...caller, nodes: [serverNode, clientNode] }
}

async function httpCaller(): Promise<Caller> {
  const http = await serveHttp(definition, { port: 0, logger: silentLogger })
  const client = new Client(clientInfo)
  await client.connect(new StreamableHTTPClientTransport(new URL(http.mcpUrl)))
  return sdkCaller(client, async () => {
    await client.close()
    await http.close()
  })
}

/** The baseline: JSON-RPC over plain TCP with the same framing, answered by an echo server. */
async function rawTcpCaller(): Promise<Caller> {
  const sockets = new Set<Socket>()
  const server: Server = createNetServer((socket) => {
    sockets.add(socket)
    socket.setNoDelay(true)
    socket.on(
      'data',
      echoResponder((frame) => socket.write(frame)),
    )
    socket.on('error', () => {})
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  const socket = createConnection({ host: '127.0.0.1', port, noDelay: true })
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject))
  const requester = echoRequester((frame) => socket.write(frame))
  socket.on('data', (chunk) => requester.onData(chunk))
  return {
    echo: requester.echo,
    async close() {
      socket.destroy()
      for (const s of sockets) s.destroy()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}

/** Answers framed JSON-RPC echo requests on whatever byte channel `write` feeds. */
function echoResponder(write: (frame: Uint8Array) => void): (chunk: Uint8Array | Iterable<Uint8Array>) => void {
  const decoder = new FrameDecoder()
  return (chunk) => {
    decoder.push(chunk)
    for (let p = decoder.next(); p; p = decoder.next()) {
      const req = decodeMessage(p) as unknown as { id: number; params: { arguments: { text: string } } }
      write(encodeFrame({ jsonrpc: '2.0', id: req.id, result: { content: [{ type: 'text', text: req.params.arguments.text }] } }))
    }
  }
}

/** The caller side of the raw echo: framed requests out, responses matched by id. */
function echoRequester(write: (frame: Uint8Array) => void) {
  const pending = new Map<number, (text: string) => void>()
  const decoder = new FrameDecoder()
  let nextId = 1
  return {
    onData(chunk: Uint8Array | Iterable<Uint8Array>) {
      decoder.push(chunk)
      for (let p = decoder.next(); p; p = decoder.next()) {
        const res = decodeMessage(p) as unknown as { id: number; result: { content: { text: string }[] } }
        pending.get(res.id)?.(res.result.content[0]!.text)
        pending.delete(res.id)
      }
    },
    echo(text: string) {
      const id = nextId++
      return new Promise<string>((resolve) => {
        pending.set(id, resolve)
        write(encodeFrame({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'echo', arguments: { text } } }))
      })
    },
  }
}

/** The raw echo over a libp2p stream (Noise + Yamux + TCP, no MCP). */
async function rawLibp2pCaller(nodes: AgoraNode[]): Promise<Caller> {
  const [serverNode, clientNode] = nodes as [AgoraNode, AgoraNode]
  await serverNode.handle('/bench/echo/1.0.0', (stream) => {
    const respond = echoResponder((frame) => stream.send(frame))
    stream.addEventListener('message', (evt) => respond(evt.data))
  })
  const stream = await clientNode.dialProtocol(serverNode.getMultiaddrs()[0]!, '/bench/echo/1.0.0')
  const requester = echoRequester((frame) => stream.send(frame))
  stream.addEventListener('message', (evt) => requester.onData(evt.data))
  return {
    echo: requester.echo,
    async close() {
      stream.abort(new Error('bench over'))
      await serverNode.unhandle('/bench/echo/1.0.0')
    },
  }
}

/** An SDK transport over a plain TCP socket with the same framing: MCP without libp2p. */
class SocketTransport implements Transport {
  onclose?: (() => void) | undefined
  onerror?: ((error: Error) => void) | undefined
  onmessage?: ((message: JSONRPCMessage) => void) | undefined
  readonly #socket: Socket
  readonly #decoder = new FrameDecoder()

  constructor(socket: Socket) {
    this.#socket = socket
  }

  async start(): Promise<void> {
    this.#socket.on('data', (chunk) => {
      this.#decoder.push(chunk)
      for (let p = this.#decoder.next(); p; p = this.#decoder.next()) this.onmessage?.(decodeMessage(p))
    })
    this.#socket.on('close', () => this.onclose?.())
    this.#socket.on('error', (err) => this.onerror?.(err))
  }

  async send(message: JSONRPCMessage): Promise<void> {
    this.#socket.write(encodeFrame(message))
  }

  async close(): Promise<void> {
    this.#socket.destroy()
  }
}

async function mcpTcpCaller(): Promise<Caller> {
  const sockets = new Set<Socket>()
  const server = createNetServer((socket) => {
    sockets.add(socket)
    socket.setNoDelay(true)
    // Served as serveLibp2p serves a stream (both eras, one pinned SDK server per connection).
    serveConnection(definition, new SocketTransport(socket), { transport: 'tcp', logger: silentLogger })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  const socket = createConnection({ host: '127.0.0.1', port, noDelay: true })
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject))
  const client = new Client(clientInfo)
  await client.connect(new SocketTransport(socket))
  return sdkCaller(client, async () => {
    await client.close()
    for (const s of sockets) s.destroy()
    await new Promise<void>((resolve) => server.close(() => resolve()))
  })
}

// ---------------------------------------------------------------------------------------------
// Measuring

type Mode = 'libp2p' | 'http' | 'raw tcp' | 'mcp/tcp' | 'raw libp2p'

interface Stats {
  mode: Mode
  concurrency: number
  calls: number
  callsPerSec: number
  p50Ms: number
  p99Ms: number
}

/** `concurrency` closed-loop callers for `ms`; every round-trip time is recorded. */
async function drive(caller: Caller, concurrency: number, ms: number, into?: number[]): Promise<{ calls: number; ms: number }> {
  let calls = 0
  const start = performance.now()
  const deadline = start + ms
  const worker = async () => {
    while (performance.now() < deadline) {
      const t = performance.now()
      const back = await caller.echo('hello')
      into?.push(performance.now() - t)
      if (back !== 'hello') throw new Error(`echo returned ${JSON.stringify(back)}`)
      calls++
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker))
  return { calls, ms: performance.now() - start }
}

const quantile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0

async function measure(callers: Record<Mode, Caller>, concurrency: number): Promise<Stats[]> {
  const modes = Object.keys(callers) as Mode[]
  const lat = Object.fromEntries(modes.map((m) => [m, [] as number[]])) as Record<Mode, number[]>
  const total = Object.fromEntries(modes.map((m) => [m, { calls: 0, ms: 0 }])) as Record<Mode, { calls: number; ms: number }>
  for (const m of modes) await drive(callers[m], concurrency, WARMUP_MS)
  for (let r = 0; r < ROUNDS; r++) {
    const order = modes.map((_, i) => modes[(i + r) % modes.length]!)
    for (const m of order) {
      const s = await drive(callers[m], concurrency, ROUND_MS, lat[m])
      total[m].calls += s.calls
      total[m].ms += s.ms
    }
  }
  return modes.map((mode) => {
    const sorted = lat[mode].sort((a, b) => a - b)
    return {
      mode,
      concurrency,
      calls: total[mode].calls,
      callsPerSec: (total[mode].calls * 1000) / total[mode].ms,
      p50Ms: quantile(sorted, 0.5),
      p99Ms: quantile(sorted, 0.99),
    }
  })
}

/** A 16 MiB `echo` round trip over libp2p, a few times; the median in ms. */
async function bigRoundTrip(caller: Caller): Promise<{ bytes: number; ms: number; mbPerSec: number }> {
  const text = 'x'.repeat(BIG_BYTES)
  const times: number[] = []
  for (let i = 0; i < 3; i++) {
    const t = performance.now()
    const back = await caller.echo(text)
    times.push(performance.now() - t)
    if (back.length !== text.length) throw new Error('16 MiB echo came back truncated')
  }
  const ms = times.sort((a, b) => a - b)[1]!
  return { bytes: BIG_BYTES, ms, mbPerSec: (2 * BIG_BYTES) / 1024 / 1024 / (ms / 1000) }
}

type DhtResult = { p50Ms: number; p99Ms: number; nodes: number }

/** `runDhtBench()` from bench/libp2p-dht.ts, when that file exists (fewer lookups than its own default, for time). */
async function dhtBench(): Promise<{ result: DhtResult; ms: number } | undefined> {
  if (!DHT || !existsSync(new URL('./libp2p-dht.ts', import.meta.url))) return undefined
  const mod = (await import('./libp2p-dht.ts')) as { runDhtBench?: (options?: { queries?: number }) => Promise<DhtResult> }
  if (typeof mod.runDhtBench !== 'function') return undefined
  const t = performance.now()
  const result = await mod.runDhtBench({ queries: DHT_QUERIES })
  return { result, ms: performance.now() - t }
}

// ---------------------------------------------------------------------------------------------
// Report

async function main(): Promise<void> {
  const started = performance.now()
  log(
    `bench:libp2p: echo tool over libp2p (TCP, Noise, Yamux) vs Streamable HTTP vs raw TCP JSON-RPC; ` +
      `${ROUNDS} rounds × ${ROUND_MS} ms per mode, ${WARMUP_MS} ms warm-up; node ${process.version}; ` +
      `${availableParallelism()} CPUs; loadavg ${loadavg()
        .map((x) => x.toFixed(2))
        .join(' ')}`,
  )
  const libp2p = await libp2pCaller()
  const callers: Record<Mode, Caller> = {
    libp2p,
    http: await httpCaller(),
    'raw tcp': await rawTcpCaller(),
    'mcp/tcp': await mcpTcpCaller(),
    'raw libp2p': await rawLibp2pCaller(libp2p.nodes),
  }
  const stats: Stats[] = []
  let big: Awaited<ReturnType<typeof bigRoundTrip>>
  try {
    for (const c of CONCURRENCY) {
      log(`  running c=${c} …`)
      stats.push(...(await measure(callers, c)))
    }
    log('  running 16 MiB round trip over libp2p …')
    big = await bigRoundTrip(libp2p)
  } finally {
    // The libp2p caller stops the nodes the raw libp2p echo uses: close it last.
    for (const mode of ['raw libp2p', 'mcp/tcp', 'raw tcp', 'http', 'libp2p'] as const) await callers[mode].close()
  }
  const transportMs = performance.now() - started
  log('  running DHT find-providers …')
  const dhtRun = await dhtBench()
  const dht = dhtRun?.result

  const get = (mode: Mode, c: number) => stats.find((s) => s.mode === mode && s.concurrency === c)!
  const [p2p1, http1, raw1] = [get('libp2p', 1), get('http', 1), get('raw tcp', 1)]
  const [p2p16, http16] = [get('libp2p', 16), get('http', 16)]
  const checks = [
    { target: 'libp2p p50 ≤ HTTP p50 (c=1)', value: p2p1.p50Ms / http1.p50Ms, limit: 1, pass: p2p1.p50Ms <= http1.p50Ms },
    {
      target: 'libp2p p50 ≤ 3 × raw TCP p50 (c=1)',
      value: p2p1.p50Ms / raw1.p50Ms,
      limit: 3,
      pass: p2p1.p50Ms <= 3 * raw1.p50Ms,
    },
    {
      target: 'libp2p calls/s ≥ HTTP calls/s (c=16)',
      value: p2p16.callsPerSec / http16.callsPerSec,
      limit: 1,
      pass: p2p16.callsPerSec >= http16.callsPerSec,
    },
    ...(dht ? [{ target: 'DHT find-providers p50 ≤ 100 ms', value: dht.p50Ms, limit: 100, pass: dht.p50Ms <= 100 }] : []),
  ]
  const totalMs = performance.now() - started

  if (JSON_OUT) {
    const out = {
      node: process.version,
      roundMs: ROUND_MS,
      rounds: ROUNDS,
      warmupMs: WARMUP_MS,
      stats,
      big,
      dht,
      checks,
      totalMs,
    }
    process.stdout.write(`${JSON.stringify({ pass: checks.every((c) => c.pass), ...out }, null, 2)}\n`)
    return
  }
  const order: Mode[] = ['raw tcp', 'raw libp2p', 'mcp/tcp', 'libp2p', 'http']
  const sorted = [...stats].sort((a, b) => a.concurrency - b.concurrency || order.indexOf(a.mode) - order.indexOf(b.mode))
  const rows = sorted.map((s) => {
    const raw = get('raw tcp', s.concurrency)
    const http = get('http', s.concurrency)
    return [
      s.mode,
      String(s.concurrency),
      fmt(s.p50Ms * 1000),
      fmt(s.p99Ms * 1000),
      fmt(s.callsPerSec),
      `${(s.p50Ms / raw.p50Ms).toFixed(2)}×`,
      `${(s.p50Ms / http.p50Ms).toFixed(2)}×`,
      `${(s.callsPerSec / http.callsPerSec).toFixed(2)}×`,
    ]
  })
  const head = ['mode', 'c', 'p50 µs', 'p99 µs', 'calls/s', 'p50 ÷ raw', 'p50 ÷ http', 'calls/s ÷ http']
  process.stdout.write(`\n${table(head, rows)}\n\n`)
  process.stdout.write(
    `16 MiB echo round trip over libp2p: ${fmt(big.ms)} ms (median of 3; ${fmt(big.mbPerSec, 1)} MiB/s both ways)\n`,
  )
  if (dht)
    process.stdout.write(
      `DHT find-providers on ${dht.nodes} nodes: p50 ${fmt(dht.p50Ms, 1)} ms, p99 ${fmt(dht.p99Ms, 1)} ms (target ≤ 100 ms)\n`,
    )
  process.stdout.write('\n')
  for (const c of checks) {
    const shown = c.target.startsWith('DHT') ? `${fmt(c.value, 1)} ms` : `${c.value.toFixed(2)}× (limit ${c.limit}×)`
    process.stdout.write(`${c.pass ? 'PASS' : 'FAIL'}  ${c.target}: ${shown}\n`)
  }
  const mcp1 = get('mcp/tcp', 1)
  process.stdout.write(
    `info  MCP over a plain socket is ${(mcp1.p50Ms / raw1.p50Ms).toFixed(2)}× raw TCP; libp2p is ` +
      `${(p2p1.p50Ms / mcp1.p50Ms).toFixed(2)}× that (what Noise, Yamux and the stream add to MCP)\n`,
  )
  const took = `${fmt(totalMs / 1000, 1)} s: transports ${fmt(transportMs / 1000, 1)} s${dhtRun ? `, DHT ${fmt(dhtRun.ms / 1000, 1)} s` : ''}`
  process.stdout.write(`\n${checks.every((c) => c.pass) ? 'PASS' : 'FAIL'} (${took})\n`)
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`bench:libp2p failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`)
    process.exit(1)
  },
)
