/**
 * Agora payments: flows over one charge ledger, and the rails money moves on.
 *
 * @packageDocumentation
 */
export type { Charge, ChargeLedger, ChargePatch, ChargeQuery, ChargeStatus, NewCharge } from './ledger.ts'
export type {
  PaymentPayload,
  PaymentRail,
  PaymentRequirements,
  RailCallOptions,
  SettleOutcome,
  VerifyOutcome,
} from './rail.ts'
