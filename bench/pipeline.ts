/**
 * `npm run bench:pipeline`: the same `echo` tool served by a bare SDK v2 `McpServer` and by Agora
 * with every gate on (API-key authentication, access rule, rate limit, validation, price, receipt,
 * pay), in memory and over HTTP, measured in one run. Prints calls/s for both, the throughput ratio
 * (Agora / bare) and the per-call overhead, and PASS/FAIL against the target ratio (0.90).
 *
 * Client and server share the process (as they must for the in-memory transport), so the numbers
 * are whole round trips: client + transport + server. Bare and Agora run in alternating rounds
 * (A B B A …) so drift on a busy machine hits both sides alike.
 *
 * Bare: `new McpServer()` + `registerTool`; over HTTP `createMcpHandler(() => new McpServer(…))` behind
 * `toNodeHandler` (stateless for 2025-era clients). Agora: `createSdkServer` in memory, `serveHttp`
 * over HTTP (with its default handling of 2025-era clients; the table notes when that used a session).
 *
 * Flags: `--json` (machine-readable output on stdout), `--duration=<ms>` per round and side
 * (default 400), `--rounds=<n>` (default 10), `--warmup=<ms>` per side (default 600),
 * `--only=<substring>` (run matching scenarios only), `--target=<ratio>` (default 0.90),
 * `--side=bare|agora` (drive one side only, for profiling:
 * `node --cpu-prof bench/pipeline.ts --only='memory c=1' --side=agora --duration=5000 --rounds=1`).
 * Exits 0 whatever the verdict (PASS/FAIL is in the output); only a crash exits 1.
 */
import { once } from 'node:events'
import { createServer as createNodeServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { availableParallelism, loadavg } from 'node:os'
import type { AgoraServer, PaymentGateway } from '@agora/core'
import { apiKeys, createSdkServer, createServer, requireScopes, silentLogger } from '@agora/core'
import { serveHttp } from '@agora/core/http'
import { Client, InMemoryTransport, StreamableHTTPClientTransport } from '@modelcontextprotocol/client'
import { toNodeHandler } from '@modelcontextprotocol/node'
import { createMcpHandler, McpServer } from '@modelcontextprotocol/server'
import { z } from 'zod'
import { flag, JSON_OUT, log, num } from './args.ts'
import { fmt, table } from './table.ts'

// ---------------------------------------------------------------------------------------------
// Options

const ROUND_MS = num('duration', 400)
const ROUNDS = Math.max(1, Math.round(num('rounds', 10)))
const WARMUP_MS = num('warmup', 600)
const TARGET = num('target', 0.9)
const ONLY = flag('only')
const SIDE = flag('side')

// ---------------------------------------------------------------------------------------------
// The tool, served both ways

const API_KEY = 'sk-bench-0123456789'
const INFO = { name: 'bench', version: '1.0.0' }
const echoInput = z.object({ text: z.string() })

function bareServer(): McpServer {
  const server = new McpServer(INFO)
  server.registerTool('echo', { description: 'Echoes text', inputSchema: echoInput }, ({ text }) => ({
    content: [{ type: 'text', text }],
  }))
  return server
}

/** A payment rail that is configured but never reached: the echo tool is free. */
const unusedRail: PaymentGateway = {
  authorize: () => Promise.reject(new Error('bench: the free echo tool must not reach the payment rail')),
  settle: () => Promise.reject(new Error('bench: unexpected settle')),
  release: () => Promise.resolve(),
}

/** Every gate on: API-key auth (required), an access rule, a rate limit that never trips, payments. */
function agoraServer(): AgoraServer {
  return createServer(INFO)
    .auth({ authenticators: [apiKeys({ keys: { [API_KEY]: { name: 'bench', scopes: ['echo'] } } })], required: true })
    .rateLimit({ capacity: 1e9, refillPerSecond: 1e9 })
    .payments(unusedRail)
    .tool('echo', { description: 'Echoes text', input: echoInput, access: requireScopes('echo') }, ({ text }) => text)
}

// ---------------------------------------------------------------------------------------------
// Endpoints: a connected client plus how to tear it down

interface Endpoint {
  client: Client
  /** True when the server handed out an `Mcp-Session-Id` (2025-era sessionful HTTP). */
  session: boolean
  close(): Promise<void>
}

const clientInfo = { name: 'bench-client', version: '1.0.0' }
// Sent to both sides so the request bytes are identical; only Agora reads it.
const CALL = { name: 'echo', arguments: { text: 'hello' }, _meta: { 'agora/api-key': API_KEY } }

async function memoryEndpoint(side: 'bare' | 'agora'): Promise<Endpoint> {
  const [serverEnd, clientEnd] = InMemoryTransport.createLinkedPair()
  const server = side === 'bare' ? bareServer() : createSdkServer(agoraServer(), { transport: 'memory', logger: silentLogger })
  await server.connect(serverEnd)
  const client = new Client(clientInfo)
  await client.connect(clientEnd)
  return {
    client,
    session: false,
    close: async () => {
      await client.close()
      await server.close()
    },
  }
}

type Era = 'legacy' | '2026-07-28'

interface HttpServerHandle {
  url: URL
  close(): Promise<void>
}

async function bareHttp(): Promise<HttpServerHandle> {
  const handler = createMcpHandler(() => bareServer())
  const node = createNodeServer(toNodeHandler(handler))
  node.listen(0, '127.0.0.1')
  await once(node, 'listening')
  const { port } = node.address() as AddressInfo
  return {
    url: new URL(`http://127.0.0.1:${port}/mcp`),
    close: async () => {
      await handler.close()
      node.closeAllConnections()
      await new Promise<void>((resolve) => node.close(() => resolve()))
    },
  }
}

async function agoraHttp(): Promise<HttpServerHandle> {
  const handle = await serveHttp(agoraServer(), { port: 0, logger: silentLogger })
  return { url: new URL(handle.mcpUrl), close: () => handle.close() }
}

async function httpClient(url: URL, era: Era): Promise<{ client: Client; transport: StreamableHTTPClientTransport }> {
  const client = new Client(clientInfo, era === 'legacy' ? undefined : { versionNegotiation: { mode: { pin: era } } })
  const transport = new StreamableHTTPClientTransport(url, {
    requestInit: { headers: { Authorization: `Bearer ${API_KEY}` } },
  })
  await client.connect(transport)
  return { client, transport }
}

// ---------------------------------------------------------------------------------------------
// Measuring

interface Sample {
  calls: number
  elapsedMs: number
  /** Process CPU time (user + system) spent, in ms: unlike wall time, barely moved by other load. */
  cpuMs: number
}

/** Runs `concurrency` callers in closed loops for `ms`. */
async function drive(client: Client, concurrency: number, ms: number): Promise<Sample> {
  let calls = 0
  const cpu0 = process.cpuUsage()
  const start = performance.now()
  const deadline = start + ms
  const worker = async () => {
    while (performance.now() < deadline) {
      const result = await client.callTool(CALL)
      if (result.isError) throw new Error(`echo failed: ${JSON.stringify(result.content)}`)
      calls++
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker))
  const elapsedMs = performance.now() - start
  const cpu = process.cpuUsage(cpu0)
  return { calls, elapsedMs, cpuMs: (cpu.user + cpu.system) / 1000 }
}

/** One call, checked: the gates must let the keyed caller through and the echo must come back. */
async function check(client: Client, side: string): Promise<void> {
  const result = await client.callTool(CALL)
  const first = result.content[0]
  if (result.isError || first?.type !== 'text' || first.text !== 'hello') {
    throw new Error(`${side}: unexpected echo result ${JSON.stringify(result)}`)
  }
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b)
  const mid = s.length >> 1
  return s.length % 2 ? (s[mid] ?? 0) : ((s[mid - 1] ?? 0) + (s[mid] ?? 0)) / 2
}

interface Row {
  scenario: string
  transport: 'memory' | 'http'
  era: Era
  concurrency: number
  /** Median calls/s over the rounds. */
  bareCallsPerSec: number
  agoraCallsPerSec: number
  /** Median over rounds of (Agora calls/s ÷ bare calls/s), each round measuring both back to back. */
  ratio: number
  /** Lowest and highest round ratio, to show the noise. */
  ratioRange: [number, number]
  /** Agora's extra wall-clock time per call, in µs (1e6/agora − 1e6/bare, from the medians). */
  overheadUsPerCall: number
  /** CPU time per call (whole process: client + transport + server), in µs. */
  bareCpuUsPerCall: number
  agoraCpuUsPerCall: number
  /** bare CPU/call ÷ Agora CPU/call: the throughput ratio a CPU-bound, otherwise idle machine would see. */
  cpuRatio: number
  /** Which sides ran with an HTTP session (`Mcp-Session-Id`). */
  session: { bare: boolean; agora: boolean }
  pass: boolean
}

interface Scenario {
  name: string
  transport: 'memory' | 'http'
  era: Era
  concurrency: number
  /** Connected clients for both sides. */
  open(): Promise<{ bare: Endpoint; agora: Endpoint }>
}

async function measure(s: Scenario): Promise<Row> {
  const { bare, agora } = await s.open()
  try {
    await check(bare.client, 'bare')
    await check(agora.client, 'agora')
    await drive(bare.client, s.concurrency, WARMUP_MS)
    await drive(agora.client, s.concurrency, WARMUP_MS)
    const rates = { bare: [] as number[], agora: [] as number[] }
    const cpu = { bare: { calls: 0, ms: 0 }, agora: { calls: 0, ms: 0 } }
    const ratios: number[] = []
    for (let r = 0; r < ROUNDS; r++) {
      // A B, B A, …: neither side always goes first (GC debt, timer drift).
      const order = r % 2 === 0 ? (['bare', 'agora'] as const) : (['agora', 'bare'] as const)
      const rate = { bare: 0, agora: 0 }
      for (const side of order) {
        const sample = await drive((side === 'bare' ? bare : agora).client, s.concurrency, ROUND_MS)
        rate[side] = (sample.calls * 1000) / sample.elapsedMs
        rates[side].push(rate[side])
        cpu[side].calls += sample.calls
        cpu[side].ms += sample.cpuMs
      }
      ratios.push(rate.agora / rate.bare)
    }
    const bareRate = median(rates.bare)
    const agoraRate = median(rates.agora)
    const ratio = median(ratios)
    const bareCpu = (cpu.bare.ms * 1000) / cpu.bare.calls
    const agoraCpu = (cpu.agora.ms * 1000) / cpu.agora.calls
    return {
      scenario: s.name,
      transport: s.transport,
      era: s.era,
      concurrency: s.concurrency,
      bareCallsPerSec: bareRate,
      agoraCallsPerSec: agoraRate,
      ratio,
      ratioRange: [Math.min(...ratios), Math.max(...ratios)],
      overheadUsPerCall: 1e6 / agoraRate - 1e6 / bareRate,
      bareCpuUsPerCall: bareCpu,
      agoraCpuUsPerCall: agoraCpu,
      cpuRatio: bareCpu / agoraCpu,
      session: { bare: bare.session, agora: agora.session },
      pass: ratio >= TARGET,
    }
  } finally {
    await bare.close()
    await agora.close()
  }
}

function memoryScenario(concurrency: number): Scenario {
  return {
    name: `memory c=${concurrency}`,
    transport: 'memory',
    era: 'legacy',
    concurrency,
    open: async () => ({ bare: await memoryEndpoint('bare'), agora: await memoryEndpoint('agora') }),
  }
}

function httpScenario(era: Era, concurrency: number): Scenario {
  return {
    name: `http ${era} c=${concurrency}`,
    transport: 'http',
    era,
    concurrency,
    open: async () => {
      const endpoint = async (serve: () => Promise<HttpServerHandle>): Promise<Endpoint> => {
        const server = await serve()
        const { client, transport } = await httpClient(server.url, era)
        return {
          client,
          session: transport.sessionId !== undefined,
          close: async () => {
            await client.close()
            await server.close()
          },
        }
      }
      return { bare: await endpoint(bareHttp), agora: await endpoint(agoraHttp) }
    },
  }
}

// ---------------------------------------------------------------------------------------------
// Run

/** Sanity: with all gates on, a call without the key must be refused (so the gates really run). */
async function gatesAreOn(): Promise<void> {
  const [serverEnd, clientEnd] = InMemoryTransport.createLinkedPair()
  const server = createSdkServer(agoraServer(), { transport: 'memory', logger: silentLogger })
  await server.connect(serverEnd)
  const client = new Client(clientInfo)
  await client.connect(clientEnd)
  try {
    const refused = await client.callTool({ name: 'echo', arguments: { text: 'x' } }).then(
      () => false,
      () => true,
    )
    if (!refused) throw new Error('Agora accepted a call without an API key: the auth gate is not on')
  } finally {
    await client.close()
    await server.close()
  }
}

function report(rows: Row[]): string {
  const head = [
    'scenario',
    'bare calls/s',
    'agora calls/s',
    'ratio',
    'round range',
    'overhead µs/call',
    'cpu µs/call bare→agora',
    'cpu ratio',
    'verdict',
  ]
  const body = rows.map((r) => [
    `${r.scenario}${r.session.agora !== r.session.bare ? (r.session.agora ? ' *' : ' †') : ''}`,
    fmt(r.bareCallsPerSec),
    fmt(r.agoraCallsPerSec),
    r.ratio.toFixed(3),
    `${r.ratioRange[0].toFixed(2)}–${r.ratioRange[1].toFixed(2)}`,
    `${r.overheadUsPerCall >= 0 ? '+' : ''}${fmt(r.overheadUsPerCall, 1)}`,
    `${fmt(r.bareCpuUsPerCall, 1)} → ${fmt(r.agoraCpuUsPerCall, 1)}`,
    r.cpuRatio.toFixed(3),
    r.pass ? 'PASS' : `FAIL (< ${TARGET.toFixed(2)})`,
  ])
  return table(head, body, new Set([0, 8]))
}

async function main(): Promise<void> {
  const scenarios = [
    memoryScenario(1),
    memoryScenario(8),
    httpScenario('legacy', 1),
    httpScenario('legacy', 8),
    httpScenario('2026-07-28', 1),
    httpScenario('2026-07-28', 8),
  ].filter((s) => !ONLY || s.name.includes(ONLY))

  await gatesAreOn()
  if (SIDE === 'bare' || SIDE === 'agora') {
    for (const s of scenarios) {
      const endpoints = await s.open()
      try {
        const { client } = endpoints[SIDE]
        await check(client, SIDE)
        await drive(client, s.concurrency, WARMUP_MS)
        const { calls, elapsedMs } = await drive(client, s.concurrency, ROUND_MS * ROUNDS)
        process.stdout.write(`${s.name} ${SIDE}: ${fmt((calls * 1000) / elapsedMs)} calls/s\n`)
      } finally {
        await endpoints.bare.close()
        await endpoints.agora.close()
      }
    }
    return
  }
  const header =
    'bench:pipeline: echo tool, bare SDK v2 McpServer vs Agora (auth + access + rate-limit + validate + price + receipt + pay)\n' +
    `${ROUNDS} rounds × ${ROUND_MS} ms per side (A/B alternating), ${WARMUP_MS} ms warm-up; node ${process.version}; ` +
    `${availableParallelism()} CPUs; loadavg ${loadavg()
      .map((x) => x.toFixed(2))
      .join(' ')}`
  if (!JSON_OUT) process.stdout.write(`${header}\n`)
  const rows: Row[] = []
  for (const s of scenarios) {
    log(`  running ${s.name} …`)
    rows.push(await measure(s))
  }

  if (JSON_OUT) {
    const out = {
      target: TARGET,
      roundMs: ROUND_MS,
      rounds: ROUNDS,
      warmupMs: WARMUP_MS,
      node: process.version,
      pass: rows.every((r) => r.pass),
      results: rows,
    }
    process.stdout.write(`${JSON.stringify(out, null, 2)}\n`)
  } else {
    process.stdout.write(`\n${report(rows)}\n\n`)
    process.stdout.write(
      'ratio = median over rounds of Agora/bare calls/s (target ≥ ' +
        `${TARGET.toFixed(2)}); overhead = 1e6/agora − 1e6/bare (wall µs per call, ÷ concurrency for latency);\n` +
        'cpu µs/call = process CPU time per call (client + server, robust to other load); cpu ratio = bare/agora CPU per call.\n',
    )
    if (rows.some((r) => r.session.agora && !r.session.bare)) {
      process.stdout.write(
        '* Agora served this 2025-era client with an Mcp-Session-Id session; bare createMcpHandler is stateless.\n',
      )
    }
    if (rows.some((r) => r.session.bare && !r.session.agora)) {
      process.stdout.write('† bare served this client with a session; Agora did not.\n')
    }
    const failed = rows.filter((r) => !r.pass)
    process.stdout.write(
      failed.length === 0
        ? `PASS: every scenario within the target (Agora ≥ ${TARGET.toFixed(2)} × bare SDK throughput)\n`
        : `FAIL: ${failed.length}/${rows.length} scenario(s) below ${TARGET.toFixed(2)} × bare SDK throughput\n`,
    )
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    // A crash is a broken benchmark, not a verdict: that one exits non-zero.
    process.stderr.write(`bench:pipeline failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`)
    process.exit(1)
  },
)
