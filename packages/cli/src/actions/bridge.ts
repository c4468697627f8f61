import { connect, proxyServer } from '@agora/client'
import { loadBridgeConfig } from '../bridge-config.ts'
import type { BridgeFlags } from '../commands/bridge.ts'
import { definitionToolLines, formatToolLines } from '../describe.ts'
import { UsageError } from '../errors.ts'
import { untilStopped } from '../lifecycle.ts'
import type { NostrServiceInfo } from '../nostr-service.ts'
import { nostrService, nostrTarget } from '../nostr-service.ts'
import type { ServePaymentsInfo } from '../serve-payments.ts'
import { paymentsService } from '../serve-payments.ts'
import type { Service } from '../services.ts'
import { startServices } from '../services.ts'

/** `agora bridge`: runs the stdio server, proxies it through the pipeline, serves that on Nostr. */
export async function bridge(command: string[], flags: BridgeFlags): Promise<void> {
  const [program, ...args] = command
  if (!program)
    throw new UsageError('give the stdio MCP server to bridge after --, e.g. -- npx @modelcontextprotocol/server-everything')
  if (flags.ledger && !flags.nwc) throw new UsageError('--ledger goes with --nwc <uri>')
  if (flags.nwc !== undefined && !flags.nwc.startsWith('nostr+walletconnect://')) {
    throw new UsageError('--nwc expects a nostr+walletconnect://… URI')
  }
  const config = await loadBridgeConfig(flags.config)
  const priced = Object.keys(config.prices ?? {})
  if (priced.length > 0 && !flags.nwc) {
    throw new UsageError(`--config prices ${priced.join(', ')}: taking payments needs --nwc <wallet URI>`)
  }

  const stopped = untilStopped()
  // The upstream's list changes reach the bridge's own clients (and its Nostr announcements).
  let proxy: Awaited<ReturnType<typeof proxyServer>> | undefined
  const upstream = await connect(
    { kind: 'stdio', command: program, args },
    { timeoutMs: 30_000, onListChanged: () => void proxy?.refresh(upstream).catch(() => {}) },
  )
  let group: Awaited<ReturnType<typeof startServices<Partial<NostrServiceInfo> & ServePaymentsInfo>>> | undefined
  try {
    const built = await proxyServer([{ client: upstream }], {
      info: {
        name: config.name ?? upstream.server?.name ?? 'bridge',
        version: config.version ?? upstream.server?.version ?? '0.0.0',
        description: config.about,
      },
      prices: config.prices,
    })
    proxy = built
    const unknown = priced.filter((name) => !built.tools.has(name))
    if (unknown.length > 0) {
      throw new UsageError(`--config prices name tools the server does not have: ${unknown.join(', ')}`)
    }
    const services: Service<Partial<NostrServiceInfo> & ServePaymentsInfo>[] = []
    if (flags.nwc) services.push(await paymentsService(built.server, { nwc: flags.nwc, ledger: flags.ledger }))
    services.push(
      nostrService(built.server, {
        relays: flags.nostr ?? [],
        keyFile: flags.nostrKeyFile,
        serverId: flags.serverId,
        private: flags.private,
        allow: config.allow,
        block: config.block,
      }),
    )
    group = await startServices(services)
    const nostr = group.started.find((s) => s.info.nostr)!.info as NostrServiceInfo
    const lightning = group.started.find((s) => s.info.lightning)?.info.lightning
    const tools = definitionToolLines(built.server)
    if (flags.json) {
      const ready = {
        event: 'ready',
        name: nostr.name,
        version: nostr.version,
        nostr: nostr.nostr,
        announced: nostr.announced,
        upstream: command.join(' '),
        tools: tools.map((t) => t.name),
        ...(lightning ? { lightning } : {}),
        pid: process.pid,
      }
      process.stdout.write(`${JSON.stringify(ready)}\n`)
    } else {
      const lines = [
        `agora: bridging ${command.join(' ')} onto Nostr as ${nostr.name} ${nostr.version}`,
        `  nostr pubkey  ${nostr.nostr.pubkey}, server id ${nostr.nostr.serverId}${nostr.announced ? ' (announced)' : ' (private)'}`,
        ...nostr.nostr.relays.map((r) => `                ${r}`),
        ...(lightning ? [`  payments      Lightning on ${lightning.network} (ledger ${lightning.ledger})`] : []),
        `  tools (${tools.length}):`,
        ...formatToolLines(tools, '    '),
        '',
        `Try:  agora tools '${nostrTarget(nostr.nostr)}'`,
        'Stop with Ctrl-C.',
        '',
      ]
      process.stderr.write(`${lines.join('\n')}\n`)
    }
    const reason = await stopped
    if (!flags.json) process.stderr.write(`agora: ${reason}, stopping\n`)
  } finally {
    await group?.stop((name, err) => process.stderr.write(`agora: stopping ${name} failed: ${String(err)}\n`))
    await upstream.close()
  }
}
