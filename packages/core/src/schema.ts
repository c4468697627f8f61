import type { StandardSchemaV1 } from '@modelcontextprotocol/server'
import { AgoraError } from './errors.ts'

/**
 * A Standard Schema that can also describe itself as JSON Schema (zod v4, ArkType, Valibot via
 * `toStandardJsonSchema`). Agora validates with `~standard.validate` and lists the JSON Schema.
 */
export interface AgoraSchema<Input = unknown, Output = Input> {
  readonly '~standard': StandardSchemaV1.Props<Input, Output> & {
    readonly jsonSchema?: {
      readonly input: (options: { target: string }) => Record<string, unknown>
      readonly output: (options: { target: string }) => Record<string, unknown>
    }
  }
}

export type InferOutput<S> = S extends AgoraSchema<unknown, infer O> ? O : Record<string, unknown>

const EMPTY_OBJECT_SCHEMA = Object.freeze({ type: 'object', properties: {} }) as Record<string, unknown>

/** The JSON Schema of a schema's input (or output) side; `{type:'object'}` when there is none. */
export function toJsonSchema(schema: AgoraSchema | undefined, side: 'input' | 'output' = 'input'): Record<string, unknown> {
  if (!schema) return { ...EMPTY_OBJECT_SCHEMA }
  const js = schema['~standard'].jsonSchema
  if (!js) {
    throw new AgoraError('CONFIG', 'schema does not expose JSON Schema (use zod v4, ArkType or a Standard JSON Schema)')
  }
  const out = { ...js[side]({ target: 'draft-2020-12' }) }
  delete out.$schema
  if (out.type === undefined) out.type = 'object'
  return out
}

export interface SchemaIssue {
  readonly path: string
  readonly message: string
}

/** Turns a Standard Schema path into `a.b[0].c`. */
function pathToString(path: StandardSchemaV1.Issue['path']): string {
  if (!path || path.length === 0) return '(root)'
  let out = ''
  for (const seg of path) {
    const key = typeof seg === 'object' && seg !== null ? seg.key : seg
    out += typeof key === 'number' ? `[${key}]` : out ? `.${String(key)}` : String(key)
  }
  return out
}

/**
 * Validates `value` and returns the parsed output, or throws `INVALID_PARAMS` naming each bad field.
 *
 * @example
 * ```ts
 * const args = await validate(z.object({ city: z.string() }), { city: 'Oslo' }, 'arguments for tool forecast')
 * ```
 */
export async function validate<S extends AgoraSchema>(schema: S, value: unknown, what: string): Promise<InferOutput<S>> {
  let result = schema['~standard'].validate(value)
  if (result instanceof Promise) result = await result
  return unwrap(result, what) as InferOutput<S>
}

/**
 * Validates synchronously when the schema allows it (zod without async refinements does); returns
 * `{ sync: false }` when the schema answered with a promise, so the caller falls back to `validate`.
 */
export function validateSync<S extends AgoraSchema>(
  schema: S,
  value: unknown,
  what: string,
): { sync: true; value: InferOutput<S> } | { sync: false } {
  const result = schema['~standard'].validate(value)
  if (result instanceof Promise) return { sync: false }
  return { sync: true, value: unwrap(result, what) as InferOutput<S> }
}

function unwrap(result: StandardSchemaV1.Result<unknown>, what: string): unknown {
  if (result.issues) {
    const issues: SchemaIssue[] = result.issues.map((i) => ({ path: pathToString(i.path), message: i.message }))
    const summary = issues.map((i) => `${i.path}: ${i.message}`).join('; ')
    throw new AgoraError('INVALID_PARAMS', `Invalid ${what}: ${summary}`, { data: { issues } })
  }
  return result.value
}
