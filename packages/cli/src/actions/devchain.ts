import type { DevchainFlags } from '../commands/devchain.ts'
import { DEV_HOST, DEVCHAIN_PORT } from '../defaults.ts'
import type { DevchainInfo } from '../devchain-service.ts'
import { devchainLines, devchainService } from '../devchain-service.ts'
import { untilStopped } from '../lifecycle.ts'
import { startServices } from '../services.ts'

/** `agora devchain`: starts the local payments network and runs it until a signal. */
export async function devchain(flags: DevchainFlags): Promise<void> {
  const port = flags.port ?? DEVCHAIN_PORT
  const stopped = untilStopped() // before the ready line: its reader may stop us at once
  const group = await startServices([
    devchainService({ host: DEV_HOST, port }, 'is agora devchain already running? --port 0 picks a free one'),
  ])
  const info = group.started[0]!.info
  if (flags.json) process.stdout.write(`${JSON.stringify(readyLine(info))}\n`)
  else process.stderr.write(banner(info))
  const reason = await stopped
  if (!flags.json) process.stderr.write(`agora: ${reason}, stopping\n`)
  await group.stop((name, err) => process.stderr.write(`agora: stopping ${name} failed: ${String(err)}\n`))
}

/** The `--json` ready line's fields (also nested under `devchain` in `agora dev --json`). */
export function readyLine(info: DevchainInfo) {
  const { rpcUrl, chainId, network, token, facilitatorUrl, faucetUrl, accounts } = info
  return { event: 'ready', rpcUrl, chainId, network, token, facilitatorUrl, faucetUrl, accounts, pid: process.pid }
}

function banner(info: DevchainInfo): string {
  const lines = ['Agora dev chain is up:', '', ...devchainLines(info), '']
  lines.push('Funded accounts, 1000 USDC each (well-known dev keys: never use them on a real chain):')
  for (const a of info.accounts) lines.push(`  ${a.address}  ${a.privateKey}`)
  lines.push('', 'Stop with Ctrl-C.', '')
  return `${lines.join('\n')}\n`
}
