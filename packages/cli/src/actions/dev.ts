import { existsSync } from 'node:fs'
import type { AgoraServer } from '@agora/core'
import type { DevFlags } from '../commands/dev.ts'
import { DEV_BASE_PORT, DEV_EXAMPLES, DEV_HOST, DEV_P2P_PORT, DEVCHAIN_PORT, RELAY_PORT } from '../defaults.ts'
import { definitionToolLines } from '../describe.ts'
import type { DevNostrInfo } from '../dev-nostr.ts'
import { devNostr } from '../dev-nostr.ts'
import type { DevP2pInfo } from '../dev-p2p.ts'
import { devP2p } from '../dev-p2p.ts'
import { devPaymentLines, devPayTryLine, withDevPayments } from '../dev-payments.ts'
import type { DevchainInfo } from '../devchain-service.ts'
import { devchainLines, devchainService } from '../devchain-service.ts'
import type { HttpServiceInfo } from '../http-service.ts'
import { httpService } from '../http-service.ts'
import { untilStopped } from '../lifecycle.ts'
import { loadServer } from '../load.ts'
import { nostrTarget } from '../nostr-service.ts'
import { repoPath } from '../paths.ts'
import type { Service } from '../services.ts'
import { onStarted, startServices } from '../services.ts'

/**
 * `agora dev`: starts the local network's services in order and stops them in reverse on a
 * signal: the dev chain (payments), the example servers over HTTP, then a DHT bootstrap node and the
 * examples over libp2p (announced on the DHT), then a Nostr relay, a Lightning stand-in and the
 * examples over Nostr (announced on the relay).
 */
export async function dev(flags: DevFlags): Promise<void> {
  const base = flags.port ?? DEV_BASE_PORT
  const examples = DEV_EXAMPLES.filter((e) => existsSync(repoPath(e.path)))
  const services: Service<HttpServiceInfo>[] = []
  const defs: AgoraServer[] = []
  const httpUrls = new Map<string, string>()
  for (const [i, example] of examples.entries()) {
    const def = await loadServer(repoPath(example.path))
    defs.push(def)
    const http = httpService(
      def,
      { host: DEV_HOST, port: base === 0 ? 0 : base + i },
      'is agora dev already running? --port 0 picks free ports',
    )
    services.push(onStarted(http, (info) => httpUrls.set(info.name, info.http)))
  }
  const p2p =
    flags.p2p === false
      ? undefined
      : await devP2p(defs, {
          port: base === 0 ? 0 : DEV_P2P_PORT,
          busyHint: '--port 0 picks free ports',
          endpoints: (name) => {
            const url = httpUrls.get(name)
            return url ? [{ transport: 'streamable-http', url }] : []
          },
        })
  const chain =
    flags.devchain === false
      ? []
      : [
          withDevPayments(
            devchainService(
              { host: DEV_HOST, port: base === 0 ? 0 : DEVCHAIN_PORT },
              'is agora dev already running? --port 0 picks free ports',
            ),
            defs,
          ),
        ]
  const nostr =
    flags.nostr === false
      ? undefined
      : devNostr(defs, {
          host: DEV_HOST,
          port: base === 0 ? 0 : RELAY_PORT,
          busyHint: '--port 0 picks free ports',
          lightning: true,
        })
  const stopped = untilStopped() // before the ready line: its reader may stop us at once
  // Nostr before the HTTP servers: its Lightning gateway must be in place before they serve a call.
  const group = await startServices<unknown>([...chain, ...(nostr?.services ?? []), ...services, ...(p2p?.services ?? [])])
  const devchain = chain.length ? (group.started[0]?.info as DevchainInfo) : undefined
  const offset = chain.length + (nostr?.services.length ?? 0)
  const servers = group.started.slice(offset, offset + services.length).map((s) => s.info as HttpServiceInfo)
  const p2pInfo = p2p?.info()
  const nostrInfo = nostr?.info()
  if (flags.json) {
    const ready = {
      event: 'ready',
      servers: servers.map(({ name, http }) => ({
        name,
        http,
        ...(p2pInfo?.servers.has(name) ? { p2p: p2pInfo.servers.get(name) } : {}),
        ...(nostrInfo?.servers.has(name) ? { nostr: nostrInfo.servers.get(name) } : {}),
      })),
      ...(devchain ? { devchain } : {}),
      ...(p2pInfo ? { p2p: { bootstrap: p2pInfo.bootstrap } } : {}),
      ...(nostrInfo
        ? { nostr: { relay: nostrInfo.relay, ...(nostrInfo.lightning ? { lightning: nostrInfo.lightning } : {}) } }
        : {}),
    }
    process.stdout.write(`${JSON.stringify(ready)}\n`)
  } else {
    process.stderr.write(banner(servers, examples, devchain, p2pInfo, nostrInfo))
  }
  await stopped
  if (!flags.json) process.stderr.write('agora: stopping\n')
  await group.stop((name, err) => process.stderr.write(`agora: stopping ${name} failed: ${String(err)}\n`))
}

function banner(
  servers: HttpServiceInfo[],
  examples: ReadonlyArray<(typeof DEV_EXAMPLES)[number]>,
  devchain: DevchainInfo | undefined,
  p2p: DevP2pInfo | undefined,
  nostr: DevNostrInfo | undefined,
): string {
  const width = Math.max(...servers.map((s) => s.name.length))
  const lines = ['Agora dev network is up:', '']
  for (const s of servers) {
    const tools = definitionToolLines(s.def)
    const priced = tools.filter((t) => t.price).length
    lines.push(`  ${s.name.padEnd(width)}  ${s.http}   ${tools.length} tools${priced ? `, ${priced} priced` : ''}`)
  }
  if (devchain) lines.push('', 'Dev chain (payments):', ...devchainLines(devchain), ...devPaymentLines(devchain))
  if (p2p) {
    lines.push('', 'libp2p (MCP over /mcp/1.0.0, announced on the DHT):', `  DHT bootstrap  ${p2p.bootstrap}`)
    for (const [name, { addrs }] of p2p.servers) lines.push(`  ${name.padEnd(width)}  ${addrs[0] ?? ''}`)
  }
  if (nostr) {
    lines.push('', 'Nostr (MCP over DVMCP, announced on the relay):', `  relay          ${nostr.relay}`)
    for (const [name, n] of nostr.servers) lines.push(`  ${name.padEnd(width)}  ${n.pubkey}`)
    if (nostr.lightning) {
      const ln = nostr.lightning
      lines.push(`  lightning      local stand-in (${ln.network}); ${ln.servers.join(', ')} take sats`)
      lines.push(`  dev wallet     ${ln.userBalanceSats} sats, over NWC: ${ln.userNwc}`)
      lines.push(`  provider       takes sats for servers you start (--nwc): ${ln.providerNwc}`)
    }
  }
  lines.push('', 'Try:')
  for (const [i, s] of servers.entries()) {
    const example = examples[i]?.try
    lines.push(`  npx agora tools ${s.http}`)
    if (example) lines.push(`  npx agora call ${s.http} ${example.tool} --args '${example.args}'`)
    const pay = devchain && devPayTryLine(devchain, s.name, s.http, examples[i]?.pay)
    if (pay) lines.push(`  ${pay}`)
  }
  if (p2p) {
    const isDefault = p2p.bootstrap.startsWith(`/ip4/127.0.0.1/tcp/${DEV_P2P_PORT}/`)
    lines.push(`  npx agora discover --p2p${isDefault ? '' : ` --bootstrap ${p2p.bootstrap}`} --capability tools`)
    const [name, first] = [...p2p.servers][0] ?? []
    if (name && first?.addrs[0]) lines.push(`  npx agora tools p2p:${first.addrs[0]}   # ${name}, over libp2p`)
  }
  if (nostr) {
    const [name, first] = [...nostr.servers][0] ?? []
    if (name && first) lines.push(`  npx agora tools '${nostrTarget(first)}'   # ${name}, over Nostr`)
    const nwc = nostr.lightning ? ` --nwc '${nostr.lightning.userNwc}'` : ''
    lines.push(`  npx agora gateway --nostr ${nostr.relay}${nwc}   # every server as one stdio MCP server`)
  }
  lines.push('', 'Stop with Ctrl-C.', '')
  return `${lines.join('\n')}\n`
}
