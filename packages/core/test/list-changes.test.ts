/**
 * Tools, resources and prompts added to or removed from a definition while it is served: connected
 * clients of both eras hear `notifications/*\/list_changed` and see the new lists, on a connection
 * (`serveConnection`, as stdio, libp2p and Nostr serve) and over Streamable HTTP.
 */
import type { AgoraServer } from '@agora/core'
import { createServer, serveConnection, silentLogger } from '@agora/core'
import { serveHttp } from '@agora/core/http'
import type { Prompt, Tool } from '@modelcontextprotocol/client'
import { Client, InMemoryTransport, StreamableHTTPClientTransport } from '@modelcontextprotocol/client'
import { afterEach, describe, expect, it } from 'vitest'
import { z } from 'zod'
import { rejection } from './helpers.ts'

type Mode = 'legacy' | { pin: '2026-07-28' }
const eras: [string, Mode][] = [
  ['2025', 'legacy'],
  ['2026-07-28', { pin: '2026-07-28' }],
]

const closers: (() => Promise<unknown>)[] = []
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close().catch(() => {})
})

function definition(): AgoraServer {
  return createServer({ name: 'changing', version: '1.0.0' })
    .tool('first', { description: 'There from the start' }, () => 'first')
    .prompt('hello', { description: 'A prompt' }, () => 'hello')
}

/** A client that records every list it is told about. */
function watchingClient(mode: Mode) {
  const seen = { tools: [] as string[][], prompts: [] as string[][] }
  const client = new Client(
    { name: 'watcher', version: '1.0.0' },
    {
      versionNegotiation: { mode },
      listChanged: {
        tools: {
          debounceMs: 0,
          onChanged: (_err: Error | null, tools: Tool[] | null) => void seen.tools.push((tools ?? []).map((t) => t.name)),
        },
        prompts: {
          debounceMs: 0,
          onChanged: (_err: Error | null, prompts: Prompt[] | null) => void seen.prompts.push((prompts ?? []).map((p) => p.name)),
        },
      },
    },
  )
  return { client, seen }
}

async function until(check: () => boolean, what: string, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 10))
  }
}

const last = <T>(list: T[]) => list[list.length - 1]

/**
 * A 2025 client's GET stream opens a moment after `initialize`, and a notification sent before it
 * is lost (Streamable HTTP has nowhere to put it): probe until one arrives, then clean up.
 */
async function untilListening(def: AgoraServer, seen: ReturnType<typeof watchingClient>['seen']): Promise<void> {
  for (let i = 0; i < 50; i++) {
    def.tool(`probe${i}`, { description: 'probe' }, () => 'probe')
    const heard = await until(() => seen.tools.some((list) => list.includes(`probe${i}`)), 'a probe', 200).then(
      () => true,
      () => false,
    )
    def.removeTool(`probe${i}`)
    if (heard) {
      await until(() => last(seen.tools)?.includes(`probe${i}`) === false, 'the probe to go')
      return
    }
  }
  throw new Error('the client never heard a list change')
}

async function exercise(def: AgoraServer, client: Client, seen: ReturnType<typeof watchingClient>['seen']) {
  def.tool('added', { description: 'Added while serving', input: z.object({ n: z.number() }) }, ({ n }) => String(n * 2))
  await until(() => last(seen.tools)?.includes('added') === true, 'the tools list with "added"')
  expect(last(seen.tools)).toEqual(['first', 'added'])
  expect(await client.callTool({ name: 'added', arguments: { n: 21 } })).toMatchObject({ content: [{ text: '42' }] })

  expect(def.removeTool('first')).toBe(true)
  expect(def.removeTool('first')).toBe(false)
  await until(() => last(seen.tools)?.includes('first') === false, 'the tools list without "first"')
  expect((await client.listTools()).tools.map((t) => t.name)).toEqual(['added'])
  expect((await rejection(client.callTool({ name: 'first', arguments: {} }))).message).toMatch(/Unknown tool: first/)

  def.prompt('bye', { description: 'Another prompt' }, () => 'bye')
  await until(() => last(seen.prompts)?.includes('bye') === true, 'the prompts list with "bye"')
  expect(def.removePrompt('hello')).toBe(true)
  await until(() => last(seen.prompts)?.includes('hello') === false, 'the prompts list without "hello"')
  expect(last(seen.prompts)).toEqual(['bye'])
}

describe('list changes while serving', () => {
  it.each(eras)('on a connection (%s): clients hear additions and removals', async (_era, mode) => {
    const def = definition()
    const [clientSide, serverSide] = InMemoryTransport.createLinkedPair()
    const handle = serveConnection(def, serverSide, { transport: 'memory', logger: silentLogger })
    closers.push(() => handle.close())
    const { client, seen } = watchingClient(mode)
    await client.connect(clientSide)
    closers.push(() => client.close())
    expect(client.getServerCapabilities()?.tools?.listChanged).toBe(true)
    await exercise(def, client, seen)
  })

  it.each(eras)('over Streamable HTTP (%s): clients hear additions and removals', async (_era, mode) => {
    const def = definition()
    const http = await serveHttp(def, { port: 0, logger: silentLogger })
    closers.push(() => http.close())
    const { client, seen } = watchingClient(mode)
    await client.connect(new StreamableHTTPClientTransport(new URL(http.mcpUrl)))
    closers.push(() => client.close())
    await untilListening(def, seen)
    await exercise(def, client, seen)
  })

  it('a connection that closed stops listening to the definition', async () => {
    const def = definition()
    let listening = 0
    const onChange = def.onChange.bind(def)
    def.onChange = (listener) => {
      listening++
      const stop = onChange(listener)
      return () => {
        listening--
        stop()
      }
    }
    const [clientSide, serverSide] = InMemoryTransport.createLinkedPair()
    serveConnection(def, serverSide, { transport: 'memory', logger: silentLogger })
    const client = new Client({ name: 'c', version: '1.0.0' })
    await client.connect(clientSide)
    expect(listening).toBe(1)
    await client.close()
    await until(() => listening === 0, 'the listener to go')
  })

  it('removing what does not exist says false and announces nothing', () => {
    const def = definition()
    const changes: unknown[] = []
    def.onChange((c) => changes.push(c))
    expect(def.removeTool('nope')).toBe(false)
    expect(def.removePrompt('nope')).toBe(false)
    expect(def.removeResource('file:///nope')).toBe(false)
    expect(def.removeResourceTemplate('file:///{x}')).toBe(false)
    expect(changes).toEqual([])
  })
})
