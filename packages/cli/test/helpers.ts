import type { ChildProcess } from 'node:child_process'
import { spawn } from 'node:child_process'
import { delimiter } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'

/** Absolute path of a file in the repository. */
export const repo = (p: string) => fileURLToPath(new URL(`../../../${p}`, import.meta.url))

export const AGORA = repo('packages/cli/bin/agora.js')

/** The environment children get: Node 22 (from the `node` package) first on PATH. */
export const ENV = { ...process.env, PATH: `${repo('node_modules/.bin')}${delimiter}${process.env.PATH ?? ''}` }

export interface RunResult {
  code: number | null
  stdout: string
  stderr: string
}

/** Runs a command to completion (killed after `timeoutMs`). */
export function run(
  command: string,
  args: string[],
  options: { cwd?: string; timeoutMs?: number; env?: Record<string, string> } = {},
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const env = { ...ENV, ...options.env }
    const child = spawn(command, args, { cwd: options.cwd ?? repo(''), env, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => {
      stdout += d
    })
    child.stderr.on('data', (d) => {
      stderr += d
    })
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 20_000)
    child.on('error', reject)
    child.on('close', (code) => {
      clearTimeout(timer)
      resolve({ code, stdout, stderr })
    })
  })
}

/** Runs `node bin/agora.js …`. */
export const agora = (args: string[], options?: { cwd?: string; timeoutMs?: number; env?: Record<string, string> }) =>
  run('node', [AGORA, ...args], options)

/** A long-running process (`serve`, `dev`) and the JSON object on its first stdout line. */
export interface Started<Ready> {
  readonly ready: Ready
  readonly child: ChildProcess
  readonly stderr: () => string
  /** Sends SIGTERM to the process group and resolves with the exit code (SIGKILL after 5 s). */
  stop(): Promise<number | null>
}

/** Starts a command in its own process group and waits (bounded) for its JSON ready line. */
export function start<Ready>(
  command: string,
  args: string[],
  options: { cwd?: string; timeoutMs?: number } = {},
): Promise<Started<Ready>> {
  const child = spawn(command, args, {
    cwd: options.cwd ?? repo(''),
    env: ENV,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  })
  let stderr = ''
  child.stderr?.on('data', (d) => {
    stderr += d
  })
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  const killGroup = (signal: NodeJS.Signals) => {
    try {
      if (child.pid) process.kill(-child.pid, signal)
    } catch {}
  }
  const stop = async () => {
    if (child.exitCode !== null) return child.exitCode
    killGroup('SIGTERM')
    const timer = setTimeout(() => killGroup('SIGKILL'), 5_000)
    const code = await exited
    clearTimeout(timer)
    return code
  }
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! })
    const timer = setTimeout(() => {
      void stop()
      reject(new Error(`no ready line within ${options.timeoutMs ?? 20_000} ms; stderr: ${stderr}`))
    }, options.timeoutMs ?? 20_000)
    lines.once('line', (line) => {
      clearTimeout(timer)
      try {
        resolve({ ready: JSON.parse(line) as Ready, child, stderr: () => stderr, stop })
      } catch {
        void stop()
        reject(new Error(`first stdout line is not JSON: ${line}`))
      }
    })
    void exited.then((code) => {
      clearTimeout(timer)
      reject(new Error(`exited with ${code} before its ready line; stderr: ${stderr}`))
    })
  })
}
