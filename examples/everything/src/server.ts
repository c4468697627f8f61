/**
 * The "everything" server: the fixture tools, resources and prompts the MCP conformance suite
 * (`@modelcontextprotocol/conformance`) expects, for both the 2025-11-25 and the 2026-07-28
 * requirement sets. Serve it with `agora serve examples/everything/src/server.ts --http 127.0.0.1:3000`
 * and point the suite at `http://127.0.0.1:3000/mcp`, or run `npm run conformance`.
 */
import { createServer } from '@agora/core'
import { addListChangeTriggers } from './list-changes.ts'
import { addDiagnosticTools, addInputRequiredTools } from './mrtr.ts'
import { addPrompts } from './prompts.ts'
import { addResources } from './resources.ts'
import { addClientRequestTools, addContentTools, addProgressAndLoggingTools } from './tools.ts'

const server = createServer({
  name: 'everything',
  version: '1.0.0',
  title: 'Everything',
  description: 'The MCP conformance fixtures (2025-11-25 and 2026-07-28), served by Agora.',
})

for (const add of [
  addContentTools,
  addProgressAndLoggingTools,
  addClientRequestTools,
  addInputRequiredTools,
  addDiagnosticTools,
  addListChangeTriggers,
  addResources,
  addPrompts,
]) {
  add(server)
}

export default server
