import { isJsonRpcId, jsonRpcProblem } from '@agora/core'
import type { JSONRPCMessage } from '@modelcontextprotocol/server'
import { FrameTooLargeError, InvalidMessageError, TruncatedFrameError } from './frame-errors.ts'
import { LENGTH_PREFIX_BYTES, MAX_MESSAGE_BYTES } from './protocol.ts'

/** A chunk as libp2p streams deliver it: one buffer, or a list of buffers (`Uint8ArrayList`). */
export type Chunk = Uint8Array | Iterable<Uint8Array>

/**
 * Frames one message (spec §3): a big-endian u32 byte length, then the UTF-8 JSON. A string is
 * taken as already-serialized JSON.
 *
 * @example
 * ```ts
 * encodeFrame({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} }) // 0000003a 7b226a73…
 * ```
 */
export function encodeFrame(message: JSONRPCMessage | string, maxMessageBytes = MAX_MESSAGE_BYTES): Uint8Array {
  const json = typeof message === 'string' ? message : JSON.stringify(message)
  const length = Buffer.byteLength(json)
  if (length > maxMessageBytes) throw new FrameTooLargeError(length, maxMessageBytes)
  const frame = Buffer.allocUnsafe(LENGTH_PREFIX_BYTES + length)
  frame.writeUInt32BE(length, 0)
  frame.write(json, LENGTH_PREFIX_BYTES, 'utf8')
  return frame
}

/**
 * Splits a byte stream into frame payloads, whatever the chunking: a frame split across chunks,
 * many frames in one chunk. Rejects a length above the limit as soon as the prefix is read, so an
 * oversized frame is never buffered.
 *
 * @example
 * ```ts
 * const decoder = new FrameDecoder()
 * stream.addEventListener('message', (evt) => {
 *   decoder.push(evt.data)
 *   for (let p = decoder.next(); p; p = decoder.next()) console.log(decodeMessage(p))
 * })
 * ```
 */
export class FrameDecoder {
  readonly maxMessageBytes: number
  #chunks: Uint8Array[] = []
  #buffered = 0
  /** Payload length of the frame being read, or -1 while its prefix is incomplete. */
  #need = -1

  constructor(options: { maxMessageBytes?: number | undefined } = {}) {
    this.maxMessageBytes = options.maxMessageBytes ?? MAX_MESSAGE_BYTES
  }

  /** Bytes received but not yet returned as payloads. */
  get bufferedBytes(): number {
    return this.#buffered
  }

  /** Appends received bytes. */
  push(chunk: Chunk): void {
    if (chunk instanceof Uint8Array) this.#append(chunk)
    else for (const buf of chunk) this.#append(buf)
  }

  /** The next complete payload, or undefined until more bytes arrive. Throws {@link FrameTooLargeError}. */
  next(): Uint8Array | undefined {
    if (this.#need === -1) {
      if (this.#buffered < LENGTH_PREFIX_BYTES) return undefined
      const prefix = this.#take(LENGTH_PREFIX_BYTES)
      const length = ((prefix[0]! << 24) | (prefix[1]! << 16) | (prefix[2]! << 8) | prefix[3]!) >>> 0
      if (length > this.maxMessageBytes) throw new FrameTooLargeError(length, this.maxMessageBytes)
      this.#need = length
    }
    if (this.#buffered < this.#need) return undefined
    const payload = this.#take(this.#need)
    this.#need = -1
    return payload
  }

  /** Call when the stream ends: throws {@link TruncatedFrameError} if part of a frame is buffered. */
  end(): void {
    if (this.#buffered === 0 && this.#need === -1) return
    throw new TruncatedFrameError(this.#need === -1 ? undefined : this.#need, this.#buffered)
  }

  #append(buf: Uint8Array): void {
    if (buf.byteLength === 0) return
    this.#chunks.push(buf)
    this.#buffered += buf.byteLength
  }

  /** Removes and returns the first `n` buffered bytes (`n` ≤ buffered); zero-copy when they sit in one chunk. */
  #take(n: number): Uint8Array {
    this.#buffered -= n
    const first = this.#chunks[0]
    if (n === 0) return new Uint8Array(0)
    if (first && first.byteLength >= n) {
      if (first.byteLength === n) this.#chunks.shift()
      else this.#chunks[0] = first.subarray(n)
      return first.subarray(0, n)
    }
    const out = new Uint8Array(n)
    let at = 0
    while (at < n) {
      const chunk = this.#chunks[0]!
      const used = Math.min(chunk.byteLength, n - at)
      out.set(used === chunk.byteLength ? chunk : chunk.subarray(0, used), at)
      at += used
      if (used === chunk.byteLength) this.#chunks.shift()
      else this.#chunks[0] = chunk.subarray(used)
    }
    return out
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })

/**
 * Reads a frame payload as a JSON-RPC 2.0 message. Throws {@link InvalidMessageError} (reason
 * `utf8`, `json` or `jsonrpc`) for anything else.
 *
 * @example
 * ```ts
 * decodeMessage(new TextEncoder().encode('{"jsonrpc":"2.0","method":"notifications/initialized"}'))
 * ```
 */
export function decodeMessage(payload: Uint8Array): JSONRPCMessage {
  let text: string
  try {
    text = utf8.decode(payload)
  } catch (err) {
    throw new InvalidMessageError('utf8', 'Parse error: the message is not valid UTF-8', null, err)
  }
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (err) {
    throw new InvalidMessageError('json', `Parse error: the message is not valid JSON (${(err as Error).message})`, null, err)
  }
  const problem = jsonRpcProblem(value)
  if (problem !== undefined) {
    const id = (value as { id?: unknown } | null)?.id
    const usable = isJsonRpcId(id) ? id : null
    throw new InvalidMessageError('jsonrpc', `Invalid Request: not a JSON-RPC 2.0 message (${problem})`, usable)
  }
  return value as JSONRPCMessage
}
