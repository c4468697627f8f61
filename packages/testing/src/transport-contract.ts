import type { AgoraServer } from '@agora/core'
import type { Client } from '@modelcontextprotocol/client'
import { afterEach, describe, expect, it } from 'vitest'
import type { FixtureProbe } from './fixture-server.ts'
import { createFixtureServer } from './fixture-server.ts'

/** A connected client plus how to tear the connection (and its server) down. */
export interface ContractConnection {
  client: Client
  close(): Promise<void>
}

export interface TransportContractOptions {
  /** Serves `server` over the transport under test and returns a connected SDK client. */
  connect(server: AgoraServer): Promise<ContractConnection>
  /** The `ctx.transport.kind` the server should report. */
  transportKind: string
  /** Largest argument the transport must carry in one request (bytes). Default 1 MiB. */
  largeMessageBytes?: number
}

const text = (r: { content?: unknown }) =>
  ((r.content as { type: string; text?: string }[] | undefined)?.[0]?.text ?? '') as string

/**
 * The contract every Agora transport passes: listing, calls, validation, errors without stacks,
 * progress, concurrency, large messages, cancellation and caller identity.
 *
 * @example
 * ```ts
 * transportContract('http', { transportKind: 'http', connect: async (server) => { ... } })
 * ```
 */
export function transportContract(name: string, options: TransportContractOptions): void {
  describe(`transport contract: ${name}`, () => {
    let open: ContractConnection | undefined
    const connect = async () => {
      const fx = createFixtureServer()
      open = await options.connect(fx.server)
      return open.client
    }
    afterEach(async () => {
      await open?.close()
      open = undefined
    })

    it('lists tools with JSON Schemas and prices', async () => {
      const client = await connect()
      const { tools } = await client.listTools()
      const echo = tools.find((t) => t.name === 'echo')
      expect(echo?.inputSchema).toMatchObject({ type: 'object', properties: { text: { type: 'string' } }, required: ['text'] })
      expect(tools.find((t) => t.name === 'priced')?._meta?.['agora/price']).toEqual({ amount: '0.05', asset: 'USDC' })
      expect(tools.find((t) => t.name === 'add')?.outputSchema).toMatchObject({ type: 'object' })
    })

    it('calls a tool and returns text and structured content', async () => {
      const client = await connect()
      expect(text(await client.callTool({ name: 'echo', arguments: { text: 'héllo ✓' } }))).toBe('héllo ✓')
      const sum = await client.callTool({ name: 'add', arguments: { a: 2, b: 40 } })
      expect(sum.structuredContent).toEqual({ sum: 42 })
    })

    it('rejects arguments failing the schema with -32602 naming the field', async () => {
      const client = await connect()
      const err = await client.callTool({ name: 'add', arguments: { a: 1, b: 'two' } }).catch((e: unknown) => e)
      expect(err).toMatchObject({ code: -32602 })
      expect(String((err as Error).message)).toMatch(/\bb\b.*expected number/)
    })

    it('rejects an unknown tool with -32602', async () => {
      const client = await connect()
      const err = await client.callTool({ name: 'nope', arguments: {} }).catch((e: unknown) => e)
      expect(err).toMatchObject({ code: -32602 })
      expect(String((err as Error).message)).toContain('Unknown tool: nope')
    })

    it('turns a throwing handler into an isError result without a stack trace', async () => {
      const client = await connect()
      const r = await client.callTool({ name: 'fail', arguments: {} })
      expect(r.isError).toBe(true)
      expect(text(r)).toBe('kaboom: database unreachable')
      expect(JSON.stringify(r)).not.toMatch(/\n\s+at |\.ts:\d+/)
      const refused = await client.callTool({ name: 'refuse', arguments: {} })
      expect(refused).toMatchObject({ isError: true, content: [{ type: 'text', text: 'no such city' }] })
    })

    it('refuses a priced tool when no payment rail is configured, without running it', async () => {
      const client = await connect()
      const err = await client.callTool({ name: 'priced', arguments: {} }).catch((e: unknown) => e)
      expect(err).toMatchObject({ code: -31402 })
      expect(String((err as Error).message)).toContain('0.05 USDC')
    })

    it('delivers progress notifications', async () => {
      const client = await connect()
      const seen: number[] = []
      const r = await client.callTool({ name: 'progress', arguments: { steps: 3 } }, { onprogress: (p) => seen.push(p.progress) })
      expect(text(r)).toBe('did 3 steps')
      expect(seen).toEqual([1, 2, 3])
    })

    it('answers concurrent calls, each with its own result', async () => {
      const client = await connect()
      const delays = [60, 10, 40, 0, 30, 20, 50, 5]
      const results = await Promise.all(
        delays.map((ms, i) => client.callTool({ name: 'delay', arguments: { ms, tag: `call-${i}` } })),
      )
      expect(results.map(text)).toEqual(delays.map((_, i) => `call-${i}`))
    })

    it('carries a large message both ways', async () => {
      const client = await connect()
      const big = 'x'.repeat(options.largeMessageBytes ?? 1024 * 1024)
      const r = await client.callTool({ name: 'echo', arguments: { text: big } })
      expect(text(r).length).toBe(big.length)
    })

    it('aborts the handler when the client cancels', async () => {
      const client = await connect()
      const controller = new AbortController()
      const call = client.callTool({ name: 'hang', arguments: {} }, { signal: controller.signal })
      // The server may run in another process: observe it through the `probe` tool.
      const probe = async () =>
        (await client.callTool({ name: 'probe', arguments: {} })).structuredContent as unknown as FixtureProbe
      await expect.poll(async () => (await probe()).hangs, { timeout: 5000 }).toBe(1)
      controller.abort('user gave up')
      await expect(call).rejects.toThrow()
      await expect.poll(async () => (await probe()).aborted, { timeout: 5000 }).toContain('hang')
      // The connection still serves other calls.
      expect(text(await client.callTool({ name: 'echo', arguments: { text: 'still here' } }))).toBe('still here')
    })

    it('answers with a timeout error when a handler ignores its deadline', async () => {
      const client = await connect()
      const r = await client.callTool({ name: 'sleepy', arguments: {} })
      expect(r.isError).toBe(true)
      expect(text(r)).toContain('timed out after 200 ms')
    })

    it('tells the handler who is calling and over what', async () => {
      const client = await connect()
      const r = await client.callTool({ name: 'whoami', arguments: {} })
      expect(r.structuredContent).toMatchObject({ transport: options.transportKind })
    })
  })
}
