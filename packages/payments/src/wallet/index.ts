/**
 * The paying client's side of Agora payments: a local EVM wallet (a `0600` keystore file), a
 * budget policy, a record of every payment made, and `evmPaymentHook`, which plugs them into
 * `@agora/client`'s `payments` option.
 *
 * @example
 * ```ts
 * import { connect } from '@agora/client'
 * import { createWallet, evmPaymentHook, requestFaucet } from '@agora/payments/wallet'
 *
 * const wallet = await createWallet('/tmp/agora/wallet.json')
 * await requestFaucet('http://127.0.0.1:8545/faucet', wallet.address, '10')
 * const payments = evmPaymentHook({ wallet, rpcUrl: 'http://127.0.0.1:8545', budget: { maxPerCall: '0.05' } })
 * const client = await connect('http://127.0.0.1:3000/mcp', { payments })
 * await client.callTool('forecast', { city: 'Oslo' })
 * ```
 *
 * @packageDocumentation
 */
export { fromAtomicUnits, toAtomicUnits } from '../amount.ts'
export type { AssetInfo, ChainReader, TokenAmount } from './asset.ts'
export { assetInfo, balance, chainReader } from './asset.ts'
export type { BudgetPolicy, BudgetQuestion } from './budget.ts'
export { budgetRefusal, checkBudgetPolicy } from './budget.ts'
export type { DevchainDescription, FaucetDrip } from './devchain-client.ts'
export { describeDevchain, requestFaucet } from './devchain-client.ts'
export type { FileLockOptions } from './file-lock.ts'
export { withFileLock } from './file-lock.ts'
export { agoraHome, defaultRecordPath, defaultWalletPath } from './home.ts'
export type { EvmPaymentHook, EvmPaymentHookOptions, PaymentChallengeLike, PaymentOutcomeLike } from './hook.ts'
export { evmPaymentHook } from './hook.ts'
export type { CreateWalletOptions, KeystoreFile, Wallet } from './keystore.ts'
export { createWallet, loadWallet } from './keystore.ts'
export { assertPrivate, ensurePrivateDir, PRIVATE_DIR_MODE, PRIVATE_FILE_MODE } from './private-file.ts'
export type { PaymentEntry, PaymentEntryOutcome, PaymentRecord, SpentQuery } from './record.ts'
export { openPaymentRecord } from './record.ts'
