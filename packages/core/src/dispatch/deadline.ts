import { AgoraError } from '../errors.ts'

/**
 * Runs `fn` until it settles, the caller cancels (`parent` aborts) or `timeoutMs` passes. A handler
 * that ignores its signal cannot hold the response: the race answers anyway and the handler's
 * late result is dropped.
 */
export async function withDeadline<T>(
  fn: (signal: AbortSignal) => Promise<T> | T,
  parent: AbortSignal,
  timeoutMs: number,
  label: string,
): Promise<T> {
  parent.throwIfAborted()
  const controller = new AbortController()
  let timer: NodeJS.Timeout | undefined
  let onAbort: (() => void) | undefined
  const stop = new Promise<never>((_, reject) => {
    onAbort = () => {
      controller.abort(parent.reason)
      reject(new AgoraError('CANCELLED', `${label} was cancelled by the caller`))
    }
    parent.addEventListener('abort', onAbort, { once: true })
    if (timeoutMs > 0) {
      timer = setTimeout(() => {
        const err = new AgoraError('TIMEOUT', `${label} timed out after ${timeoutMs} ms`)
        controller.abort(err)
        reject(err)
      }, timeoutMs)
    }
  })
  try {
    return await Promise.race([fn(controller.signal), stop])
  } finally {
    if (timer) clearTimeout(timer)
    if (onAbort) parent.removeEventListener('abort', onAbort)
  }
}
