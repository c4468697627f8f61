import type { AgoraServer } from '@agora/core'
import { createSdkServer, silentLogger } from '@agora/core'
import { Client, InMemoryTransport } from '@modelcontextprotocol/client'

/** Connects an SDK client to a definition in memory; every request carries `meta` in `_meta`. */
export async function connectMemory(server: AgoraServer, meta: Record<string, unknown> = {}) {
  const [a, b] = InMemoryTransport.createLinkedPair()
  const sdk = createSdkServer(server, { transport: 'memory', logger: silentLogger })
  await sdk.connect(a)
  if (Object.keys(meta).length > 0) {
    const send = b.send.bind(b)
    b.send = (message, options) => {
      const m = message as { method?: string; params?: { _meta?: Record<string, unknown> } }
      if (m.method && m.method !== 'initialize' && !m.method.startsWith('notifications/')) {
        m.params = { ...m.params, _meta: { ...m.params?._meta, ...meta } }
      }
      return send(message, options)
    }
  }
  const client = new Client({ name: 'test', version: '1.0.0' })
  await client.connect(b)
  return {
    client,
    close: async () => {
      await client.close()
      await sdk.close()
    },
  }
}

/** Awaits a promise that must reject, returning the error. */
export async function rejection(p: Promise<unknown>): Promise<Error & { code?: number; data?: Record<string, unknown> }> {
  try {
    await p
  } catch (err) {
    return err as Error & { code?: number; data?: Record<string, unknown> }
  }
  throw new Error('expected the promise to reject')
}
