import { validate, validateSync } from '../schema.ts'
import type { Gate } from './invocation.ts'

/** The validate stage: checks arguments against the target's input schema before price and pay. */
export const validateGate: Gate = {
  name: 'validate',
  handle(inv, next) {
    const schema = inv.target?.input
    if (!schema) return next()
    const what = inv.operation === 'prompts/get' ? `arguments for prompt ${inv.name}` : `arguments for tool ${inv.name}`
    const parsed = validateSync(schema, inv.args, what)
    if (parsed.sync) {
      inv.args = parsed.value as Record<string, unknown>
      return next()
    }
    return validate(schema, inv.args, what).then((value) => {
      inv.args = value as Record<string, unknown>
      return next()
    })
  },
}
