/**
 * The MCP conformance suite against the everything server, over loopback HTTP: the 2025-11-25
 * server requirement set (suite 0.1.16), the 2026-07-28 set (suite 0.2.0-alpha.12), and the newer
 * suite's frozen 2025-11-25 set as a cross-check. Any failure not in
 * `conformance/expected-failures-*.yaml` fails the test, and so does an entry there that now passes.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { silentLogger } from '@agora/core'
import type { HttpServerHandle } from '@agora/core/http'
import { serveHttp } from '@agora/core/http'
import { afterAll, beforeAll, describe, expect, onTestFailed, test } from 'vitest'
import type { SuiteId } from '../scripts/run-conformance.ts'
import { runConformance, summarize } from '../scripts/run-conformance.ts'
import server from '../src/server.ts'

/** Scenarios each frozen server requirement set holds. */
const SCORED: Record<SuiteId, number> = { '2025-11-25': 30, '2026-07-28': 37, '2025-11-25@0.2': 30 }
/** Three runs of ~2-5 s each; the bound keeps the file under 4 minutes even if every run hangs. */
const RUN_TIMEOUT_MS = 60_000

let http: HttpServerHandle
let results: string
let keep = false

beforeAll(async () => {
  http = await serveHttp(server, { host: '127.0.0.1', port: 0, logger: silentLogger })
  results = await mkdtemp(join(tmpdir(), 'agora-conformance-'))
})

afterAll(async () => {
  await http?.close()
  if (results && !keep) await rm(results, { recursive: true, force: true })
})

describe('MCP conformance: everything server over HTTP', () => {
  for (const id of Object.keys(SCORED) as SuiteId[]) {
    test(
      `${id}: every failure is expected and every expectation still fails`,
      async () => {
        onTestFailed(() => {
          keep = true
        })
        const run = await runConformance(id, { url: http.mcpUrl, outputDir: join(results, id), timeoutMs: RUN_TIMEOUT_MS })
        const report = `${summarize(run)}\nresults: ${join(results, id)}\n--- CLI output (tail) ---\n${run.output.slice(-4000)}`
        expect(run.timedOut, report).toBe(false)
        expect(run.exitCode, report).toBe(0)
        expect(run.output, report).toContain('Baseline check passed')
        expect(run.scenarios.filter((s) => s.scored).length, report).toBe(SCORED[id])
      },
      RUN_TIMEOUT_MS + 10_000,
    )
  }
})
