import { existsSync } from 'node:fs'
import type { DevFlags } from '../commands/dev.ts'
import { DEV_BASE_PORT, DEV_EXAMPLES, DEV_HOST } from '../defaults.ts'
import { definitionToolLines } from '../describe.ts'
import type { HttpServiceInfo } from '../http-service.ts'
import { httpService } from '../http-service.ts'
import { untilStopped } from '../lifecycle.ts'
import { loadServer } from '../load.ts'
import { repoPath } from '../paths.ts'
import type { Service } from '../services.ts'
import { startServices } from '../services.ts'

/**
 * `agora dev`: starts the local network's services in order and stops them in reverse on a
 * signal. Today the example servers; later a relay, a DHT bootstrap node and a dev chain.
 */
export async function dev(flags: DevFlags): Promise<void> {
  const base = flags.port ?? DEV_BASE_PORT
  const examples = DEV_EXAMPLES.filter((e) => existsSync(repoPath(e.path)))
  const services: Service<HttpServiceInfo>[] = []
  for (const [i, example] of examples.entries()) {
    const def = await loadServer(repoPath(example.path))
    services.push(
      httpService(
        def,
        { host: DEV_HOST, port: base === 0 ? 0 : base + i },
        'is agora dev already running? --port 0 picks free ports',
      ),
    )
  }
  const stopped = untilStopped() // before the ready line: its reader may stop us at once
  const group = await startServices(services)
  const servers = group.started.map((s) => s.info)
  if (flags.json) {
    process.stdout.write(`${JSON.stringify({ event: 'ready', servers: servers.map(({ name, http }) => ({ name, http })) })}\n`)
  } else {
    process.stderr.write(banner(servers, examples))
  }
  await stopped
  if (!flags.json) process.stderr.write('agora: stopping\n')
  await group.stop((name, err) => process.stderr.write(`agora: stopping ${name} failed: ${String(err)}\n`))
}

function banner(servers: HttpServiceInfo[], examples: ReadonlyArray<(typeof DEV_EXAMPLES)[number]>): string {
  const width = Math.max(...servers.map((s) => s.name.length))
  const lines = ['Agora dev network is up:', '']
  for (const s of servers) {
    const tools = definitionToolLines(s.def)
    const priced = tools.filter((t) => t.price).length
    lines.push(`  ${s.name.padEnd(width)}  ${s.http}   ${tools.length} tools${priced ? `, ${priced} priced` : ''}`)
  }
  lines.push('', 'Try:')
  for (const [i, s] of servers.entries()) {
    const example = examples[i]?.try
    lines.push(`  npx agora tools ${s.http}`)
    if (example) lines.push(`  npx agora call ${s.http} ${example.tool} --args '${example.args}'`)
  }
  lines.push('', 'Stop with Ctrl-C.', '')
  return `${lines.join('\n')}\n`
}
