import type { GetPromptResult, InputRequiredResult, Prompt, PromptArgument, PromptMessage } from '@modelcontextprotocol/server'
import type { HandlerContext } from '../context.ts'
import type { AgoraSchema } from '../schema.ts'
import { toJsonSchema } from '../schema.ts'
import type { AccessRule } from './access.ts'

/**
 * What a prompt handler may return: one user message as text, messages, a full result, or an
 * `inputRequired(...)` result asking the client for input first (multi round-trip).
 */
export type PromptReturn = string | PromptMessage[] | GetPromptResult | InputRequiredResult

export type PromptHandler<Args> = (args: Args, ctx: HandlerContext) => PromptReturn | Promise<PromptReturn>

export interface PromptConfig<A extends AgoraSchema | undefined = AgoraSchema | undefined> {
  title?: string | undefined
  description?: string | undefined
  /** Arguments as an object schema of string fields (MCP prompt arguments are strings). */
  args?: A
  /** Completions per argument, for `completion/complete`. */
  complete?: Record<string, (value: string) => string[] | Promise<string[]>> | undefined
  access?: AccessRule | undefined
}

export interface PromptEntry {
  readonly name: string
  readonly config: PromptConfig
  readonly handler: PromptHandler<never>
  readonly listing: Prompt
}

/** Derives MCP prompt arguments from the args schema's JSON Schema. */
function promptArguments(schema: AgoraSchema | undefined): PromptArgument[] | undefined {
  if (!schema) return undefined
  const js = toJsonSchema(schema, 'input') as { properties?: Record<string, { description?: string }>; required?: string[] }
  const required = new Set(js.required ?? [])
  return Object.entries(js.properties ?? {}).map(([name, prop]) => ({
    name,
    ...(prop.description ? { description: prop.description } : {}),
    required: required.has(name),
  }))
}

export function createPromptEntry(name: string, config: PromptConfig, handler: PromptHandler<never>): PromptEntry {
  const args = promptArguments(config.args)
  const listing: Prompt = {
    name,
    ...(config.title ? { title: config.title } : {}),
    ...(config.description ? { description: config.description } : {}),
    ...(args ? { arguments: args } : {}),
  }
  return { name, config, handler, listing }
}

/** Normalises what a prompt handler returned into a `GetPromptResult`. */
export function toGetPromptResult(
  value: Exclude<PromptReturn, InputRequiredResult>,
  description: string | undefined,
): GetPromptResult {
  if (typeof value === 'string') {
    return {
      ...(description ? { description } : {}),
      messages: [{ role: 'user', content: { type: 'text', text: value } }],
    }
  }
  if (Array.isArray(value)) return { ...(description ? { description } : {}), messages: value }
  return value
}
