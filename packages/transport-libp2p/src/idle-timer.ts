/**
 * Fires `onIdle` once nothing happened for `ms` and `busy()` is false. Activity only stamps a time
 * (`touch()`), so the hot path never re-arms a timer; the single timer re-checks when it fires.
 *
 * @example
 * ```ts
 * const idle = new IdleTimer(300_000, () => inflight.size > 0, (idleMs) => void transport.close())
 * stream.addEventListener('message', () => idle.touch())
 * ```
 */
export class IdleTimer {
  readonly #ms: number
  readonly #busy: () => boolean
  readonly #onIdle: (idleMs: number) => void
  #last = Date.now()
  #timer: ReturnType<typeof setTimeout> | undefined

  /** `ms` ≤ 0 or not finite: never fires. */
  constructor(ms: number | undefined, busy: () => boolean, onIdle: (idleMs: number) => void) {
    this.#ms = ms !== undefined && ms > 0 && Number.isFinite(ms) ? ms : 0
    this.#busy = busy
    this.#onIdle = onIdle
  }

  /** Starts watching. */
  start(): void {
    if (this.#ms > 0 && this.#timer === undefined) this.#arm(this.#ms)
  }

  /** Notes activity now. */
  touch(): void {
    this.#last = Date.now()
  }

  stop(): void {
    clearTimeout(this.#timer)
  }

  #arm(ms: number): void {
    this.#timer = setTimeout(this.#check, ms).unref()
  }

  readonly #check = (): void => {
    const idleFor = Date.now() - this.#last
    if (this.#busy()) this.#arm(this.#ms)
    else if (idleFor < this.#ms) this.#arm(this.#ms - idleFor)
    else this.#onIdle(idleFor)
  }
}
