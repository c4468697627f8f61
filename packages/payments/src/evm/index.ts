/**
 * Agora payments on EVM: the x402 `exact` rail, the in-process x402 facilitator (also over HTTP),
 * and a local dev chain with a USDC-like EIP-3009 token and a faucet. Node-only and heavy (viem,
 * Hardhat's EDR), hence this separate entry.
 *
 * @example
 * ```ts
 * import { startDevchain, httpFacilitator, x402ExactRail } from '@agora/payments/evm'
 * await using devchain = await startDevchain({ port: 0 })
 * const rail = x402ExactRail({
 *   facilitator: httpFacilitator(devchain.facilitatorUrl),
 *   payTo: devchain.accounts[0].address,
 *   network: devchain.chain.network,
 *   assets: { USDC: devchain.token },
 * })
 * const [requirements] = await rail.requirements({ amount: '0.01', asset: 'USDC' })
 * ```
 *
 * @packageDocumentation
 */
export type { DevChain, DevChainOptions } from './chain.ts'
export { startDevChain } from './chain.ts'
export type { ContractArtifact, DevContractName } from './compile.ts'
export { compileDevContracts, contractSourceSha256, DEV_CONTRACTS, writeDevContractArtifacts } from './compile.ts'
export type { X402Payments, X402PaymentsOptions } from './configure.ts'
export { KNOWN_USDC, x402Payments } from './configure.ts'
export type { DeployTokenOptions } from './deploy.ts'
export { deployAgoraUsd } from './deploy.ts'
export { DEV_PRIVATE_KEYS } from './dev-keys.ts'
export type { DevAccount, Devchain, DevchainOptions } from './devchain.ts'
export { startDevchain } from './devchain.ts'
export type { LocalFacilitator, LocalFacilitatorOptions } from './facilitator.ts'
export { createLocalFacilitator } from './facilitator.ts'
export type { HttpFacilitatorOptions } from './facilitator-http.ts'
export { createFacilitatorApp, httpFacilitator, serveFacilitator } from './facilitator-http.ts'
export type { Faucet, FaucetOptions, FaucetReceipt } from './faucet.ts'
export { createFaucet } from './faucet.ts'
export type { Listening, ListenOptions } from './listen.ts'
export type { Eip1193Like } from './rpc-app.ts'
export { createRpcApp } from './rpc-app.ts'
export type { TokenInfo } from './token.ts'
export { AGORA_USD, agoraUsdAbi, agoraUsdArtifact, tokenBalance } from './token.ts'
export type { ExactAsset, X402ExactRailOptions } from './x402-rail.ts'
export { x402ExactRail } from './x402-rail.ts'
