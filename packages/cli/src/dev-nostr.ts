import { createHash } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { AgoraServer } from '@agora/core'
import { parsePrice } from '@agora/core'
import type { NostrServiceInfo } from './nostr-service.ts'
import { nostrService } from './nostr-service.ts'
import { quietSqliteWarning } from './quiet-warnings.ts'
import type { RelayInfo } from './relay-service.ts'
import { relayService } from './relay-service.ts'
import type { Service } from './services.ts'
import { onStarted } from './services.ts'

/** What `agora dev` reports about its Nostr and Lightning side. */
export interface DevNostrInfo {
  readonly relay: string
  /** Each example's Nostr identity, by server name. */
  readonly servers: ReadonlyMap<string, NostrServiceInfo['nostr']>
  readonly lightning?: DevLightningInfo | undefined
}

export interface DevLightningInfo {
  readonly network: string
  /** NWC URI of the funded dev user wallet: `agora gateway --nwc <this>` pays from it. */
  readonly userNwc: string
  readonly userBalanceSats: number
  /** NWC URI of the dev provider wallet: `agora serve|bridge --nwc <this>` takes sats into it. */
  readonly providerNwc: string
  /** Servers whose sats-priced tools take Lightning payments. */
  readonly servers: readonly string[]
}

/** Sats the dev user wallet starts with. */
export const DEV_USER_SATS = 100_000

/**
 * A well-known dev key: the same on every machine and run, so NWC URIs and pubkeys printed by
 * `agora dev` stay valid across restarts. Never use them for anything real.
 */
export function devKey(label: string): string {
  return createHash('sha256').update(`agora-dev:${label}`).digest('hex')
}

/** Whether a definition has a tool with a fixed price Lightning takes (sats, msat, BTC). */
const hasLightningPrice = (def: AgoraServer, isLightningAsset: (asset: string) => boolean) =>
  [...def.tools.values()].some((t) => {
    const price = t.config.price
    return price !== undefined && typeof price !== 'function' && isLightningAsset(parsePrice(price).asset)
  })

/**
 * The Nostr part of `agora dev`: the embedded relay (port `port`, default 7777), a local Lightning
 * stand-in (real signed BOLT11 invoices, no routing) with a funded user wallet reachable over NIP-47
 * on the relay, Lightning payments for the examples' sats-priced tools (next to x402 when the dev
 * chain runs), and each example served over Nostr and announced on the relay. Start `services` in
 * order, after the dev chain; read `info()` once they have started.
 *
 * @example
 * ```ts
 * const nostr = devNostr([weather], { port: 0, busyHint: '--port 0 picks free ports' })
 * await startServices(nostr.services)
 * console.log(nostr.info().relay)
 * ```
 */
export function devNostr(
  defs: readonly AgoraServer[],
  options: { port: number; host: string; busyHint: string; lightning: boolean },
): { services: Service<unknown>[]; info(): DevNostrInfo } {
  let relay: RelayInfo | undefined
  let lightning: DevLightningInfo | undefined
  const servers = new Map<string, NostrServiceInfo['nostr']>()
  const relaySvc = onStarted(
    relayService({ host: options.host, port: options.port }, `is agora dev already running? ${options.busyHint}`),
    (info) => {
      relay = info
    },
  )
  const lightningSvc: Service<DevLightningInfo | undefined> = {
    name: 'lightning',
    async start() {
      quietSqliteWarning()
      const { openLedger, routePayments } = await import('@agora/payments')
      const { createLightningPayments, createLocalLightning, isLightningAsset, lightningRoute, serveNwc } = await import(
        '@agora/payments/lightning'
      )
      const payable = defs.filter((d) => hasLightningPrice(d, isLightningAsset))
      const ln = createLocalLightning()
      const provider = ln.createWallet({ name: 'agora-dev-provider', nodeKey: devKey('lightning-node:provider') })
      const user = ln.createWallet({
        name: 'agora-dev-user',
        nodeKey: devKey('lightning-node:user'),
        balanceMsat: DEV_USER_SATS * 1000,
      })
      const ledgerDir = mkdtempSync(join(tmpdir(), 'agora-dev-lightning-'))
      const closers: (() => Promise<void>)[] = [async () => rmSync(ledgerDir, { recursive: true, force: true }), () => ln.close()]
      const stop = async () => {
        for (const close of closers.reverse()) await close().catch(() => {})
      }
      try {
        const nwc = await serveNwc(user, {
          relays: [relay!.url],
          secretKey: devKey('nwc-service:user'),
          clientSecret: devKey('nwc-client:user'),
        })
        closers.push(() => nwc.close())
        const providerNwc = await serveNwc(provider, {
          relays: [relay!.url],
          secretKey: devKey('nwc-service:provider'),
          clientSecret: devKey('nwc-client:provider'),
        })
        closers.push(() => providerNwc.close())
        for (const def of payable) {
          const ledger = await openLedger(`sqlite:${join(ledgerDir, `${def.info.name.replace(/[^\w.-]/g, '_')}.db`)}`)
          closers.push(() => ledger.close())
          const gateway = createLightningPayments({ ledger, wallet: provider })
          const existing = def.gates.payments
          def.payments(existing ? routePayments([lightningRoute(gateway), { gateway: existing }]) : gateway)
        }
        lightning = {
          network: `lightning:${ln.network}`,
          userNwc: nwc.connectionUri,
          userBalanceSats: DEV_USER_SATS,
          providerNwc: providerNwc.connectionUri,
          servers: payable.map((d) => d.info.name),
        }
      } catch (err) {
        await stop()
        throw err
      }
      return { info: lightning, stop }
    },
  }
  const examples = defs.map(
    (def): Service<NostrServiceInfo> => ({
      name: `${def.info.name} (nostr)`,
      start() {
        // Built at start: the relay's URL is known only once it listens.
        const service = nostrService(def, { relays: [relay!.url], secretKey: devKey(`nostr:${def.info.name}`) })
        return onStarted(service, (info) => servers.set(info.name, info.nostr)).start()
      },
    }),
  )
  return {
    services: [relaySvc, ...(options.lightning ? [lightningSvc] : []), ...examples] as Service<unknown>[],
    info: () => ({ relay: relay?.url ?? '', servers, lightning }),
  }
}
