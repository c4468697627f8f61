import type { AgoraServer } from '@agora/core'
import { createServer, ToolError } from '@agora/core'
import { z } from 'zod'

/** What the fixture server lets a test observe from the server side (also via the `probe` tool). */
export interface FixtureProbe {
  /** Tools whose handler saw its signal abort. */
  readonly aborted: string[]
  /** How many `hang` calls have started. */
  hangs: number
}

/**
 * The server every transport's contract suite runs against: small tools covering text, validation,
 * errors, progress, concurrency, size, cancellation and caller identity.
 */
export function createFixtureServer(): { server: AgoraServer; probe: FixtureProbe } {
  const probe: FixtureProbe = { aborted: [], hangs: 0 }
  const server = createServer({ name: 'fixture', version: '1.0.0', description: 'Agora contract fixture' })
    .tool('echo', { description: 'Echoes text', input: z.object({ text: z.string() }) }, ({ text }) => text)
    .tool(
      'add',
      { description: 'Adds', input: z.object({ a: z.number(), b: z.number() }), output: z.object({ sum: z.number() }) },
      ({ a, b }) => ({ sum: a + b }),
    )
    .tool('fail', { description: 'Always throws' }, () => {
      throw new Error('kaboom: database unreachable')
    })
    .tool('refuse', { description: 'Throws a ToolError' }, () => {
      throw new ToolError('no such city')
    })
    .tool(
      'progress',
      { description: 'Reports three steps', input: z.object({ steps: z.number().int().max(10) }) },
      async ({ steps }, ctx) => {
        for (let i = 1; i <= steps; i++) await ctx.progress(i, steps, `step ${i}`)
        return `did ${steps} steps`
      },
    )
    .tool(
      'delay',
      { description: 'Waits', input: z.object({ ms: z.number().int().max(5000), tag: z.string() }) },
      async ({ ms, tag }, ctx) => {
        await new Promise((r) => setTimeout(r, ms))
        ctx.signal.throwIfAborted()
        return tag
      },
    )
    .tool('hang', { description: 'Never returns on its own', timeoutMs: 0 }, (_args, ctx) => {
      probe.hangs++
      return new Promise<string>((_, reject) => {
        ctx.signal.addEventListener('abort', () => {
          probe.aborted.push('hang')
          reject(new Error('aborted'))
        })
      })
    })
    .tool('sleepy', { description: 'Ignores its signal past its timeout', timeoutMs: 200 }, () => new Promise<string>(() => {}))
    .tool('whoami', { description: 'Reports the caller' }, (_args, ctx) => ({
      id: ctx.caller.id,
      kind: ctx.caller.kind,
      transport: ctx.transport.kind,
    }))
    .tool('probe', { description: 'Reports what the server observed (for out-of-process tests)' }, () => ({
      aborted: [...probe.aborted],
      hangs: probe.hangs,
    }))
    .tool('priced', { description: 'Costs money', price: '0.05 USDC' }, () => 'paid output')
  return { server, probe }
}
