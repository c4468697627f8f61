/**
 * Agora payments: flows over one charge ledger, and the rails money moves on.
 *
 * @packageDocumentation
 */
export { fromAtomicUnits, toAtomicUnits } from './amount.ts'
export type { PaymentEngine, PaymentEngineOptions, PaymentForm, PaymentRequired } from './engine/index.ts'
export {
  chooseForm,
  createPaymentEngine,
  PAYMENT_FORM_META_KEY,
  PAYMENT_FORMS,
  PAYMENT_HEADERS,
  PAYMENT_META_KEY,
  PAYMENT_RESPONSE_META_KEY,
  readProof,
  requestKeyOf,
  X402_EXTENSION,
} from './engine/index.ts'
export type { LedgerLocation, OpenLedgerOptions } from './ledger/open.ts'
export { openLedger, parseLedgerUrl } from './ledger/open.ts'
export type { PostgresLedgerOptions } from './ledger/postgres.ts'
export { postgresLedger } from './ledger/postgres.ts'
export { LEDGER_SCHEMA_VERSION } from './ledger/schema.ts'
export type { SqliteLedgerOptions } from './ledger/sqlite.ts'
export { sqliteLedger } from './ledger/sqlite.ts'
export type {
  Charge,
  ChargeLedger,
  ChargePatch,
  ChargeQuery,
  ChargeStatus,
  LedgerCallOptions,
  LedgerDurability,
  LedgerWriteOptions,
  NewCharge,
} from './ledger.ts'
export type {
  PaymentPayload,
  PaymentRail,
  PaymentRequirements,
  RailCallOptions,
  SettleOutcome,
  VerifyOutcome,
} from './rail.ts'
export type { PaymentRoute } from './route.ts'
export { routePayments } from './route.ts'
