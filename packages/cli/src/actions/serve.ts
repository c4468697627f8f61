import { serveStdio } from '@agora/core/stdio'
import type { ServeFlags } from '../commands/serve.ts'
import { DEFAULT_HTTP } from '../defaults.ts'
import { definitionToolLines, formatToolLines } from '../describe.ts'
import type { HttpServiceInfo } from '../http-service.ts'
import { httpService } from '../http-service.ts'
import { untilStopped } from '../lifecycle.ts'
import { loadServer } from '../load.ts'
import { parseHostPort } from '../options.ts'
import type { Service } from '../services.ts'
import { startServices } from '../services.ts'

/** `agora serve`: loads the module, serves it until a signal (or stdin closing under --stdio). */
export async function serve(module: string, flags: ServeFlags): Promise<void> {
  const wantHttp = flags.http !== undefined || !flags.stdio
  const listen = parseHostPort(typeof flags.http === 'string' ? flags.http : DEFAULT_HTTP)
  const def = await loadServer(module)
  const services: Service<Partial<HttpServiceInfo>>[] = []
  if (wantHttp) services.push(httpService(def, listen, 'is it already running? --http 127.0.0.1:0 picks a free port'))
  if (flags.stdio) {
    services.push({
      name: 'stdio',
      async start() {
        const handle = serveStdio(def)
        return { info: {}, stop: () => handle.close() }
      },
    })
  }
  // Listen for signals before announcing readiness: whoever reads the ready line may stop us at once.
  const stopped = untilStopped((stop) => {
    if (flags.stdio) process.stdin.once('end', () => stop('stdin closed'))
  })
  const group = await startServices(services)
  const http = group.started.find((s) => s.info.http)?.info.http

  // stdout belongs to the protocol under --stdio; everything for people goes to stderr.
  const ready = { event: 'ready', ...(http ? { http } : {}), ...(flags.stdio ? { stdio: true } : {}) }
  const line = JSON.stringify({ ...ready, name: def.info.name, version: def.info.version, pid: process.pid })
  if (flags.json) (flags.stdio ? process.stderr : process.stdout).write(`${line}\n`)
  else process.stderr.write(banner(def.info.name, def.info.version, http, !!flags.stdio, definitionToolLines(def)))

  const reason = await stopped
  if (!flags.json && reason !== 'stdin closed') process.stderr.write(`agora: ${reason}, stopping\n`)
  await group.stop((name, err) => process.stderr.write(`agora: stopping ${name} failed: ${String(err)}\n`))
}

function banner(
  name: string,
  version: string,
  http: string | undefined,
  stdio: boolean,
  tools: ReturnType<typeof definitionToolLines>,
) {
  const lines = [`agora: serving ${name} ${version}`]
  if (http) lines.push(`  MCP endpoint  ${http}`)
  if (stdio) lines.push('  stdio         on stdin/stdout')
  lines.push(`  tools (${tools.length}):`, ...formatToolLines(tools, '    '))
  if (http) lines.push('', `Try:  agora tools ${http}`)
  lines.push('Stop with Ctrl-C.', '')
  return `${lines.join('\n')}\n`
}
