import { readFileSync } from 'node:fs'
import { createDescriptor, createServer, descriptorJsonSchema, descriptorSchema, parsePrice, resolvePrice } from '@agora/core'
import { describe, expect, it } from 'vitest'
import { z } from 'zod'

describe('server definition', () => {
  it('refuses bad tool names, duplicates and malformed prices at definition time', () => {
    const s = createServer({ name: 'd', version: '1.0.0' })
    expect(() => s.tool('has space', {}, () => '')).toThrow(/invalid tool name/)
    s.tool('ok', {}, () => '')
    expect(() => s.tool('ok', {}, () => '')).toThrow(/defined twice/)
    expect(() => s.tool('p1', { price: 'ten USDC' }, () => '')).toThrow(/non-negative decimal/)
    expect(() => s.tool('p2', { price: '1' }, () => '')).toThrow(/shorthand/)
    expect(() => s.tool('p3', { price: { amount: '-1', asset: 'USDC' } }, () => '')).toThrow(/non-negative/)
    expect(() => createServer({ name: '', version: '1' })).toThrow(/name and version/)
  })

  it('parses prices and resolves argument-dependent ones', () => {
    expect(parsePrice('0.01 USDC')).toEqual({ amount: '0.01', asset: 'USDC' })
    expect(parsePrice('$5 USD')).toEqual({ amount: '5', asset: 'USD' })
    expect(resolvePrice(({ n }: { n: number }) => `${n / 100} USDC`, { n: 3 })).toEqual({ amount: '0.03', asset: 'USDC' })
  })

  it('produces a descriptor that validates against the committed JSON Schema', () => {
    const server = createServer({ name: 'weather', version: '1.2.3', description: 'd' })
      .tool('a', { input: z.object({ x: z.string() }), price: '0.5 USDC', annotations: { readOnlyHint: true } }, () => '')
      .tool('b', { price: () => '1 USDC' }, () => '')
      .resource('data://x', { description: 'x' }, () => 'x')
      .prompt('p', { args: z.object({ topic: z.string().describe('What about') }) }, () => 'x')
    const d = createDescriptor(server, { endpoints: [{ transport: 'stdio', command: 'agora serve s.ts --stdio' }] })
    expect(descriptorSchema.parse(d)).toEqual(d)
    expect(d.capabilities).toEqual({ tools: true, resources: true, prompts: true, completions: false })
    expect(d.tools.map((t) => t.price)).toEqual([{ amount: '0.5', asset: 'USDC' }, { dynamic: true }])
    expect(d.prompts[0]?.arguments).toEqual([{ name: 'topic', description: 'What about', required: true }])
    const committed = JSON.parse(readFileSync(new URL('../../../schemas/server-descriptor.schema.json', import.meta.url), 'utf8'))
    expect(committed).toEqual(descriptorJsonSchema())
  })
})
