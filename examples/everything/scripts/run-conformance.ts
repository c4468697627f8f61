/**
 * Runs the MCP conformance suite (`@modelcontextprotocol/conformance`, two installed versions) as a
 * child process against a server URL and reads back what it found. Used by `npm run conformance`
 * and by `examples/everything/test/conformance.test.ts`.
 */
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { readdir, readFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

export type RequirementSet = '2025-11-25' | '2026-07-28'

interface Suite {
  readonly set: RequirementSet
  /** The installed package alias of `@modelcontextprotocol/conformance`. */
  readonly pkg: string
  /** `--requirements <set>`; 0.1.16 predates it (its default active suite is exactly the 2025-11-25 set). */
  readonly requirements: boolean
}

/**
 * The runs: each requirement set with the suite version that defines it, plus the newer suite's
 * frozen 2025-11-25 set as a cross-check (more checks per scenario, same expected failures).
 */
export const SUITES = {
  '2025-11-25': { set: '2025-11-25', pkg: 'conformance-2025', requirements: false },
  '2026-07-28': { set: '2026-07-28', pkg: 'conformance-2026', requirements: true },
  '2025-11-25@0.2': { set: '2025-11-25', pkg: 'conformance-2026', requirements: true },
} as const satisfies Record<string, Suite>
export type SuiteId = keyof typeof SUITES
export const SUITE_IDS = Object.keys(SUITES) as SuiteId[]

const here = dirname(fileURLToPath(import.meta.url))

export const expectedFailuresFile = (set: RequirementSet) =>
  join(here, '..', 'conformance', `expected-failures-${set.slice(0, 4)}.yaml`)

export interface ScenarioResult {
  readonly scenario: string
  /** False for scenarios the CLI runs but does not score for the requirement set (extensions, pending). */
  readonly scored: boolean
  readonly passed: number
  readonly failed: number
  readonly warnings: number
  /** `id: message` of each failed or warning check. */
  readonly problems: readonly string[]
}

export interface SuiteRun {
  readonly suite: SuiteId
  /** The CLI's exit code: 0 when every failure is expected and no expectation is stale. */
  readonly exitCode: number | null
  readonly timedOut: boolean
  readonly output: string
  readonly scenarios: readonly ScenarioResult[]
  /** Check totals over the scored scenarios. */
  readonly passed: number
  readonly failed: number
  readonly warnings: number
}

export interface RunOptions {
  readonly url: string
  /** Results go here (`<scenario>-<timestamp>/checks.json`). */
  readonly outputDir: string
  /** Kill the CLI after this long. Default 150 s. */
  readonly timeoutMs?: number
  /** Per-scenario timeout passed to the 2026 CLI. Default 20 s. */
  readonly scenarioTimeoutMs?: number
  /** Use the expected-failures baseline (default true). */
  readonly baseline?: boolean
  /** Stream the CLI output here as it comes. */
  readonly onOutput?: (chunk: string) => void
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: strips the CLI's colour codes
const ANSI = /\u001b\[[0-9;]*m/g

/** The conformance CLIs need Node 22 (`fs.globSync`); the `node` devDependency provides it. */
function nodeBinary(): string {
  if (Number(process.versions.node.split('.')[0]) >= 22) return process.execPath
  const require = createRequire(import.meta.url)
  const bundled = join(dirname(require.resolve('node/package.json')), 'bin', 'node')
  return existsSync(bundled) ? bundled : process.execPath
}

function cliPath(pkg: string): string {
  const require = createRequire(import.meta.url)
  return join(dirname(require.resolve(`${pkg}/package.json`)), 'dist', 'index.js')
}

interface Check {
  id: string
  status: string
  errorMessage?: string
}

/**
 * The server scenarios a requirement set scores, from the suite's frozen `requirements/<set>.yaml`
 * (the top-level `server:` list; `not_scored` entries are run but never count). Undefined when the
 * suite has no such file (0.1.16, whose default suite is exactly the 2025-11-25 set).
 */
async function scoredScenarios(suite: Suite): Promise<Set<string> | undefined> {
  const file = join(dirname(cliPath(suite.pkg)), '..', 'requirements', `${suite.set}.yaml`)
  if (!suite.requirements || !existsSync(file)) return undefined
  const lines = (await readFile(file, 'utf8')).split('\n')
  const start = lines.indexOf('server:')
  const names = new Set<string>()
  for (const line of lines.slice(start + 1)) {
    const m = line.match(/^ {2}- (\S+)\s*$/)
    if (!m) break
    names.add(m[1] ?? '')
  }
  return names
}

/** Reads `<outputDir>/server-<scenario>-<timestamp>/checks.json` (the latest run of each scenario). */
async function readResults(outputDir: string, scored: Set<string> | undefined): Promise<ScenarioResult[]> {
  if (!existsSync(outputDir)) return []
  const dirs = (await readdir(outputDir)).sort()
  const byScenario = new Map<string, ScenarioResult>()
  for (const dir of dirs) {
    const file = join(outputDir, dir, 'checks.json')
    if (!existsSync(file)) continue
    const scenario = dir.replace(/^server-/, '').replace(/-\d{4}-\d{2}-\d{2}T[\dZ-]+$/, '')
    const checks = JSON.parse(await readFile(file, 'utf8')) as Check[]
    const bad = checks.filter((c) => c.status === 'FAILURE' || c.status === 'WARNING')
    byScenario.set(scenario, {
      scenario,
      scored: scored?.has(scenario) ?? true,
      passed: checks.filter((c) => c.status === 'SUCCESS').length,
      failed: checks.filter((c) => c.status === 'FAILURE').length,
      warnings: checks.filter((c) => c.status === 'WARNING').length,
      problems: bad.map((c) => `${c.status} ${c.id}: ${c.errorMessage ?? ''}`.trim()),
    })
  }
  return [...byScenario.values()]
}

/** Runs one suite's server scenarios against `url`. */
export async function runConformance(id: SuiteId, options: RunOptions): Promise<SuiteRun> {
  const suite: Suite = SUITES[id]
  const baseline = options.baseline ?? true
  const args = [cliPath(suite.pkg), 'server', '--url', options.url, '--output-dir', options.outputDir]
  if (suite.requirements) args.push('--requirements', suite.set, '--timeout', String(options.scenarioTimeoutMs ?? 20_000))
  if (baseline) args.push('--expected-failures', expectedFailuresFile(suite.set))

  const child = spawn(nodeBinary(), args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } })
  let output = ''
  const collect = (chunk: Buffer) => {
    const text = chunk.toString().replace(ANSI, '')
    output += text
    options.onOutput?.(text)
  }
  child.stdout.on('data', collect)
  child.stderr.on('data', collect)
  let timedOut = false
  const timer = setTimeout(() => {
    timedOut = true
    child.kill('SIGKILL')
  }, options.timeoutMs ?? 150_000)
  const exitCode = await new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)))
  clearTimeout(timer)

  const scenarios = await readResults(options.outputDir, await scoredScenarios(suite))
  const sum = (k: 'passed' | 'failed' | 'warnings') => scenarios.filter((s) => s.scored).reduce((n, s) => n + s[k], 0)
  return {
    suite: id,
    exitCode,
    timedOut,
    output,
    scenarios,
    passed: sum('passed'),
    failed: sum('failed'),
    warnings: sum('warnings'),
  }
}

/** A short human summary: totals, then each scenario with a problem. */
export function summarize(run: SuiteRun): string {
  const scored = run.scenarios.filter((s) => s.scored)
  const failing = (list: readonly ScenarioResult[]) => list.filter((s) => s.problems.length > 0)
  const lines = [
    `${run.suite} (${SUITES[run.suite].pkg}): ${scored.length} scored scenarios (${scored.length - failing(scored).length} clean), ` +
      `${run.passed} checks passed, ${run.failed} failed, ${run.warnings} warnings` +
      (run.timedOut ? ' (TIMED OUT)' : '') +
      ` — CLI exit ${run.exitCode}`,
  ]
  for (const s of failing(scored)) {
    lines.push(`  ${s.scenario}:`)
    for (const p of s.problems) lines.push(`    ${p}`)
  }
  const unscored = run.scenarios.filter((s) => !s.scored)
  if (unscored.length > 0) {
    lines.push(
      `  not scored (extensions, pending): ${unscored.length} run, ${failing(unscored).length} with failures: ` +
        failing(unscored)
          .map((s) => s.scenario)
          .join(', '),
    )
  }
  const verdict = run.output.match(/(Baseline check passed[^\n]*|Baseline is stale[^\n]*|Unexpected failures detected[^\n]*)/g)
  if (verdict) lines.push(...verdict.map((v) => `  ${v}`))
  return lines.join('\n')
}
