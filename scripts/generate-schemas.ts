// Writes schemas/server-descriptor.schema.json from the zod schema in @agora/core (run: npm run schemas).
import { writeFileSync } from 'node:fs'
import { descriptorJsonSchema } from '@agora/core'

const out = new URL('../schemas/server-descriptor.schema.json', import.meta.url)
writeFileSync(out, `${JSON.stringify(descriptorJsonSchema(), null, 2)}\n`)
console.log(`wrote ${out.pathname}`)
