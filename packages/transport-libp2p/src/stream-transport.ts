import type { Logger } from '@agora/core'
import { silentLogger } from '@agora/core'
import { AgoraError } from '@agora/core/errors'
import type { Connection, Stream, StreamCloseEvent, StreamMessageEvent } from '@libp2p/interface'
import type { JSONRPCMessage, JSONRPCRequest, MessageExtraInfo, Transport } from '@modelcontextprotocol/server'
import { FrameTooLargeError, type InvalidMessageError } from './frame-errors.ts'
import { FrameWriter } from './frame-writer.ts'
import { decodeMessage, encodeFrame, FrameDecoder } from './framing.ts'
import { IdleTimer } from './idle-timer.ts'
import { InflightRequests } from './inflight.ts'
import { peerAuthInfo } from './peer-identity.ts'
import { LENGTH_PREFIX_BYTES, MAX_MESSAGE_BYTES } from './protocol.ts'

export interface Libp2pStreamTransportOptions {
  /**
   * `server` (default for inbound streams): tags each message with the peer's verified identity
   * and answers undecodable frames with JSON-RPC errors. `client` (default for outbound streams).
   */
  role?: 'client' | 'server' | undefined
  /** Largest message sent or accepted, in bytes. Default 16 MiB. */
  maxMessageBytes?: number | undefined
  /** Close the stream after this long without traffic and with no request in flight (ms). Default: never. */
  inactivityTimeoutMs?: number | undefined
  /** How long a graceful close waits for in-flight requests and for the peer (ms). Default 5000. */
  closeTimeoutMs?: number | undefined
  /** Looks at each inbound request first: a returned message is sent as its answer instead of delivering it. */
  screen?: ((request: JSONRPCRequest) => JSONRPCMessage | undefined) | undefined
  logger?: Logger | undefined
}

type State = 'new' | 'open' | 'closing' | 'closed'

/**
 * An MCP SDK `Transport` over one libp2p stream speaking `/mcp/1.0.0`: u32 big-endian framed
 * JSON-RPC both ways, many requests in flight, back-pressure on send, graceful half-close.
 * `onclose` fires exactly once, whether the stream ends by `close()`, by the peer, or by a reset.
 *
 * @example
 * ```ts
 * await node.handle(MCP_PROTOCOL, async (stream, connection) => {
 *   await createSdkServer(server, { transport: 'libp2p' }).connect(new Libp2pStreamTransport(stream, connection))
 * })
 * ```
 */
export class Libp2pStreamTransport implements Transport {
  onclose?: (() => void) | undefined
  onerror?: ((error: Error) => void) | undefined
  onmessage?: (<T extends JSONRPCMessage>(message: T, extra?: MessageExtraInfo) => void) | undefined
  readonly stream: Stream
  readonly connection: Connection
  /** The PeerId at the other end, verified by the Noise handshake. */
  readonly remotePeer: string
  /** The negotiated protocol, e.g. `/mcp/1.0.0`. */
  readonly protocol: string
  readonly #role: 'client' | 'server'
  readonly #max: number
  readonly #options: Libp2pStreamTransportOptions
  readonly #log: Logger
  readonly #extra: MessageExtraInfo | undefined
  readonly #decoder: FrameDecoder
  readonly #writer: FrameWriter
  readonly #inflight = new InflightRequests()
  readonly #ended = Promise.withResolvers<void>()
  #state: State = 'new'
  #closing: Promise<void> | undefined
  #abortError: Error | undefined
  readonly #idle: IdleTimer

  constructor(stream: Stream, connection: Connection, options: Libp2pStreamTransportOptions = {}) {
    this.stream = stream
    this.connection = connection
    this.remotePeer = connection.remotePeer.toString()
    this.protocol = stream.protocol
    this.#role = options.role ?? (stream.direction === 'inbound' ? 'server' : 'client')
    this.#max = options.maxMessageBytes ?? MAX_MESSAGE_BYTES
    this.#options = options
    this.#log = options.logger ?? silentLogger
    this.#extra = this.#role === 'server' ? Object.freeze({ authInfo: peerAuthInfo(this.remotePeer) }) : undefined
    this.#decoder = new FrameDecoder({ maxMessageBytes: this.#max })
    this.#writer = new FrameWriter(stream)
    this.#idle = new IdleTimer(
      options.inactivityTimeoutMs,
      () => this.#inflight.size > 0,
      (idleMs) => {
        if (this.#state !== 'open') return
        this.#log.info('closing an idle stream', { peer: this.remotePeer, idleMs })
        void this.close()
      },
    )
    // Bytes that arrive before start() wait in the stream's buffer: make room for one whole frame.
    stream.maxReadBufferLength = Math.max(stream.maxReadBufferLength, this.#max + LENGTH_PREFIX_BYTES + 65_536)
  }

  /** Begins reading the stream (the SDK's `connect()` calls this). */
  async start(): Promise<void> {
    if (this.#state !== 'new') throw new AgoraError('CONFIG', 'Libp2pStreamTransport already started')
    this.#state = 'open'
    this.stream.addEventListener('message', this.#onData)
    this.stream.addEventListener('remoteCloseWrite', this.#onRemoteCloseWrite)
    this.stream.addEventListener('close', this.#onStreamClose)
    if (this.stream.status !== 'open') {
      const status = this.stream.status
      this.#finish()
      throw new AgoraError(
        'CONNECTION',
        `the libp2p stream to ${this.remotePeer} was ${status} before it started (refused by the peer?)`,
      )
    }
    // Already half-closed by the peer: its buffered data is delivered first (queued by addEventListener).
    if (this.stream.remoteWriteStatus === 'closed') this.#onRemoteCloseWrite()
    this.#idle.start()
  }

  /** Frames and writes one message; waits while the stream asks to drain (back-pressure). */
  async send(message: JSONRPCMessage): Promise<void> {
    if (this.#state === 'closed' || this.stream.writeStatus !== 'writable') {
      throw new AgoraError('CONNECTION', `cannot send: the libp2p stream to ${this.remotePeer} is closed`)
    }
    let frame: Uint8Array
    try {
      frame = encodeFrame(message, this.#max)
    } catch (err) {
      // A response too large to send still answers its request, so the requester does not hang.
      const id = (message as { id?: unknown }).id
      if (!(err instanceof FrameTooLargeError) || !('result' in message) || (typeof id !== 'string' && typeof id !== 'number')) {
        throw err
      }
      frame = encodeFrame({ jsonrpc: '2.0', id, error: { code: -32603, message: `Internal error: ${err.message}` } })
    }
    this.#idle.touch()
    this.#inflight.answered(message)
    await this.#writer.write(frame)
  }

  /**
   * Closes gracefully: in-flight requests from the peer are answered first, queued writes are
   * flushed, then the write end is half-closed and the peer gets `closeTimeoutMs` to close its own.
   */
  close(): Promise<void> {
    this.#closing ??= this.#closeGracefully()
    return this.#closing
  }

  async #closeGracefully(): Promise<void> {
    if (this.#state === 'closed') return
    if (this.#state === 'new') {
      // Never started: no listeners, nothing in flight. Hang up without waiting for the peer.
      this.#abort(new AgoraError('CONNECTION', 'the transport was closed before it started'))
      this.#finish()
      return
    }
    const deadline = Date.now() + (this.#options.closeTimeoutMs ?? 5000)
    const left = () => Math.max(0, deadline - Date.now())
    if (this.#state === 'open') {
      this.#state = 'closing'
      await this.#inflight.settled(left())
    }
    await this.#writer.flushed()
    try {
      await this.stream.close({ signal: AbortSignal.timeout(Math.max(1, left())) })
    } catch {}
    if (!this.#closed) await Promise.race([this.#ended.promise, delay(left())])
    if (!this.#closed) {
      const err = new AgoraError('TIMEOUT', `the peer ${this.remotePeer} did not close its end of the stream in time`)
      this.#report(err)
      this.#abort(err)
    }
    this.#finish()
  }

  get #closed(): boolean {
    return this.#state === 'closed'
  }

  readonly #onData = (evt: StreamMessageEvent): void => {
    this.#idle.touch()
    this.#decoder.push(evt.data)
    while (this.#state !== 'closed') {
      let payload: Uint8Array | undefined
      try {
        payload = this.#decoder.next()
      } catch (err) {
        this.#refuseFrame(err as FrameTooLargeError)
        return
      }
      if (payload === undefined) return
      let message: JSONRPCMessage
      try {
        message = decodeMessage(payload)
      } catch (err) {
        this.#invalidMessage(err as InvalidMessageError)
        continue
      }
      this.#deliver(message)
    }
  }

  #deliver(message: JSONRPCMessage): void {
    if ('method' in message && 'id' in message) {
      const answer = this.#state === 'open' ? this.#options.screen?.(message) : closingAnswer(message)
      if (answer !== undefined) {
        this.#reply(answer)
        return
      }
    }
    this.#inflight.received(message)
    try {
      this.onmessage?.(message, this.#extra)
    } catch (err) {
      // Never let a handler's exception escape into libp2p's event dispatch (it would be uncaught).
      this.#report(err instanceof Error ? err : new Error(String(err)))
    }
  }

  /** Answers the peer directly (rate limits, closing, undecodable frames): not a response to count. */
  #reply(message: JSONRPCMessage): void {
    if (this.stream.writeStatus !== 'writable') return
    this.#writer.write(encodeFrame(message)).catch((err: Error) => this.#report(err))
  }

  /** An oversized frame: answer `-32600` when serving, then reset the stream (its framing is lost). */
  #refuseFrame(err: FrameTooLargeError): void {
    this.#log.warn('oversized frame, resetting the stream', { peer: this.remotePeer, length: err.length, limit: err.limit })
    this.#report(err)
    if (this.#role === 'server' && this.stream.writeStatus === 'writable') {
      try {
        this.stream.send(
          encodeFrame({ jsonrpc: '2.0', id: null, error: { code: err.jsonRpcCode, message: err.message } } as never),
        )
      } catch {}
    }
    this.#abort(err)
  }

  /** A complete frame that is not a JSON-RPC message: report it, answer it when serving, go on. */
  #invalidMessage(err: InvalidMessageError): void {
    this.#report(err)
    if (this.#role !== 'server') return
    this.#reply({ jsonrpc: '2.0', id: err.id, error: { code: err.jsonRpcCode, message: err.message } } as JSONRPCMessage)
  }

  /**
   * The peer closed its write end. Handled a microtask later: Yamux reports a FIN before the data
   * of the same frame, and that data must still be read (and not be taken for a truncated frame).
   */
  readonly #onRemoteCloseWrite = (): void => {
    queueMicrotask(this.#peerDone)
  }

  readonly #peerDone = (): void => {
    if (this.#state === 'closed') return
    try {
      this.#decoder.end()
    } catch (err) {
      this.#report(err as Error)
    }
    // The peer sends nothing more: answer what is in flight, then close our end too.
    void this.close()
  }

  readonly #onStreamClose = (evt: StreamCloseEvent): void => {
    if (evt.error && evt.error !== this.#abortError) {
      const how = evt.local ? 'aborted' : 'reset by the peer'
      this.#report(
        new AgoraError('CONNECTION', `libp2p stream to ${this.remotePeer} ${how}: ${evt.error.message}`, { cause: evt.error }),
      )
    }
    this.#finish()
  }

  #abort(err: Error): void {
    this.#abortError = err
    this.stream.abort(err)
  }

  #report(err: Error): void {
    this.onerror?.(err)
  }

  #finish(): void {
    if (this.#state === 'closed') return
    this.#state = 'closed'
    this.#idle.stop()
    this.#inflight.clear()
    this.stream.removeEventListener('message', this.#onData)
    this.#ended.resolve()
    this.onclose?.()
  }
}

const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms).unref())

function closingAnswer(request: JSONRPCRequest): JSONRPCMessage {
  const err = new AgoraError('CONNECTION', 'The stream is closing: request not accepted')
  return { jsonrpc: '2.0', id: request.id, error: { code: err.wireCode, message: err.message, data: err.toWireData() } }
}
