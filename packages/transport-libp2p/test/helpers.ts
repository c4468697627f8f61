import { randomBytes } from 'node:crypto'
import type { AgoraServer } from '@agora/core'
import { silentLogger } from '@agora/core'
import type { Connection, Stream } from '@libp2p/interface'
import { Client } from '@modelcontextprotocol/client'
import { multiaddr } from '@multiformats/multiaddr'
import type { AgoraNode, Libp2pServeOptions, Libp2pServerHandle } from '../src/index.ts'
import { connectLibp2p, createAgoraNode, serveLibp2p } from '../src/index.ts'

export type NetKind = 'memory' | 'tcp'

/** Starts a node listening on a fresh `/memory/<name>` address or on 127.0.0.1, port 0. */
export function startNode(kind: NetKind = 'memory'): Promise<AgoraNode> {
  const listen = kind === 'memory' ? [`/memory/${randomBytes(8).toString('hex')}`] : ['/ip4/127.0.0.1/tcp/0']
  return createAgoraNode({ listen })
}

/** Nodes, servers and clients a test started, stopped in reverse order by `stopAll()`. */
export class Harness {
  readonly #stops: (() => Promise<unknown>)[] = []

  async node(kind: NetKind = 'memory'): Promise<AgoraNode> {
    const node = await startNode(kind)
    this.#stops.push(async () => node.stop())
    return node
  }

  async serve(server: AgoraServer, node: AgoraNode, options: Libp2pServeOptions = {}): Promise<Libp2pServerHandle> {
    const handle = await serveLibp2p(server, node, { logger: silentLogger, ...options })
    this.#stops.push(() => handle.close())
    return handle
  }

  /** An SDK client connected over libp2p from `node` to `addr`. */
  async client(
    node: AgoraNode,
    addr: string,
    protocols?: string[],
    mode: 'legacy' | { pin: '2026-07-28' } = 'legacy',
  ): Promise<Client> {
    const client = new Client({ name: 'libp2p-test', version: '1.0.0' }, { versionNegotiation: { mode } })
    await client.connect(await connectLibp2p(node, addr, { protocols, signal: AbortSignal.timeout(5000) }))
    this.#stops.push(() => client.close())
    return client
  }

  /** A raw stream to `addr` on `protocol`, for speaking bytes directly. */
  async rawStream(node: AgoraNode, addr: string, protocol = '/mcp/1.0.0'): Promise<{ stream: Stream; connection: Connection }> {
    const connection = await node.dial(multiaddr(addr), { signal: AbortSignal.timeout(5000) })
    const stream = await connection.newStream([protocol], { signal: AbortSignal.timeout(5000) })
    this.#stops.push(async () => stream.abort(new Error('test over')))
    return { stream, connection }
  }

  onStop(fn: () => Promise<unknown>): void {
    this.#stops.push(fn)
  }

  async stopAll(): Promise<void> {
    const stops = this.#stops.splice(0).reverse()
    for (const stop of stops) await stop().catch(() => {})
  }
}

/** Collects what arrives on a raw stream: bytes, and whether/how it closed. */
export function record(stream: Stream): { bytes: () => Buffer; closed: Promise<{ error?: Error | undefined }> } {
  const chunks: Buffer[] = []
  stream.addEventListener('message', (evt) => {
    for (const buf of evt.data instanceof Uint8Array ? [evt.data] : evt.data) chunks.push(Buffer.from(buf))
  })
  const closed = new Promise<{ error?: Error | undefined }>((resolve) => {
    stream.addEventListener('close', (evt) => resolve({ error: evt.error }), { once: true })
  })
  return { bytes: () => Buffer.concat(chunks), closed }
}

/** The JSON messages in a buffer of u32-BE frames. */
export function frames(buf: Buffer): unknown[] {
  const out: unknown[] = []
  let at = 0
  while (at + 4 <= buf.length) {
    const len = buf.readUInt32BE(at)
    if (at + 4 + len > buf.length) break
    out.push(JSON.parse(buf.subarray(at + 4, at + 4 + len).toString('utf8')))
    at += 4 + len
  }
  return out
}

/** A u32-BE frame of `text` (not validated). */
export function rawFrame(text: string | Uint8Array): Buffer {
  const body = typeof text === 'string' ? Buffer.from(text, 'utf8') : Buffer.from(text)
  const head = Buffer.alloc(4)
  head.writeUInt32BE(body.length)
  return Buffer.concat([head, body])
}

export const INIT = {
  jsonrpc: '2.0',
  id: 0,
  method: 'initialize',
  params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1.0.0' } },
}
