import { serveStdio } from '@agora/core/stdio'
import type { ServeFlags } from '../commands/serve.ts'
import { DEFAULT_HTTP } from '../defaults.ts'
import { definitionToolLines, formatToolLines } from '../describe.ts'
import { UsageError } from '../errors.ts'
import type { HttpServiceInfo } from '../http-service.ts'
import { httpService } from '../http-service.ts'
import { untilStopped } from '../lifecycle.ts'
import { loadServer } from '../load.ts'
import type { NostrServiceInfo } from '../nostr-service.ts'
import { nostrTarget } from '../nostr-service.ts'
import { parseHostPort } from '../options.ts'
import type { P2pServiceInfo } from '../p2p-service.ts'
import type { ServePaymentsInfo } from '../serve-payments.ts'
import { paymentsService } from '../serve-payments.ts'
import type { Service } from '../services.ts'
import { startServices } from '../services.ts'

type ServeInfo = Partial<HttpServiceInfo> &
  Partial<Pick<P2pServiceInfo, 'p2p'>> &
  Partial<Pick<NostrServiceInfo, 'nostr' | 'announced'>> &
  Partial<ServePaymentsInfo>

/** `agora serve`: loads the module, serves it until a signal (or stdin closing under --stdio). */
export async function serve(module: string, flags: ServeFlags): Promise<void> {
  const wantHttp = flags.http !== undefined || (!flags.stdio && flags.p2p === undefined && flags.nostr === undefined)
  const listen = parseHostPort(typeof flags.http === 'string' ? flags.http : DEFAULT_HTTP)
  if (flags.p2p === undefined && (flags.bootstrap || flags.keyFile || flags.dhtProtocol)) {
    throw new UsageError('--bootstrap, --key-file and --dht-protocol go with --p2p <multiaddr>')
  }
  if (flags.nostr === undefined && (flags.nostrKeyFile || flags.serverId || flags.private || flags.nostrProfile)) {
    throw new UsageError('--nostr-key-file, --server-id, --private and --nostr-profile go with --nostr <relay>')
  }
  const paying = flags.payTo !== undefined || flags.nwc !== undefined
  if (flags.payTo === undefined && (flags.devchain || flags.facilitator || flags.network || flags.paymentForm)) {
    throw new UsageError('--devchain, --facilitator, --network and --payment-form go with --pay-to <address>')
  }
  if (!paying && flags.ledger) throw new UsageError('--ledger goes with --pay-to <address> or --nwc <uri>')
  if (flags.nwc !== undefined && !flags.nwc.startsWith('nostr+walletconnect://')) {
    throw new UsageError(`--nwc expects a nostr+walletconnect://… URI, got ${JSON.stringify(flags.nwc.slice(0, 40))}`)
  }
  const def = await loadServer(module)
  const services: Service<ServeInfo>[] = []
  // Payments first: the servers must have their engine before they serve a call.
  if (paying) services.push(await paymentsService(def, flags))
  let httpUrl: string | undefined
  if (wantHttp) {
    const http = httpService(def, listen, 'is it already running? --http 127.0.0.1:0 picks a free port')
    services.push({
      name: http.name,
      async start() {
        const started = await http.start()
        httpUrl = started.info.http
        return started
      },
    })
  }
  if (flags.p2p !== undefined) {
    const { p2pService } = await import('../p2p-service.ts')
    const p2p = { listen: [flags.p2p], bootstrap: flags.bootstrap, keyFile: flags.keyFile, dhtProtocol: flags.dhtProtocol }
    // The descriptor announced on the DHT also lists the HTTP endpoint, when there is one.
    const endpoints = () => (httpUrl ? [{ transport: 'streamable-http' as const, url: httpUrl }] : [])
    services.push(p2pService(def, { ...p2p, endpoints }, 'is it already running? --p2p /ip4/127.0.0.1/tcp/0 picks a free port'))
  }
  if (flags.nostr !== undefined) {
    const { nostrService } = await import('../nostr-service.ts')
    services.push(
      nostrService(def, {
        relays: flags.nostr,
        keyFile: flags.nostrKeyFile,
        serverId: flags.serverId,
        private: flags.private,
        profile: flags.nostrProfile,
      }),
    )
  }
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
  const p2p = group.started.find((s) => s.info.p2p)?.info.p2p
  const payments = group.started.find((s) => s.info.payments)?.info.payments
  const lightning = group.started.find((s) => s.info.lightning)?.info.lightning
  const nostr = group.started.find((s) => s.info.nostr)?.info

  // stdout belongs to the protocol under --stdio; everything for people goes to stderr.
  const ready = {
    event: 'ready',
    ...(http ? { http } : {}),
    ...(p2p ? { p2p: { peerId: p2p.peerId, addrs: p2p.addrs } } : {}),
    ...(nostr?.nostr ? { nostr: nostr.nostr } : {}),
    ...(flags.stdio ? { stdio: true } : {}),
    ...(payments ? { payments } : {}),
    ...(lightning ? { lightning } : {}),
  }
  const line = JSON.stringify({ ...ready, name: def.info.name, version: def.info.version, pid: process.pid })
  if (flags.json) (flags.stdio ? process.stderr : process.stdout).write(`${line}\n`)
  else {
    const onNostr = nostr?.nostr ? { ...nostr.nostr, announced: nostr.announced === true } : undefined
    process.stderr.write(banner(def.info.name, def.info.version, http, p2p, onNostr, !!flags.stdio, definitionToolLines(def)))
    if (payments) {
      process.stderr.write(
        `  payments      x402 ${payments.symbol} on ${payments.network} to ${payments.payTo} (facilitator ${payments.facilitatorUrl}, ledger ${payments.ledger})\n`,
      )
    }
    if (lightning) {
      process.stderr.write(
        `  payments      Lightning (hold until paid) on ${lightning.network} into wallet ${lightning.walletPubkey.slice(0, 16)}… (ledger ${lightning.ledger})\n`,
      )
    }
  }

  const reason = await stopped
  if (!flags.json && reason !== 'stdin closed') process.stderr.write(`agora: ${reason}, stopping\n`)
  await group.stop((name, err) => process.stderr.write(`agora: stopping ${name} failed: ${String(err)}\n`))
}

function banner(
  name: string,
  version: string,
  http: string | undefined,
  p2p: P2pServiceInfo['p2p'] | undefined,
  nostr: (NostrServiceInfo['nostr'] & { announced: boolean }) | undefined,
  stdio: boolean,
  tools: ReturnType<typeof definitionToolLines>,
) {
  const lines = [`agora: serving ${name} ${version}`]
  if (http) lines.push(`  MCP endpoint  ${http}`)
  if (p2p) {
    lines.push(`  libp2p peer   ${p2p.peerId} (announced on the DHT as ${name})`)
    for (const addr of p2p.addrs) lines.push(`                ${addr}`)
  }
  if (nostr) {
    lines.push(`  nostr pubkey  ${nostr.pubkey}, server id ${nostr.serverId}${nostr.announced ? ' (announced)' : ' (private)'}`)
    for (const relay of nostr.relays) lines.push(`                ${relay}`)
  }
  if (stdio) lines.push('  stdio         on stdin/stdout')
  lines.push(`  tools (${tools.length}):`, ...formatToolLines(tools, '    '))
  if (http) lines.push('', `Try:  agora tools ${http}`)
  if (p2p?.addrs[0]) lines.push(`${http ? '     ' : '\nTry: '} agora tools p2p:${p2p.addrs[0]}`)
  if (nostr) lines.push(`${http || p2p ? '     ' : '\nTry: '} agora tools '${nostrTarget(nostr)}'`)
  lines.push('Stop with Ctrl-C.', '')
  return `${lines.join('\n')}\n`
}
