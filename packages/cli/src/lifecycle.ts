const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const

/** How long shutdown may take before the process exits anyway. */
export const SHUTDOWN_GRACE_MS = 5_000

/**
 * Resolves when the process is asked to stop (SIGINT, SIGTERM, SIGHUP) or `extra` fires (e.g.
 * stdin closed under `--stdio`). From then on a watchdog exits the process if shutdown hangs.
 *
 * @example
 * ```ts
 * const reason = await untilStopped()
 * await services.stop()
 * ```
 */
export function untilStopped(extra?: (stop: (reason: string) => void) => void): Promise<string> {
  return new Promise((resolve) => {
    let done = false
    const stop = (reason: string) => {
      if (done) return
      done = true
      for (const s of SIGNALS) process.off(s, handlers[s])
      // Later signals (a second Ctrl-C, or one forwarded by the launcher) are absorbed, not fatal.
      for (const s of SIGNALS) process.on(s, () => {})
      setTimeout(() => {
        process.stderr.write(`agora: shutdown took longer than ${SHUTDOWN_GRACE_MS} ms, exiting\n`)
        process.exit(1)
      }, SHUTDOWN_GRACE_MS).unref()
      resolve(reason)
    }
    const handlers = Object.fromEntries(SIGNALS.map((s) => [s, () => stop(s)])) as Record<(typeof SIGNALS)[number], () => void>
    for (const s of SIGNALS) process.on(s, handlers[s])
    extra?.(stop)
  })
}
