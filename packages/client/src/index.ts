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
export type { GatewayUpstream, NostrGateway, NostrGatewayOptions } from './gateway.ts'
export { nostrGateway } from './gateway.ts'
export { orderedTransport } from './ordered-transport.ts'
export type {
  PaidCallContext,
  PaymentChallenge,
  PaymentChoice,
  PaymentForm,
  PaymentHook,
  PaymentOffer,
  PaymentOutcome,
  PaymentRequired,
} from './payments.ts'
export {
  challengeInError,
  challengeInResult,
  isPaymentRequired,
  PAYMENT_META_KEY,
  PAYMENT_RESPONSE_META_KEY,
  payForCall,
  RECEIPT_META_KEY,
} from './payments.ts'
export type { ProxyOptions, ProxyRoute, ProxyServer, ProxyUpstream } from './proxy.ts'
export { proxyServer } from './proxy.ts'
export { httpScheme } from './targets/http.ts'
export { nostrScheme } from './targets/nostr.ts'
export { p2pScheme } from './targets/p2p.ts'
export { parseTarget, registerTargetScheme, schemeFor, targetSchemes } from './targets/registry.ts'
export { API_KEY_META, splitCommandLine, stdioScheme } from './targets/stdio.ts'
export type {
  HttpTarget,
  NostrTarget,
  OpenedTransport,
  P2pTarget,
  PaymentNoticeHandler,
  StdioTarget,
  Target,
  TargetKinds,
  TargetScheme,
  TransportOptions,
} from './targets/types.ts'
