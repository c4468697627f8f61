import type { AgoraServer } from '@agora/core'
import { createSdkServer, silentLogger } from '@agora/core'
import { AgoraError } from '@agora/core/errors'
import type { InitializeResult, JSONRPCMessage, Prompt, Resource, ResourceTemplateType, Tool } from '@modelcontextprotocol/server'
import {
  InMemoryTransport,
  isJSONRPCErrorResponse,
  isJSONRPCResultResponse,
  LATEST_PROTOCOL_VERSION,
} from '@modelcontextprotocol/server'

/** What a server shows an anonymous client: its `initialize` result and every list it offers. */
export interface ServerSnapshot {
  readonly initialize: InitializeResult
  /** Present when the server has the tools capability. */
  readonly tools?: Tool[] | undefined
  /** Present when the server has the resources capability. */
  readonly resources?: Resource[] | undefined
  /** Present when the server has the resources capability. */
  readonly resourceTemplates?: ResourceTemplateType[] | undefined
  /** Present when the server has the prompts capability. */
  readonly prompts?: Prompt[] | undefined
}

export interface SnapshotOptions {
  /** The protocol version asked for in `initialize`. Default: the SDK's latest. */
  protocolVersion?: string | undefined
  signal?: AbortSignal | undefined
}

const MAX_PAGES = 1000

/**
 * Asks the real server (the SDK server `createSdkServer` builds, gates included) for its
 * `initialize` result and all its lists, following `nextCursor`, over an in-memory connection as
 * an anonymous caller. So an announcement shows exactly what a public client would see.
 *
 * Speaks JSON-RPC over the SDK's `InMemoryTransport` by hand because the SDK `Client` lives in
 * `@modelcontextprotocol/client`, which is not a runtime dependency of this package.
 *
 * @example
 * ```ts
 * const snap = await snapshotServer(server)
 * snap.initialize.serverInfo.name // 'weather'
 * snap.tools?.map((t) => t.name)  // ['forecast']
 * ```
 */
export async function snapshotServer(server: AgoraServer, options: SnapshotOptions = {}): Promise<ServerSnapshot> {
  const { signal } = options
  const cancelled = () => new AgoraError('CANCELLED', 'snapshot aborted', { cause: signal?.reason })
  if (signal?.aborted) throw cancelled()
  const [local, remote] = InMemoryTransport.createLinkedPair()
  const sdk = createSdkServer(server, { transport: 'memory', logger: silentLogger })
  const pending = new Map<number, { resolve: (result: unknown) => void; reject: (err: Error) => void }>()
  let nextId = 1
  local.onmessage = (message: JSONRPCMessage) => {
    if (isJSONRPCResultResponse(message) || isJSONRPCErrorResponse(message)) {
      const waiter = pending.get(Number(message.id))
      pending.delete(Number(message.id))
      if (!waiter) return
      if (isJSONRPCResultResponse(message)) waiter.resolve(message.result)
      else waiter.reject(new AgoraError('INTERNAL', `snapshot: ${message.error.message}`, { data: message.error }))
    }
  }
  const request = <T>(method: string, params: Record<string, unknown>): Promise<T> => {
    if (signal?.aborted) return Promise.reject(cancelled())
    const id = nextId++
    return new Promise<T>((resolve, reject) => {
      pending.set(id, { resolve: resolve as (result: unknown) => void, reject })
      local.send({ jsonrpc: '2.0', id, method, params }).catch(reject)
    })
  }
  const listAll = async <T>(method: string, key: string): Promise<T[]> => {
    const items: T[] = []
    let cursor: string | undefined
    for (let page = 0; page < MAX_PAGES; page++) {
      const result = await request<Record<string, unknown>>(method, cursor ? { cursor } : {})
      items.push(...((result[key] as T[] | undefined) ?? []))
      cursor = typeof result.nextCursor === 'string' ? result.nextCursor : undefined
      if (!cursor) return items
    }
    throw new AgoraError('INTERNAL', `snapshot: ${method} returned more than ${MAX_PAGES} pages`)
  }

  const abort = () => {
    for (const waiter of pending.values()) waiter.reject(cancelled())
    pending.clear()
  }
  signal?.addEventListener('abort', abort, { once: true })
  try {
    await sdk.connect(remote)
    await local.start()
    const initialize = await request<InitializeResult>('initialize', {
      protocolVersion: options.protocolVersion ?? LATEST_PROTOCOL_VERSION,
      capabilities: {},
      clientInfo: { name: 'agora-nostr-announce', version: '0.1.0' },
    })
    await local.send({ jsonrpc: '2.0', method: 'notifications/initialized' })
    const caps = initialize.capabilities
    const [tools, resources, resourceTemplates, prompts] = await Promise.all([
      caps.tools ? listAll<Tool>('tools/list', 'tools') : undefined,
      caps.resources ? listAll<Resource>('resources/list', 'resources') : undefined,
      caps.resources ? listAll<ResourceTemplateType>('resources/templates/list', 'resourceTemplates') : undefined,
      caps.prompts ? listAll<Prompt>('prompts/list', 'prompts') : undefined,
    ])
    return { initialize, tools, resources, resourceTemplates, prompts }
  } finally {
    signal?.removeEventListener('abort', abort)
    await sdk.close().catch(() => {})
  }
}
