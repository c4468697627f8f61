import { quietSqliteWarning } from './quiet-warnings.ts'
import type { Service } from './services.ts'

/** What a running relay tells the banner and the `--json` ready line. */
export interface RelayInfo {
  readonly url: string
  readonly port: number
  /** SQLite file keeping the events, when persistent. */
  readonly db: string | undefined
}

/**
 * The embedded Nostr relay as a service (`agora relay`, and the relay of `agora dev`). `busyHint`
 * is added when the port is taken.
 *
 * @example
 * ```ts
 * const group = await startServices([relayService({ host: '127.0.0.1', port: 0 })])
 * console.log(group.started[0].info.url)
 * ```
 */
export function relayService(
  listen: { host: string; port: number; db?: string | undefined },
  busyHint = '--port 0 picks a free one',
): Service<RelayInfo> {
  return {
    name: 'relay',
    async start() {
      // Loaded on demand: most verbs never touch Nostr. The relay's SQLite store uses `node:sqlite`.
      quietSqliteWarning()
      const { startRelay } = await import('@agora/transport-nostr/relay')
      const { AgoraError, isAgoraError } = await import('@agora/core/errors')
      const relay = await startRelay({ host: listen.host, port: listen.port, db: listen.db }).catch((err: unknown) => {
        if (isAgoraError(err) && /port is taken/.test(err.message)) {
          throw new AgoraError(err.code, `${err.message} (${busyHint})`, { cause: err })
        }
        throw err
      })
      return { info: { url: relay.url, port: relay.port, db: listen.db }, stop: () => relay.close() }
    },
  }
}
