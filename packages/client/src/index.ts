/**
 * Agora client: reach any MCP server (Agora or not) by a target string and call it.
 *
 * @example
 * ```ts
 * import { connect } from '@agora/client'
 *
 * const client = await connect('stdio:agora serve server.ts --stdio')
 * console.log(await client.listTools())
 * await client.close()
 * ```
 *
 * @packageDocumentation
 */
export type { AgoraClient, ConnectOptions, RequestOptions } from './connect.ts'
export { connect, DEFAULT_TIMEOUT_MS } from './connect.ts'
export { toClientError } from './errors.ts'
export { contentText } from './format.ts'
export { orderedTransport } from './ordered-transport.ts'
export { httpScheme } from './targets/http.ts'
export { parseTarget, registerTargetScheme, schemeFor, targetSchemes } from './targets/registry.ts'
export { API_KEY_META, splitCommandLine, stdioScheme } from './targets/stdio.ts'
export type {
  HttpTarget,
  OpenedTransport,
  StdioTarget,
  Target,
  TargetKinds,
  TargetScheme,
  TransportOptions,
} from './targets/types.ts'
