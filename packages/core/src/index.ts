/**
 * Agora core: define an MCP server once (tools, resources, prompts, prices, access rules) and
 * serve it through an ordered pipeline of gates over any transport.
 *
 * @example
 * ```ts
 * import { createServer } from '@agora/core'
 * import { serveHttp } from '@agora/core/http'
 * import { z } from 'zod'
 *
 * const server = createServer({ name: 'hello', version: '1.0.0' })
 *   .tool('greet', { input: z.object({ name: z.string() }) }, ({ name }) => `Hello, ${name}!`)
 * const http = await serveHttp(server, { port: 0 })
 * console.log(http.mcpUrl)
 * ```
 *
 * @packageDocumentation
 */

/** Multi round-trip helpers (2026-07-28 `input_required`; Agora serves them to 2025 sessions too). */
export { acceptedContent, inputRequired, inputResponse } from '@modelcontextprotocol/server'
export { untilAborted } from './abort.ts'
export type { Caller, PaymentNotice, TransportInfo } from './caller.ts'
export { anonymousCaller, TRANSPORT_EXTRA_KEY } from './caller.ts'
export type { HandlerContext } from './context.ts'
export type { AccessRule } from './definition/access.ts'
export {
  allOf,
  allowCallers,
  anyOf,
  authenticated,
  callerKinds,
  denyCallers,
  publicAccess,
  requireScopes,
} from './definition/access.ts'
export type { Price, PriceSpec } from './definition/price.ts'
export { describePrice, isFree, parsePrice, resolvePrice } from './definition/price.ts'
export type { PromptConfig, PromptHandler, PromptReturn } from './definition/prompt.ts'
export type {
  ResourceConfig,
  ResourceReader,
  ResourceReturn,
  ResourceTemplateConfig,
  TemplateReader,
} from './definition/resource.ts'
export type { AgoraServer, ChangeListener, GateConfig, ServerChange, ServerInfo } from './definition/server.ts'
export { createServer, isAgoraServer } from './definition/server.ts'
export type { ToolConfig, ToolHandler, ToolReturn } from './definition/tool.ts'
export type { DescriptorOptions } from './descriptor/create.ts'
export { createDescriptor, DESCRIPTOR_SCHEMA_URL } from './descriptor/create.ts'
export type { DescriptorEndpoint, ServerDescriptor } from './descriptor/schema.ts'
export { descriptorJsonSchema, descriptorSchema } from './descriptor/schema.ts'
export type { CompiledServer } from './dispatch/compile.ts'
export { compile } from './dispatch/compile.ts'
export type { SdkServerOptions } from './dispatch/sdk-server.ts'
export { createSdkServer, sdkServerFactory } from './dispatch/sdk-server.ts'
export type { ConnectionHandle, ServeConnectionOptions } from './dispatch/serve-connection.ts'
export { serveConnection } from './dispatch/serve-connection.ts'
export type { AgoraErrorCode, AgoraErrorOptions } from './errors.ts'
export { AgoraError, isAgoraError, ToolError, WIRE_CODES } from './errors.ts'
export { isJsonRpcId, jsonRpcProblem } from './json-rpc.ts'
export { fromJsonSchema } from './json-schema.ts'
export type { ConsoleLoggerOptions, Logger, LogLevel } from './logger.ts'
export { createLogger, silentLogger } from './logger.ts'
export type { ApiKeyHolder, ApiKeyOptions } from './pipeline/api-key.ts'
export { apiKeys } from './pipeline/api-key.ts'
export type { AuthenticateOptions, AuthenticationRequest, Authenticator } from './pipeline/authenticate.ts'
export { authenticateGate } from './pipeline/authenticate.ts'
export { authorizeGate } from './pipeline/authorize.ts'
export type { Gate, Invocation, InvocationTarget, Next, Operation } from './pipeline/invocation.ts'
export { CALL_OPERATIONS, composeGates } from './pipeline/invocation.ts'
export type { PaymentDecision, PaymentGateway, PaymentsListResult, SettleDecision } from './pipeline/payment.ts'
export { payGate, priceGate, RECEIPT_META_KEY, receiptGate } from './pipeline/payment.ts'
export type { RateLimiter, TokenBucketOptions } from './pipeline/rate-limit.ts'
export { rateLimitGate, tokenBucket } from './pipeline/rate-limit.ts'
export { validateGate } from './pipeline/validate.ts'
export type { AgoraSchema, SchemaIssue } from './schema.ts'
export { toJsonSchema, validate } from './schema.ts'
