/**
 * Shared test suites and fixtures for Agora packages (private).
 *
 * @packageDocumentation
 */
export type { FixtureProbe } from './fixture-server.ts'
export { createFixtureServer } from './fixture-server.ts'
export type { ContractConnection, TransportContractOptions } from './transport-contract.ts'
export { transportContract } from './transport-contract.ts'
