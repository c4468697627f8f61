import type { AgoraServer } from '@agora/core'
import { describePrice } from '@agora/core'

/** A price as `_meta["agora/price"]` carries it, rendered for people. */
export function priceLabel(price: unknown): string | undefined {
  if (!price || typeof price !== 'object') return undefined
  const p = price as { amount?: unknown; asset?: unknown; dynamic?: unknown; network?: unknown }
  if (p.dynamic) return 'priced per call'
  if (typeof p.amount !== 'string' || typeof p.asset !== 'string') return undefined
  if (Number(p.amount) === 0) return undefined
  return `${p.amount} ${p.asset}${typeof p.network === 'string' ? ` on ${p.network}` : ''}`
}

/** The argument names a JSON Schema asks for, optional ones with `?`: `city, days?`. */
export function argumentSummary(schema: Record<string, unknown> | undefined): string {
  const props = schema?.properties && typeof schema.properties === 'object' ? Object.keys(schema.properties) : []
  const required = new Set(Array.isArray(schema?.required) ? (schema.required as string[]) : [])
  return props.map((p) => (required.has(p) ? p : `${p}?`)).join(', ')
}

export interface ToolLine {
  name: string
  args: string
  price: string | undefined
  description: string | undefined
}

/** Lines for a table of tools, aligned: `  name(args)  [price]  description`. */
export function formatToolLines(tools: readonly ToolLine[], indent = '  '): string[] {
  const heads = tools.map((t) => `${t.name}(${t.args})`)
  const width = Math.max(0, ...heads.map((h) => h.length))
  return tools.map((t, i) => {
    const price = t.price ? `[${t.price}] ` : '[free] '
    return `${indent}${(heads[i] ?? '').padEnd(width)}  ${price}${t.description ?? ''}`.trimEnd()
  })
}

/** The tool table of a local definition. */
export function definitionToolLines(def: AgoraServer): ToolLine[] {
  return [...def.tools.values()].map((t) => ({
    name: t.name,
    args: argumentSummary(t.listing.inputSchema),
    price: priceLabel(describePrice(t.config.price as never)),
    description: t.listing.description,
  }))
}
