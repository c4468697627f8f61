/**
 * Recompiles the dev chain's contracts (the AgoraUSD token and a Multicall3 subset, in
 * `packages/payments/src/evm/contracts/`) and rewrites their committed JSON artifacts.
 * Run with `npm run compile:token`.
 */
import { contractPath, DEV_CONTRACTS, writeDevContractArtifacts } from '../packages/payments/src/evm/compile.ts'

const artifacts = writeDevContractArtifacts()
for (const name of DEV_CONTRACTS) {
  const { compiler, deployedBytecode } = artifacts[name]
  process.stdout.write(
    `${name}: solc ${compiler.version}, ${(deployedBytecode.length - 2) / 2} bytes -> ${contractPath(name, 'json')}\n`,
  )
}
