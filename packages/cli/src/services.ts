/**
 * The lifecycle behind `agora serve` and `agora dev`: a list of services started in order and
 * stopped in reverse. Later verbs add a relay, a DHT bootstrap node, a dev chain the same way.
 */
export interface Service<Info = unknown> {
  readonly name: string
  /** Starts the service; resolves once it is ready, with what others (and the banner) need. */
  start(): Promise<StartedService<Info>>
}

export interface StartedService<Info = unknown> {
  readonly info: Info
  stop(): Promise<void>
}

/** Services that started, in start order. */
export interface ServiceGroup<Info = unknown> {
  readonly started: ReadonlyArray<{ readonly name: string; readonly info: Info }>
  /** Stops every started service in reverse order; failures are reported, not thrown. Idempotent. */
  stop(onError?: (name: string, err: unknown) => void): Promise<void>
}

/**
 * Starts services one after another. If one fails, those already started are stopped (in
 * reverse) and the error is rethrown.
 *
 * @example
 * ```ts
 * const group = await startServices([httpService('weather', weather, { port: 3000 })])
 * process.once('SIGINT', () => group.stop())
 * ```
 */
export async function startServices<Info>(services: readonly Service<Info>[]): Promise<ServiceGroup<Info>> {
  const running: Array<{ name: string; info: Info; stop(): Promise<void> }> = []
  let stopping: Promise<void> | undefined
  const stop = (onError?: (name: string, err: unknown) => void) => {
    stopping ??= (async () => {
      for (const s of [...running].reverse()) {
        try {
          await s.stop()
        } catch (err) {
          onError?.(s.name, err)
        }
      }
    })()
    return stopping
  }
  for (const service of services) {
    try {
      const started = await service.start()
      running.push({ name: service.name, info: started.info, stop: () => started.stop() })
    } catch (err) {
      await stop()
      throw err
    }
  }
  return { started: running.map(({ name, info }) => ({ name, info })), stop }
}

/**
 * The same service, calling `listener` with its info once it has started (e.g. to hand an HTTP
 * URL to a service that starts later).
 *
 * @example
 * ```ts
 * const urls = new Map<string, string>()
 * const http = onStarted(httpService(def, listen), (info) => urls.set(info.name, info.http))
 * ```
 */
export function onStarted<Info>(service: Service<Info>, listener: (info: Info) => void): Service<Info> {
  return {
    name: service.name,
    async start() {
      const started = await service.start()
      listener(started.info)
      return started
    },
  }
}
