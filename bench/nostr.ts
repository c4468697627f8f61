/**
 * `npm run bench:nostr`: round trips of MCP over Nostr (the DVMCP transport) through the embedded
 * relay on loopback: an SDK `Client` over `connectNostr` calling an `echo` tool served by
 * `serveNostr`, plaintext and NIP-59 encrypted, at c = 1 and c = 16 calls in flight.
 *
 * A call is four relay hops' worth of work: the request event is signed, sent to the relay,
 * verified and forwarded to the server, which verifies it, runs the tool, signs the response and
 * publishes it back the same way. Reported: p50/p99 latency and calls/s per mode. Target
 * (PASS/FAIL): plaintext p50 ≤ 5 ms at c = 1. Baseline in the same run: the same definition over
 * Streamable HTTP (`serveHttp`, SDK `StreamableHTTPClientTransport`); ratios are Nostr ÷ HTTP at the
 * same concurrency.
 *
 * Flags: `--json` (machine output on stdout), `--duration=<ms>` per mode (default 1500),
 * `--warmup=<ms>` per mode (default 300). Relay, server and client share this process: numbers are
 * whole round trips (all CPU included). Exits 0 whatever the verdict; only a crash exits 1.
 */
import { availableParallelism, loadavg } from 'node:os'
import { silentLogger } from '@agora/core'
import { serveHttp } from '@agora/core/http'
import type { EncryptionMode } from '@agora/transport-nostr'
import { connectNostr, serveNostr } from '@agora/transport-nostr'
import { startRelay } from '@agora/transport-nostr/relay'
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client'
import { JSON_OUT, log, num } from './args.ts'
import { echoServer } from './echo-server.ts'
import { fmt, table } from './table.ts'

const DURATION_MS = num('duration', 1500)
const WARMUP_MS = num('warmup', 300)
const TARGET_P50_MS = 5

const definition = echoServer()

interface Row {
  mode: string
  concurrency: number
  calls: number
  p50Ms: number
  p99Ms: number
  callsPerSecond: number
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? 0

async function measure(client: Client, concurrency: number, ms: number): Promise<number[]> {
  const latencies: number[] = []
  const until = performance.now() + ms
  const worker = async (w: number) => {
    for (let i = 0; performance.now() < until; i++) {
      const t0 = performance.now()
      const r = await client.callTool({ name: 'echo', arguments: { text: `w${w}-${i}` } })
      latencies.push(performance.now() - t0)
      if ((r.content as { text?: string }[])[0]?.text !== `w${w}-${i}`) throw new Error('wrong echo')
    }
  }
  await Promise.all(Array.from({ length: concurrency }, (_, w) => worker(w)))
  return latencies
}

/** Warms up, then measures one client at each concurrency, appending a row per concurrency. */
async function measureAll(mode: string, client: Client, rows: Row[]): Promise<void> {
  for (const concurrency of [1, 16]) {
    await measure(client, concurrency, WARMUP_MS)
    const t0 = performance.now()
    const latencies = (await measure(client, concurrency, DURATION_MS)).sort((a, b) => a - b)
    const seconds = (performance.now() - t0) / 1000
    rows.push({
      mode,
      concurrency,
      calls: latencies.length,
      p50Ms: percentile(latencies, 0.5),
      p99Ms: percentile(latencies, 0.99),
      callsPerSecond: latencies.length / seconds,
    })
    log(`  ${mode} c=${concurrency}: ${latencies.length} calls`)
  }
}

async function run(): Promise<void> {
  const relay = await startRelay({ port: 0, logger: silentLogger })
  const rows: Row[] = []
  const http = await serveHttp(definition, { port: 0, logger: silentLogger })
  try {
    const client = new Client({ name: 'bench', version: '1.0.0' })
    await client.connect(new StreamableHTTPClientTransport(new URL(http.mcpUrl)))
    try {
      await measureAll('http', client, rows)
    } finally {
      await client.close()
    }
  } finally {
    await http.close()
  }
  try {
    for (const encryption of ['disabled', 'required'] as EncryptionMode[]) {
      const mode = encryption === 'disabled' ? 'nostr' : 'nostr + NIP-59'
      const nostr = await serveNostr(definition, { relays: [relay.url], encryption, logger: silentLogger })
      const transport = await connectNostr({ relays: [relay.url], serverPubkey: nostr.pubkey, encryption })
      const client = new Client({ name: 'bench', version: '1.0.0' })
      await client.connect(transport)
      try {
        await measureAll(mode, client, rows)
      } finally {
        await client.close()
        await nostr.close()
      }
    }
  } finally {
    await relay.close()
  }

  const plain = rows.find((r) => r.mode === 'nostr' && r.concurrency === 1)
  const pass = plain !== undefined && plain.p50Ms <= TARGET_P50_MS
  const env = { node: process.version, cpus: availableParallelism(), load1: loadavg()[0] }
  if (JSON_OUT) {
    process.stdout.write(`${JSON.stringify({ rows, target: { p50Ms: TARGET_P50_MS, pass }, env }, null, 2)}\n`)
    return
  }
  log('')
  const baseline = (c: number) => rows.find((r) => r.mode === 'http' && r.concurrency === c)
  log(
    table(
      ['mode', 'c', 'calls', 'p50 ms', 'p99 ms', 'calls/s', 'p50 ÷ http', 'calls/s ÷ http'],
      rows.map((r) => {
        const h = baseline(r.concurrency)
        return [
          r.mode,
          String(r.concurrency),
          fmt(r.calls),
          fmt(r.p50Ms, 2),
          fmt(r.p99Ms, 2),
          fmt(r.callsPerSecond),
          h ? `${fmt(r.p50Ms / h.p50Ms, 2)}×` : '',
          h ? `${fmt(r.callsPerSecond / h.callsPerSecond, 2)}×` : '',
        ]
      }),
    ),
  )
  log('')
  log(
    `${pass ? 'PASS' : 'FAIL'}  plaintext p50 at c=1 is ${fmt(plain?.p50Ms ?? Number.NaN, 2)} ms (target ≤ ${TARGET_P50_MS} ms)`,
  )
  log(`node ${env.node}, ${env.cpus} CPUs, load ${fmt(env.load1 ?? 0, 2)}`)
}

run().catch((err: unknown) => {
  process.stderr.write(`bench:nostr failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`)
  process.exit(1)
})
