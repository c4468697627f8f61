import { Hono } from 'hono'

/** The one method an EIP-1193 provider has. */
export interface Eip1193Like {
  request(args: { method: string; params?: unknown }): Promise<unknown>
}

interface JsonRpcRequest {
  jsonrpc?: unknown
  id?: unknown
  method?: unknown
  params?: unknown
}

type JsonRpcId = string | number | null

const rpcError = (id: JsonRpcId, code: number, message: string, data?: unknown) => ({
  jsonrpc: '2.0' as const,
  id,
  error: { code, message, ...(data === undefined ? {} : { data }) },
})

/** Hex-encodes bigints, which some providers return and JSON cannot carry. */
const jsonSafe = (value: unknown): unknown =>
  JSON.parse(JSON.stringify(value, (_, v) => (typeof v === 'bigint' ? `0x${v.toString(16)}` : v)))

async function answer(provider: Eip1193Like, req: JsonRpcRequest): Promise<object | undefined> {
  const id: JsonRpcId = typeof req.id === 'string' || typeof req.id === 'number' ? req.id : null
  if (typeof req !== 'object' || req === null || req.jsonrpc !== '2.0' || typeof req.method !== 'string') {
    return rpcError(id, -32600, 'Invalid Request: expected {"jsonrpc":"2.0","method":string,...}')
  }
  try {
    const result = await provider.request({ method: req.method, params: req.params ?? [] })
    if (req.id === undefined) return undefined // a notification gets no answer
    return { jsonrpc: '2.0', id, result: jsonSafe(result ?? null) }
  } catch (err) {
    const e = err as { code?: unknown; message?: unknown; data?: unknown }
    const code = typeof e.code === 'number' ? e.code : -32603
    return rpcError(id, code, typeof e.message === 'string' ? e.message : String(err), jsonSafe(e.data))
  }
}

/**
 * An Ethereum JSON-RPC endpoint over HTTP for an in-process provider: `POST /` takes one request
 * or a batch, as `hardhat node` and wallets expect. Provider errors keep their JSON-RPC code and
 * `data` (revert data included).
 *
 * @example
 * ```ts
 * const server = await listen(createRpcApp(chain.provider), { port: 0 })
 * const client = createPublicClient({ transport: http(server.url) })
 * ```
 */
export function createRpcApp(provider: Eip1193Like): Hono {
  const app = new Hono()
  app.post('/', async (c) => {
    let body: unknown
    try {
      body = await c.req.json()
    } catch (err) {
      return c.json(rpcError(null, -32700, `Parse error: ${(err as Error).message}`), 400)
    }
    if (Array.isArray(body)) {
      if (body.length === 0) return c.json(rpcError(null, -32600, 'Invalid Request: empty batch'), 400)
      const sent: object[] = []
      for (const r of body) {
        // In order: a batch may send a transaction and then read its effects.
        const a = await answer(provider, r as JsonRpcRequest)
        if (a) sent.push(a)
      }
      return sent.length ? c.json(sent) : c.body(null, 204)
    }
    const one = await answer(provider, body as JsonRpcRequest)
    return one ? c.json(one) : c.body(null, 204)
  })
  return app
}
