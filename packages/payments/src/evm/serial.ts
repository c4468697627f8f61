/**
 * Runs tasks one at a time, in call order. Transactions from one account go through this, so two
 * concurrent sends never pick the same nonce.
 *
 * @example
 * ```ts
 * const send = serial()
 * await Promise.all([send(() => mint(a)), send(() => mint(b))])
 * ```
 */
export function serial(): <T>(task: () => Promise<T>) => Promise<T> {
  let tail: Promise<unknown> = Promise.resolve()
  return <T>(task: () => Promise<T>) => {
    const run = tail.then(task, task)
    tail = run.catch(() => {})
    return run
  }
}
