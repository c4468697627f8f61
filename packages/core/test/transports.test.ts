import { fileURLToPath } from 'node:url'
import { orderedTransport } from '@agora/client'
import { silentLogger } from '@agora/core'
import { serveHttp } from '@agora/core/http'
import { transportContract } from '@agora/testing'
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client'
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio'
import { connectMemory } from './helpers.ts'

const clientInfo = { name: 'contract', version: '1.0.0' }

transportContract('in-memory', { transportKind: 'memory', connect: (server) => connectMemory(server) })

for (const [era, mode] of [
  ['2025 (legacy)', 'legacy'],
  ['2026-07-28', { pin: '2026-07-28' }],
] as const) {
  transportContract(`streamable HTTP, ${era}`, {
    transportKind: 'http',
    async connect(server) {
      const http = await serveHttp(server, { port: 0, logger: silentLogger })
      const client = new Client(clientInfo, { versionNegotiation: { mode } })
      await client.connect(orderedTransport(new StreamableHTTPClientTransport(new URL(http.mcpUrl))))
      return {
        client,
        close: async () => {
          await client.close()
          await http.close()
        },
      }
    },
  })
}

transportContract('stdio', {
  transportKind: 'stdio',
  async connect() {
    const client = new Client(clientInfo)
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [fileURLToPath(new URL('./fixtures/stdio-fixture.ts', import.meta.url))],
      stderr: 'ignore',
    })
    await client.connect(orderedTransport(transport))
    return { client, close: () => client.close() }
  },
})
