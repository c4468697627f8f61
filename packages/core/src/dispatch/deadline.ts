import { AgoraError } from '../errors.ts'
import { scheduleDeadline } from './timers.ts'

const noop = () => {}
const isThenable = (v: unknown): v is PromiseLike<unknown> =>
  typeof v === 'object' && v !== null && typeof (v as PromiseLike<unknown>).then === 'function'

/**
 * Runs `fn` until it settles, the caller cancels (`parent` aborts) or `timeoutMs` passes. A handler
 * that ignores its signal cannot hold the response: the race answers anyway and the handler's
 * late result is dropped. A handler that returns synchronously costs no timer at all.
 */
export async function withDeadline<T>(
  fn: (signal: AbortSignal) => Promise<T> | T,
  parent: AbortSignal,
  timeoutMs: number,
  label: string,
): Promise<T> {
  parent.throwIfAborted()
  const controller = new AbortController()
  const out = fn(controller.signal)
  if (!isThenable(out)) return out
  return new Promise<T>((resolve, reject) => {
    let done = false
    let cancelTimer = noop
    const finish = () => {
      done = true
      cancelTimer()
      parent.removeEventListener('abort', onAbort)
    }
    const onAbort = () => {
      if (done) return
      finish()
      controller.abort(parent.reason)
      reject(new AgoraError('CANCELLED', `${label} was cancelled by the caller`))
    }
    parent.addEventListener('abort', onAbort, { once: true })
    if (timeoutMs > 0) {
      cancelTimer = scheduleDeadline(timeoutMs, () => {
        if (done) return
        finish()
        const err = new AgoraError('TIMEOUT', `${label} timed out after ${timeoutMs} ms`)
        controller.abort(err)
        reject(err)
      })
    }
    ;(out as Promise<T>).then(
      (value) => {
        if (done) return
        finish()
        resolve(value)
      },
      (err: unknown) => {
        if (done) return
        finish()
        reject(err)
      },
    )
  })
}
