import { AgoraError } from '@agora/core/errors'
import type { Stream, StreamCloseEvent } from '@libp2p/interface'

/** Frames written in one turn of the event loop are sent together, up to this many bytes per send. */
const BATCH_BYTES = 64 * 1024

interface Pending {
  frame: Uint8Array
  resolve: () => void
  reject: (err: Error) => void
}

/**
 * Writes frames to a libp2p stream in order, batching and honouring back-pressure:
 *
 * - frames written in the same event-loop turn go out as one `stream.send()` (one Yamux frame, one
 *   Noise message, fewer socket writes), up to 64 KiB per send;
 * - while the stream asks to drain (`send()` returned false), nothing more is handed to it: later
 *   frames wait here, and each `write()` resolves only once its frame was accepted and drained.
 *
 * @example
 * ```ts
 * const writer = new FrameWriter(stream)
 * await writer.write(encodeFrame(message))
 * ```
 */
export class FrameWriter {
  readonly #stream: Stream
  #queue: Pending[] = []
  /** Frames handed to the stream whose `send()` asked for a drain: they resolve when it comes. */
  #unDrained: Pending[] = []
  #scheduled = false
  #draining = false
  #idle: (() => void)[] = []

  constructor(stream: Stream) {
    this.#stream = stream
  }

  /** True while writes are waiting for the stream to drain. */
  get waiting(): boolean {
    return this.#draining
  }

  /** Queues a frame; resolves when the stream has taken it, rejects when the stream closes first. */
  write(frame: Uint8Array): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.#queue.push({ frame, resolve, reject })
      if (!this.#scheduled && !this.#draining) {
        this.#scheduled = true
        setImmediate(this.#flush)
      }
    })
  }

  /** Resolves when every queued frame was handed to the stream (or failed). */
  flushed(): Promise<void> {
    if (this.#isIdle()) return Promise.resolve()
    return new Promise<void>((resolve) => this.#idle.push(resolve))
  }

  #isIdle(): boolean {
    return this.#queue.length === 0 && !this.#draining && !this.#scheduled
  }

  readonly #flush = (): void => {
    this.#scheduled = false
    const stream = this.#stream
    while (this.#queue.length > 0) {
      if (stream.writableNeedsDrain) {
        this.#waitForDrain()
        return
      }
      let count = 1
      let bytes = this.#queue[0]!.frame.byteLength
      while (count < this.#queue.length && bytes + this.#queue[count]!.frame.byteLength <= BATCH_BYTES) {
        bytes += this.#queue[count]!.frame.byteLength
        count++
      }
      const batch = this.#queue.splice(0, count)
      const data =
        count === 1
          ? batch[0]!.frame
          : Buffer.concat(
              batch.map((p) => p.frame),
              bytes,
            )
      let accepted: boolean
      try {
        accepted = stream.send(data)
      } catch (err) {
        const error = new AgoraError('CONNECTION', `cannot write to the libp2p stream: ${(err as Error).message}`, { cause: err })
        this.#fail([...batch, ...this.#queue.splice(0)], error)
        return
      }
      if (!accepted) {
        this.#unDrained = batch
        this.#waitForDrain()
        return
      }
      for (const p of batch) p.resolve()
    }
    this.#settleIdle()
  }

  #waitForDrain(): void {
    this.#draining = true
    this.#drain().then(
      () => {
        this.#draining = false
        for (const p of this.#unDrained.splice(0)) p.resolve()
        this.#flush()
      },
      (err: Error) => {
        this.#draining = false
        this.#fail([...this.#unDrained.splice(0), ...this.#queue.splice(0)], err)
      },
    )
  }

  #fail(items: Pending[], err: Error): void {
    for (const p of items) p.reject(err)
    this.#settleIdle()
  }

  #settleIdle(): void {
    if (!this.#isIdle()) return
    for (const resolve of this.#idle.splice(0)) resolve()
  }

  /**
   * Waits for the stream's next 'drain' (or its close). Not `stream.onDrain()`: in
   * @libp2p/utils 7.4 that promise is created once and never renewed, so after the first drain it
   * resolves at once and a writer would spin without ever yielding to I/O.
   */
  #drain(): Promise<void> {
    const stream = this.#stream
    if (!stream.writableNeedsDrain) return Promise.resolve()
    if (stream.status !== 'open') return Promise.reject(closedWhileSending(new Error(`the stream is ${stream.status}`)))
    return new Promise<void>((resolve, reject) => {
      const settle = (err?: Error) => {
        stream.removeEventListener('drain', onDrain)
        stream.removeEventListener('close', onClose)
        if (err) reject(closedWhileSending(err))
        else resolve()
      }
      const onDrain = () => settle()
      const onClose = (evt: StreamCloseEvent) => settle(evt.error ?? new Error('the stream closed'))
      stream.addEventListener('drain', onDrain)
      stream.addEventListener('close', onClose)
    })
  }
}

const closedWhileSending = (cause: Error) =>
  new AgoraError('CONNECTION', `the libp2p stream closed while a message was being sent: ${cause.message}`, { cause })
