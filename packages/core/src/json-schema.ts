import { AjvJsonSchemaValidator } from '@modelcontextprotocol/server/validators/ajv'
import type { AgoraSchema } from './schema.ts'

let validators: AjvJsonSchemaValidator | undefined

/**
 * Wraps a plain JSON Schema (draft 2020-12, 2019-09 or 07, as `$schema` says) as an
 * {@link AgoraSchema}, validated with the MCP SDK's ajv provider. For tools whose schema comes from
 * elsewhere, e.g. a proxy that re-exposes another server's tools with their own input schemas.
 *
 * @example
 * ```ts
 * const input = fromJsonSchema({ type: 'object', properties: { city: { type: 'string' } }, required: ['city'] })
 * server.tool('forecast', { input }, ({ city }) => `Sunny in ${city}`)
 * ```
 */
export function fromJsonSchema<T = Record<string, unknown>>(schema: Record<string, unknown>): AgoraSchema<T> {
  validators ??= new AjvJsonSchemaValidator()
  const check = validators.getValidator<T>(schema as never)
  const json = () => ({ ...schema })
  return {
    '~standard': {
      version: 1,
      vendor: 'agora-json-schema',
      validate(value: unknown) {
        const result = check(value)
        return result.valid ? { value: result.data } : { issues: [{ message: result.errorMessage }] }
      },
      jsonSchema: { input: json, output: json },
    },
  }
}
