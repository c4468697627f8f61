/**
 * Coarse deadlines on one shared ticker. A per-call `setTimeout`/`clearTimeout` pair costs more than
 * a whole fast tool call, and call deadlines (seconds to minutes) need no millisecond precision;
 * Node has no built-in timer wheel, hence this one. Deadlines under `FINE_MS` use a real timer.
 */
const TICK_MS = 100
const FINE_MS = 1000

const pending = new Set<{ at: number; fire: () => void }>()
let ticker: NodeJS.Timeout | undefined

function tick() {
  const now = Date.now()
  for (const entry of pending) {
    if (entry.at > now) continue
    pending.delete(entry)
    entry.fire()
  }
  if (pending.size === 0 && ticker) {
    clearInterval(ticker)
    ticker = undefined
  }
}

/** Calls `fire` after about `ms` milliseconds; returns a cancel function. */
export function scheduleDeadline(ms: number, fire: () => void): () => void {
  if (ms < FINE_MS) {
    const t = setTimeout(fire, ms)
    return () => clearTimeout(t)
  }
  const entry = { at: Date.now() + ms, fire }
  pending.add(entry)
  if (!ticker) {
    ticker = setInterval(tick, TICK_MS)
    ticker.unref()
  }
  return () => {
    pending.delete(entry)
  }
}
