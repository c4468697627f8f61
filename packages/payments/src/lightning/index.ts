/**
 * Lightning payments for Agora: the hold-until-paid gateway (DVMCP's flow: a BOLT11 invoice goes
 * out, the call runs once it is paid), a local stand-in for Lightning nodes (real signed
 * invoices, no routing), Nostr Wallet Connect (NIP-47) client and service, and the paying
 * client's handler.
 *
 * @example
 * ```ts
 * import { createServer } from '@agora/core'
 * import { openLedger } from '@agora/payments'
 * import { createLightningPayments, createLocalLightning, lightningPaymentHandler } from '@agora/payments/lightning'
 *
 * const ln = createLocalLightning()
 * const server = createServer({ name: 'weather', version: '1.0.0' })
 *   .payments(createLightningPayments({ ledger: await openLedger(':memory:'), wallet: ln.createWallet({ name: 'shop' }) }))
 *   .tool('forecast', { price: '10 sats' }, () => 'sunny')
 *
 * // The client pays each invoice the server sends while it holds the call:
 * const pay = lightningPaymentHandler({ wallet: ln.createWallet({ name: 'alice', balanceMsat: 1_000_000 }) })
 * ```
 *
 * @packageDocumentation
 */

export type { LightningConfig, LightningConfigOptions } from './configure.ts'
export { lightningPayments } from './configure.ts'
export type { LightningPaymentsOptions } from './gateway.ts'
export { createLightningPayments, LIGHTNING_RAIL, PREIMAGE_META_KEY } from './gateway.ts'
export type {
  LightningBudget,
  LightningPaymentHandler,
  LightningPaymentHandlerOptions,
  LightningPaymentOutcome,
  LightningPaymentRequest,
} from './handler.ts'
export { lightningPaymentHandler } from './handler.ts'
export type { DecodedInvoice, NodeKey, SignInvoiceOptions } from './invoice.ts'
export {
  DEFAULT_EXPIRY_SECONDS,
  decodeInvoice,
  newPreimage,
  nodeKey,
  paymentHashOf,
  preimageMatches,
  signInvoice,
} from './invoice.ts'
export type { LocalLightning, LocalLightningOptions, LocalLightningWallet, LocalWalletOptions } from './local-network.ts'
export { createLocalLightning } from './local-network.ts'
export type { PayableNotice } from './notices.ts'
export { payNotices } from './notices.ts'
export type { NwcWalletOptions } from './nwc-client.ts'
export { nwcWallet } from './nwc-client.ts'
export type { NwcEncryption } from './nwc-protocol.ts'
export {
  NWC_INFO_KIND,
  NWC_NOTIFICATION_KIND,
  NWC_NOTIFICATION_NIP04_KIND,
  NWC_REQUEST_KIND,
  NWC_RESPONSE_KIND,
} from './nwc-protocol.ts'
export type { NwcService, ServeNwcOptions } from './nwc-service.ts'
export { serveNwc } from './nwc-service.ts'
export type { ToSats } from './price.ts'
export { isLightningAsset, priceInSats } from './price.ts'
export { lightningRoute } from './route.ts'
export type { AwaitSettlementOptions, SettlementOutcome } from './settlement.ts'
export { awaitSettlement } from './settlement.ts'
export type {
  CallOptions,
  Invoice,
  InvoiceState,
  InvoiceStatus,
  LightningErrorReason,
  LightningNetwork,
  LightningWallet,
  MakeInvoiceRequest,
  Payment,
  ReceivedPayment,
  WalletInfo,
} from './wallet.ts'
export { walletError, walletErrorReason } from './wallet.ts'
