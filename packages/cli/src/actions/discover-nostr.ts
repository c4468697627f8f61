import type { DiscoveredServer } from '@agora/transport-nostr'
import type { DiscoverFlags } from '../commands/discover.ts'
import { argumentSummary, formatToolLines, priceLabel } from '../describe.ts'
import { EXIT, UsageError } from '../errors.ts'
import { nostrTarget } from '../nostr-service.ts'

const DEFAULT_TIMEOUT_MS = 10_000

/**
 * `agora discover --nostr <relay>`: reads the server announcements (kinds 31316–31319) on the
 * relays, keeps the ones whose signatures verify, and prints each server with the `nostr:` target
 * that reaches it. Announcements that are forged or malformed are reported on stderr.
 */
export async function discoverOnNostr(flags: DiscoverFlags): Promise<void> {
  if (flags.bootstrap || flags.dhtProtocol) throw new UsageError('--bootstrap and --dht-protocol go with --p2p')
  const relays = flags.nostr ?? []
  const { DVMCP_DRAFT, discoverNostr } = await import('@agora/transport-nostr')
  const skipped: Array<{ kind: string; reason: string; pubkey?: string | undefined }> = []
  const servers = await discoverNostr({
    relays,
    name: flags.service,
    tool: flags.tool,
    capability: flags.capability,
    profile: flags.profile,
    timeoutMs: flags.timeout ?? DEFAULT_TIMEOUT_MS,
    onReject: (r) => {
      skipped.push({ kind: r.kind, reason: r.reason, pubkey: r.pubkey })
      if (!flags.json) process.stderr.write(`agora: skipped a ${r.kind} announcement: ${r.reason}\n`)
    },
  })
  if (flags.json) {
    const out = servers.map((s) => ({ ...s, target: targetOf(s, DVMCP_DRAFT.id) }))
    process.stdout.write(`${JSON.stringify({ servers: out, skipped })}\n`)
  } else if (servers.length > 0) process.stdout.write(describe(servers, DVMCP_DRAFT.id))
  if (servers.length === 0) {
    const what = flags.service
      ? `named ${flags.service}`
      : flags.tool
        ? `offering ${flags.tool}`
        : flags.capability
          ? `with ${flags.capability}`
          : 'at all'
    process.stderr.write(`agora: no servers found ${what} on ${relays.join(', ')}\n`)
    process.exitCode = EXIT.failure
  }
}

function describe(servers: readonly DiscoveredServer[], defaultProfile: string): string {
  const lines = [`Found ${servers.length} server${servers.length === 1 ? '' : 's'}:`]
  for (const s of servers) {
    const info = s.initialize.serverInfo
    lines.push('', `${s.name ?? info.name} ${info.version}${s.about ? ` — ${s.about}` : ''}`)
    lines.push(
      `  pubkey ${s.pubkey}  (${s.serverId ? `server id ${s.serverId}` : s.profile}${s.supportEncryption ? ', encryption' : ''})`,
    )
    lines.push(`  target ${targetOf(s, defaultProfile)}`)
    const tools = s.tools.map((t) => ({
      name: t.name,
      args: argumentSummary(t.inputSchema as Record<string, unknown>),
      price: priceLabel(s.prices?.[t.name]),
      description: t.description?.split('\n')[0],
    }))
    lines.push(`  tools (${tools.length}):`, ...formatToolLines(tools, '    '))
    const others = [s.resources.length && `${s.resources.length} resources`, s.prompts.length && `${s.prompts.length} prompts`]
    const extra = others.filter(Boolean).join(', ')
    if (extra) lines.push(`  also   ${extra}`)
  }
  return `${lines.join('\n')}\n`
}

/** The `nostr:` target reaching a discovered server (with its profile when not the default). */
function targetOf(s: DiscoveredServer, defaultProfile: string): string {
  const profile = s.profile === defaultProfile ? undefined : s.profile
  return nostrTarget({ pubkey: s.pubkey, serverId: s.serverId, relays: s.relays, profile })
}
