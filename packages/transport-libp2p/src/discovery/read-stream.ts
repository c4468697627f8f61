import type { Stream } from '@libp2p/interface'

/** Thrown by {@link readStreamToEnd} when the peer sends more than allowed. */
export class StreamTooLargeError extends Error {
  override name = 'StreamTooLargeError'
}

/**
 * Reads a stream until the remote closes its writable end, aborting it past `maxBytes` or when
 * `signal` fires. It checks the stream's state after every event instead of trusting `end` or the
 * async iterator: in libp2p 3 the iterator misses a remote close that happened before iteration
 * began (then never ends), and when the answer and the remote close arrive during protocol
 * negotiation, `end` is emitted before the data that negotiation hands back.
 *
 * @example
 * ```ts
 * const bytes = await readStreamToEnd(stream, { maxBytes: 1 << 20, signal: AbortSignal.timeout(5_000) })
 * ```
 */
export function readStreamToEnd(
  stream: Stream,
  options: { maxBytes: number; signal?: AbortSignal | undefined },
): Promise<Uint8Array> {
  const { maxBytes, signal } = options
  return new Promise((resolve, reject) => {
    const chunks: Uint8Array[] = []
    let total = 0
    let settled = false
    const settle = (err?: unknown) => {
      if (settled) return
      settled = true
      stream.removeEventListener('message', onMessage)
      stream.removeEventListener('end', onEnd)
      stream.removeEventListener('remoteCloseWrite', onEnd)
      stream.removeEventListener('close', onClose)
      signal?.removeEventListener('abort', onAbort)
      if (err === undefined) resolve(Buffer.concat(chunks))
      else reject(err)
    }
    const onMessage = (evt: { data: Uint8Array | { subarray(): Uint8Array } }) => {
      const part = evt.data instanceof Uint8Array ? evt.data : evt.data.subarray()
      total += part.byteLength
      if (total > maxBytes) {
        const err = new StreamTooLargeError(`more than ${maxBytes} bytes`)
        settle(err) // before abort(), which emits 'end'
        stream.abort(err)
        return
      }
      chunks.push(part)
      check()
    }
    /** Done once the remote will send nothing more and nothing is left undelivered. */
    const check = () => {
      // A reset also marks the remote closed (and emits 'end' first): that is a failure, not the end.
      if (stream.status === 'reset' || stream.status === 'aborted') settle(new Error(`the stream was ${stream.status}`))
      else if (stream.remoteWriteStatus === 'closed' && stream.readBufferLength === 0) settle()
    }
    const onEnd = () => check()
    const onClose = (evt: { error?: Error | undefined }) => {
      if (evt.error) settle(evt.error)
      else check()
    }
    const onAbort = () => {
      const err = signal?.reason instanceof Error ? signal.reason : new Error('aborted')
      settle(err) // before abort(), which emits 'end'
      stream.abort(err)
    }
    if (signal?.aborted) {
      onAbort()
      return
    }
    signal?.addEventListener('abort', onAbort, { once: true })
    stream.addEventListener('message', onMessage)
    stream.addEventListener('end', onEnd)
    stream.addEventListener('remoteCloseWrite', onEnd)
    stream.addEventListener('close', onClose)
    check()
  })
}
