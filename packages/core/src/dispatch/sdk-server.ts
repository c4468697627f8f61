import type { McpServerFactory } from '@modelcontextprotocol/server'
import { Server } from '@modelcontextprotocol/server'
import type { AgoraServer } from '../definition/server.ts'
import type { Logger } from '../logger.ts'
import { createLogger } from '../logger.ts'
import { compile } from './compile.ts'
import { installHandlers } from './handlers.ts'
import type { RequestStateSeal } from './request-state.ts'
import { requestStateSealFor } from './request-state.ts'

export interface SdkServerOptions {
  /** Transport kind reported to gates when the SDK context does not say (`stdio`, `memory`, …). */
  transport?: string | undefined
  logger?: Logger | undefined
  /**
   * Key (at least 32 bytes) that signs multi round-trip `requestState`. Every process that may see
   * a later round of a flow needs the same key; default: a random key per definition and process.
   */
  requestStateKey?: string | Uint8Array | undefined
}

/**
 * Builds a low-level MCP SDK `Server` that serves an Agora definition through the gates. Connect
 * it to any SDK `Transport`; one instance serves one connection.
 *
 * @example
 * ```ts
 * import { InMemoryTransport } from '@modelcontextprotocol/server'
 * const [a, b] = InMemoryTransport.createLinkedPair()
 * await createSdkServer(server, { transport: 'memory' }).connect(a)
 * ```
 */
export function createSdkServer(def: AgoraServer, options: SdkServerOptions = {}): Server {
  return buildSdkServer(def, options, requestStateSealFor(def, options.requestStateKey))
}

function buildSdkServer(def: AgoraServer, options: SdkServerOptions, seal: RequestStateSeal): Server {
  const compiled = compile(def)
  const { name, version, title, description, websiteUrl, instructions } = def.info
  const sdk = new Server(
    {
      name,
      version,
      ...(title ? { title } : {}),
      ...(description ? { description } : {}),
      ...(websiteUrl ? { websiteUrl } : {}),
    },
    {
      capabilities: compiled.capabilities,
      ...(instructions ? { instructions } : {}),
      requestState: { verify: seal.verify },
    },
  )
  installHandlers(sdk, def, compiled, options.transport ?? 'memory', options.logger ?? defaultLogger(), seal)
  return sdk
}

let shared: Logger | undefined
const defaultLogger = () => {
  shared ??= createLogger({ component: 'agora' })
  return shared
}

/** An SDK server factory (for `createMcpHandler` / `serveStdio`) serving the definition. */
export function sdkServerFactory(def: AgoraServer, options: SdkServerOptions = {}): McpServerFactory {
  const seal = requestStateSealFor(def, options.requestStateKey)
  return () => buildSdkServer(def, options, seal)
}
