import { AgoraError } from '@agora/core/errors'
import { getDefaultEnvironment, StdioClientTransport } from '@modelcontextprotocol/client/stdio'
import parseShell from 'shell-quote/parse.js'
import quote from 'shell-quote/quote.js'
import type { StdioTarget, TargetScheme } from './types.ts'

const STDERR_TAIL_BYTES = 4096
/** Where an API key travels on transports without headers (read by `@agora/core`'s `apiKeys`). */
export const API_KEY_META = 'agora/api-key'

/**
 * Splits a command line the way a POSIX shell would (quotes, backslash escapes), without running a
 * shell: `$VARS` stay literal and pipes, redirections and `;` are refused.
 *
 * @example
 * ```ts
 * splitCommandLine(`node "my server.ts" --flag`) // ['node', 'my server.ts', '--flag']
 * ```
 */
export function splitCommandLine(line: string): string[] {
  const words: string[] = []
  for (const entry of parseShell(line, (name) => `$${name}`)) {
    if (typeof entry === 'string') words.push(entry)
    else if ('pattern' in entry) words.push(entry.pattern)
    else if ('op' in entry) {
      throw new AgoraError('TARGET', `stdio: command lines run without a shell; remove ${JSON.stringify(entry.op)}`)
    } else break // a comment: the rest of the line is ignored, as in a shell
  }
  return words
}

/** Remembers the child's pid, so a child the SDK gave up on (a failed handshake) can be reaped. */
class TrackedStdioTransport extends StdioClientTransport {
  #pid: number | null = null

  override async start(): Promise<void> {
    await super.start()
    this.#pid = this.pid
  }

  /** Ends the child if it is still running: SIGTERM, then SIGKILL after a second. */
  async reap(): Promise<void> {
    const pid = this.#pid
    if (pid === null || !alive(pid)) return
    process.kill(pid, 'SIGTERM')
    for (let i = 0; i < 20 && alive(pid); i++) await new Promise((r) => setTimeout(r, 50))
    if (alive(pid)) process.kill(pid, 'SIGKILL')
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

/**
 * Stdio targets: `stdio:<command line>` spawns the command and speaks MCP over its stdin/stdout,
 * e.g. `stdio:agora serve server.ts --stdio` or `stdio:npx -y @modelcontextprotocol/server-everything`.
 * The child gets the SDK's safe default environment (PATH, HOME, …) plus `env` from `connect()`.
 */
export const stdioScheme: TargetScheme<'stdio'> = {
  kind: 'stdio',
  prefixes: ['stdio:'],
  usage: 'stdio:<command line>',
  parse(text): StdioTarget {
    const [command, ...args] = splitCommandLine(text.slice('stdio:'.length))
    if (!command) throw new AgoraError('TARGET', 'stdio: needs a command, e.g. stdio:agora serve server.ts --stdio')
    return { kind: 'stdio', command, args }
  },
  format: (target) => `stdio:${quote([target.command, ...target.args])}`,
  open(target, options) {
    const transport = new TrackedStdioTransport({
      command: target.command,
      args: [...target.args],
      env: { ...getDefaultEnvironment(), ...options.env },
      stderr: 'pipe',
    })
    let tail = ''
    transport.stderr?.on('data', (chunk: Buffer | string) => {
      tail = (tail + chunk.toString()).slice(-STDERR_TAIL_BYTES)
    })
    return {
      transport,
      dispose: () => transport.reap(),
      meta: options.apiKey ? { [API_KEY_META]: options.apiKey } : undefined,
      diagnose() {
        const last = tail.trim().split('\n').at(-1)?.trim()
        return last ? `the server wrote: ${last}` : undefined
      },
    }
  },
}
