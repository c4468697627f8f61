/**
 * `npm run conformance`: serves the everything server on a free loopback port and runs the MCP
 * conformance suite against it for both requirement sets (2025-11-25 and 2026-07-28), with the
 * expected-failures baselines in `examples/everything/conformance/`. Results go to a temp dir.
 *
 *   npm run conformance                  # every suite (2025-11-25, 2026-07-28, 2025-11-25@0.2)
 *   npm run conformance -- 2026-07-28    # one suite
 *   npm run conformance -- --no-baseline # report every failure, ignore the baselines
 *   npm run conformance -- --verbose     # stream the CLI output
 */
import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { silentLogger } from '@agora/core'
import { serveHttp } from '@agora/core/http'
import server from '../src/server.ts'
import { runConformance, SUITE_IDS, summarize } from './run-conformance.ts'

const argv = process.argv.slice(2)
const chosen = SUITE_IDS.filter((id) => argv.includes(id))
const suites = chosen.length > 0 ? chosen : SUITE_IDS
const baseline = !argv.includes('--no-baseline')
const verbose = argv.includes('--verbose')

const http = await serveHttp(server, { port: 0, logger: silentLogger })
const dir = await mkdtemp(join(tmpdir(), 'agora-conformance-'))
console.log(`everything server at ${http.mcpUrl}; results in ${dir}`)

let ok = true
const summaries: string[] = []
try {
  for (const id of suites) {
    console.log(`\n=== ${id} ===`)
    const run = await runConformance(id, {
      url: http.mcpUrl,
      outputDir: join(dir, id),
      baseline,
      onOutput: verbose ? (chunk) => process.stdout.write(chunk) : undefined,
    })
    const summary = summarize(run)
    summaries.push(summary)
    console.log(summary)
    ok &&= run.exitCode === 0 && !run.timedOut
  }
} finally {
  await http.close()
}
console.log(`\n=== SUMMARY ===\n${summaries.join('\n')}\nresults: ${dir}`)
process.exit(ok ? 0 : 1)
