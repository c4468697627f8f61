import type { RelayFlags } from '../commands/relay.ts'
import { DEV_HOST, RELAY_PORT } from '../defaults.ts'
import { untilStopped } from '../lifecycle.ts'
import { relayService } from '../relay-service.ts'
import { startServices } from '../services.ts'

/** `agora relay`: starts the embedded relay and runs it until a signal. */
export async function relay(flags: RelayFlags): Promise<void> {
  const stopped = untilStopped() // before the ready line: its reader may stop us at once
  const group = await startServices([
    relayService(
      { host: flags.host ?? DEV_HOST, port: flags.port ?? RELAY_PORT, db: flags.db },
      'is agora relay already running? --port 0 picks a free one',
    ),
  ])
  const info = group.started[0]!.info
  if (flags.json) {
    process.stdout.write(
      `${JSON.stringify({ event: 'ready', url: info.url, port: info.port, db: info.db ?? null, pid: process.pid })}\n`,
    )
  } else {
    const storage = info.db ? `events kept in ${info.db}` : 'events kept in memory (--db <file> to keep them)'
    process.stderr.write(`Agora relay listening on ${info.url}\n  ${storage}\n\nStop with Ctrl-C.\n`)
  }
  const reason = await stopped
  if (!flags.json) process.stderr.write(`agora: ${reason}, stopping\n`)
  await group.stop((name, err) => process.stderr.write(`agora: stopping ${name} failed: ${String(err)}\n`))
}
