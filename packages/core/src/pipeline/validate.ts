import { validate } from '../schema.ts'
import type { Gate } from './invocation.ts'

/** The validate stage: checks arguments against the target's input schema before price and pay. */
export const validateGate: Gate = {
  name: 'validate',
  async handle(inv, next) {
    const schema = inv.target?.input
    if (schema) {
      const what = inv.operation === 'prompts/get' ? `arguments for prompt ${inv.name}` : `arguments for tool ${inv.name}`
      inv.args = (await validate(schema, inv.args, what)) as Record<string, unknown>
    }
    return next()
  },
}
