import { createHash } from 'node:crypto'
import { readFileSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'
import type { Abi, Hex } from 'viem'

/** The dev chain's contracts: Solidity sources and compiled artifacts, both committed. */
export const DEV_CONTRACTS = ['AgoraUSD', 'Multicall3'] as const
export type DevContractName = (typeof DEV_CONTRACTS)[number]

/** Where a contract's `.sol` source or `.json` artifact lives. */
export const contractPath = (name: DevContractName, ext: 'sol' | 'json'): string =>
  fileURLToPath(new URL(`./contracts/${name}.${ext}`, import.meta.url))

/** What `contracts/<Name>.json` holds. */
export interface ContractArtifact {
  contractName: string
  sourceName: string
  /** SHA-256 (hex) of the `.sol` file the artifact was compiled from. */
  sourceSha256: string
  compiler: { name: 'solc'; version: string; settings: Record<string, unknown> }
  abi: Abi
  bytecode: Hex
  deployedBytecode: Hex
}

const SETTINGS = {
  optimizer: { enabled: true, runs: 200 },
  evmVersion: 'cancun',
  outputSelection: { '*': { '*': ['abi', 'evm.bytecode.object', 'evm.deployedBytecode.object'] } },
}

interface SolcOutput {
  errors?: Array<{ severity: string; formattedMessage: string }>
  contracts?: Record<
    string,
    Record<string, { abi: Abi; evm: { bytecode: { object: string }; deployedBytecode: { object: string } } }>
  >
}

/** SHA-256 of a contract's Solidity source, as recorded in its artifact. */
export function contractSourceSha256(name: DevContractName): string {
  return createHash('sha256')
    .update(readFileSync(contractPath(name, 'sol'), 'utf8'))
    .digest('hex')
}

/**
 * Compiles the dev contracts with the pinned npm `solc` (WebAssembly, offline; ~2 s), resolving
 * `@openzeppelin/contracts` imports from node_modules.
 *
 * @example
 * ```ts
 * const { AgoraUSD } = compileDevContracts()
 * console.log(AgoraUSD.bytecode.length)
 * ```
 */
export function compileDevContracts(): Record<DevContractName, ContractArtifact> {
  const require = createRequire(import.meta.url)
  const solc = require('solc') as { compile(input: string, callbacks: object): string; version(): string }
  const sources = Object.fromEntries(
    DEV_CONTRACTS.map((name) => [`${name}.sol`, { content: readFileSync(contractPath(name, 'sol'), 'utf8') }]),
  )
  const input = { language: 'Solidity', sources, settings: SETTINGS }
  const findImports = (path: string) => {
    try {
      return { contents: readFileSync(require.resolve(path), 'utf8') }
    } catch {
      return { error: `import not found: ${path}` }
    }
  }
  const output = JSON.parse(solc.compile(JSON.stringify(input), { import: findImports })) as SolcOutput
  const errors = (output.errors ?? []).filter((e) => e.severity === 'error')
  if (errors.length > 0) throw new Error(`the dev contracts do not compile:\n${errors.map((e) => e.formattedMessage).join('\n')}`)
  const artifact = (name: DevContractName): ContractArtifact => {
    const contract = output.contracts?.[`${name}.sol`]?.[name]
    if (!contract) throw new Error(`solc produced no ${name} contract`)
    return {
      contractName: name,
      sourceName: `contracts/${name}.sol`,
      sourceSha256: contractSourceSha256(name),
      compiler: {
        name: 'solc',
        version: solc.version(),
        settings: { optimizer: SETTINGS.optimizer, evmVersion: SETTINGS.evmVersion },
      },
      abi: contract.abi,
      bytecode: `0x${contract.evm.bytecode.object}`,
      deployedBytecode: `0x${contract.evm.deployedBytecode.object}`,
    }
  }
  return { AgoraUSD: artifact('AgoraUSD'), Multicall3: artifact('Multicall3') }
}

/** Recompiles the dev contracts and rewrites their committed artifacts (`npm run compile:token`). */
export function writeDevContractArtifacts(): Record<DevContractName, ContractArtifact> {
  const artifacts = compileDevContracts()
  for (const name of DEV_CONTRACTS) writeFileSync(contractPath(name, 'json'), `${JSON.stringify(artifacts[name], null, 2)}\n`)
  return artifacts
}
