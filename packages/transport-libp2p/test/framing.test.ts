import { describe, expect, it } from 'vitest'
import {
  decodeMessage,
  encodeFrame,
  FrameDecoder,
  FrameTooLargeError,
  InvalidMessageError,
  MAX_MESSAGE_BYTES,
  TruncatedFrameError,
} from '../src/index.ts'

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex')
const decodeAll = (decoder: FrameDecoder) => {
  const out: unknown[] = []
  for (let p = decoder.next(); p; p = decoder.next()) out.push(decodeMessage(p))
  return out
}
const catchError = (fn: () => unknown): Error => {
  try {
    fn()
  } catch (err) {
    return err as Error
  }
  throw new Error('expected a throw')
}

// Spec §3.3, with the length corrected: the message is 58 bytes (0x3a), not the 56 (0x38) the
// draft's hex example says.
const SPEC_MESSAGE = '{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{}}'
const SPEC_FRAME =
  '0000003a' +
  '7b226a736f6e727063223a22322e30' + // {"jsonrpc":"2.0
  '222c226964223a312c226d6574686f' + // ","id":1,"metho
  '64223a22746f6f6c732f6c69737422' + // d":"tools/list"
  '2c22706172616d73223a7b7d7d' // ,"params":{}}

describe('encodeFrame', () => {
  it('encodes the spec example (§3.3) to the exact bytes, with the corrected 0x3a length', () => {
    expect(Buffer.byteLength(SPEC_MESSAGE)).toBe(58)
    const frame = encodeFrame({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} })
    expect(hex(frame)).toBe(SPEC_FRAME)
    expect(hex(encodeFrame(SPEC_MESSAGE))).toBe(SPEC_FRAME)
  })

  it('counts UTF-8 bytes, not UTF-16 units, in the length prefix', () => {
    const frame = encodeFrame({ jsonrpc: '2.0', method: 'n', params: { t: 'é✓😀' } })
    expect(new DataView(frame.buffer, frame.byteOffset).getUint32(0, false)).toBe(frame.byteLength - 4)
    expect(Buffer.from(frame.subarray(4)).toString('utf8')).toContain('é✓😀')
  })

  it('refuses a message over the limit', () => {
    const err = catchError(() => encodeFrame('x'.repeat(101), 100))
    expect(err).toBeInstanceOf(FrameTooLargeError)
    expect(err).toMatchObject({ code: 'INVALID_PARAMS', length: 101, limit: 100 })
    expect(err.message).toBe('Message too large: 101 bytes exceeds the limit of 100 bytes')
    expect(() => encodeFrame('x'.repeat(100), 100)).not.toThrow()
  })
})

describe('FrameDecoder', () => {
  it('decodes the spec example', () => {
    const d = new FrameDecoder()
    d.push(Buffer.from(SPEC_FRAME, 'hex'))
    expect(decodeAll(d)).toEqual([JSON.parse(SPEC_MESSAGE)])
    expect(d.bufferedBytes).toBe(0)
    expect(() => d.end()).not.toThrow()
  })

  it('reassembles a frame split at every byte boundary', () => {
    const bytes = Buffer.from(SPEC_FRAME + SPEC_FRAME, 'hex')
    for (let cut = 1; cut < bytes.length; cut++) {
      const d = new FrameDecoder()
      d.push(bytes.subarray(0, cut))
      const first = decodeAll(d)
      d.push(bytes.subarray(cut))
      expect([...first, ...decodeAll(d)]).toHaveLength(2)
    }
    const d = new FrameDecoder() // one byte per chunk
    const seen: unknown[] = []
    for (const byte of bytes) {
      d.push(Uint8Array.of(byte))
      seen.push(...decodeAll(d))
    }
    expect(seen).toEqual([JSON.parse(SPEC_MESSAGE), JSON.parse(SPEC_MESSAGE)])
  })

  it('decodes many frames from one chunk, and from a list of buffers', () => {
    const messages = Array.from({ length: 50 }, (_, i) => ({ jsonrpc: '2.0' as const, id: i, method: 'ping' }))
    const chunk = Buffer.concat(messages.map((m) => encodeFrame(m)))
    const d = new FrameDecoder()
    d.push(chunk)
    expect(decodeAll(d)).toEqual(messages)
    const list = new FrameDecoder()
    list.push([chunk.subarray(0, 7), chunk.subarray(7, 300), chunk.subarray(300)])
    expect(decodeAll(list)).toEqual(messages)
  })

  it('accepts a payload of exactly the limit and rejects one byte more as soon as the prefix arrives', () => {
    const d = new FrameDecoder({ maxMessageBytes: 64 })
    const ok = `{"jsonrpc":"2.0","method":"n","params":{"p":"${'x'.repeat(64 - 48)}"}}`
    expect(Buffer.byteLength(ok)).toBe(64)
    d.push(encodeFrame(ok, 64))
    expect(decodeAll(d)).toHaveLength(1)
    const big = new FrameDecoder({ maxMessageBytes: 64 })
    big.push(Buffer.from('00000041', 'hex')) // 65: only the prefix, no payload buffered
    const err = catchError(() => big.next())
    expect(err).toBeInstanceOf(FrameTooLargeError)
    expect(err).toMatchObject({ length: 65, limit: 64, jsonRpcCode: -32600 })
  })

  it('defaults to the 16 MiB limit of spec §3.2', () => {
    expect(MAX_MESSAGE_BYTES).toBe(16_777_216)
    const d = new FrameDecoder()
    d.push(Buffer.from('01000000', 'hex')) // exactly 16 MiB announced: waits for the payload
    expect(d.next()).toBeUndefined()
    const over = new FrameDecoder()
    over.push(Buffer.from('01000001', 'hex'))
    expect(catchError(() => over.next())).toMatchObject({ length: 16_777_217, limit: MAX_MESSAGE_BYTES })
  })

  it('rejects a garbage length (ffffffff) without allocating it', () => {
    const d = new FrameDecoder()
    d.push(Buffer.from('ffffffff7b7d', 'hex'))
    expect(catchError(() => d.next())).toMatchObject({ length: 0xffffffff, limit: MAX_MESSAGE_BYTES })
  })

  it('reports a frame truncated by the end of the stream', () => {
    const frame = Buffer.from(SPEC_FRAME, 'hex')
    const d = new FrameDecoder()
    d.push(frame.subarray(0, 20))
    expect(d.next()).toBeUndefined()
    const err = catchError(() => d.end())
    expect(err).toBeInstanceOf(TruncatedFrameError)
    expect(err).toMatchObject({ code: 'CONNECTION', expected: 58, received: 16 })
    expect(err.message).toBe('Stream ended inside a frame: got 16 of the 58 payload bytes the length prefix announced')
    const prefix = new FrameDecoder()
    prefix.push(Uint8Array.of(0, 0))
    expect(prefix.next()).toBeUndefined()
    expect(catchError(() => prefix.end()).message).toBe('Stream ended inside a frame: got 2 of the 4 length-prefix bytes')
  })
})

describe('decodeMessage', () => {
  const bytes = (s: string) => Buffer.from(s, 'utf8')
  const invalid = (payload: Uint8Array) => catchError(() => decodeMessage(payload)) as InvalidMessageError

  it('rejects invalid UTF-8 with -32700', () => {
    const err = invalid(Buffer.from([0x7b, 0x22, 0xc3, 0x28, 0x22, 0x7d])) // {"\xc3(" }
    expect(err).toBeInstanceOf(InvalidMessageError)
    expect(err).toMatchObject({ reason: 'utf8', jsonRpcCode: -32700, id: null })
    expect(err.message).toBe('Parse error: the message is not valid UTF-8')
    expect(invalid(Buffer.from([0xff, 0xfe]))).toMatchObject({ reason: 'utf8' })
  })

  it('rejects invalid JSON with -32700', () => {
    const err = invalid(bytes('{"jsonrpc":"2.0",'))
    expect(err).toMatchObject({ reason: 'json', jsonRpcCode: -32700, code: 'INVALID_PARAMS' })
    expect(err.message).toMatch(/^Parse error: the message is not valid JSON/)
    expect(invalid(bytes(''))).toMatchObject({ reason: 'json' })
  })

  it('rejects JSON that is not a JSON-RPC 2.0 message with -32600, keeping a usable id', () => {
    const cases: [string, string][] = [
      ['[1,2]', 'expected a JSON object'],
      ['"hello"', 'expected a JSON object'],
      ['{"jsonrpc":"1.0","id":1,"method":"ping"}', '"jsonrpc" must be "2.0"'],
      ['{"jsonrpc":"2.0","id":1}', 'expected "method", "result" or "error"'],
      ['{"jsonrpc":"2.0","id":{},"method":"ping"}', '"id" must be a string or a number'],
      ['{"jsonrpc":"2.0","id":1,"method":5}', '"method" must be a non-empty string'],
      ['{"jsonrpc":"2.0","id":1,"method":"x","params":[1]}', '"params" must be an object'],
      ['{"jsonrpc":"2.0","id":1,"error":{"code":"x"}}', '"error" must have an integer "code" and a string "message"'],
      ['{"jsonrpc":"2.0","result":{}}', '"id" must be a string or a number'],
    ]
    for (const [json, why] of cases) {
      const err = invalid(bytes(json))
      expect(err).toMatchObject({ reason: 'jsonrpc', jsonRpcCode: -32600 })
      expect(err.message).toBe(`Invalid Request: not a JSON-RPC 2.0 message (${why})`)
    }
    expect(invalid(bytes('{"jsonrpc":"1.0","id":7,"method":"ping"}')).id).toBe(7)
  })

  it('accepts requests, notifications, results and errors (id null allowed on errors)', () => {
    for (const m of [
      { jsonrpc: '2.0', id: 'a', method: 'tools/list' },
      { jsonrpc: '2.0', method: 'notifications/initialized' },
      { jsonrpc: '2.0', id: 3, result: {} },
      { jsonrpc: '2.0', id: null, error: { code: -32700, message: 'Parse error' } },
    ]) {
      expect(decodeMessage(bytes(JSON.stringify(m)))).toEqual(m)
    }
  })
})
