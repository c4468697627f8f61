import { readFileSync } from 'node:fs'
import type { Address } from 'viem'
import { domainSeparator, parseEventLogs } from 'viem'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { DevChain, TokenInfo } from '../src/evm/index.ts'
import {
  AGORA_USD,
  agoraUsdAbi,
  compileDevContracts,
  contractSourceSha256,
  DEV_CONTRACTS,
  deployAgoraUsd,
  startDevChain,
  tokenBalance,
} from '../src/evm/index.ts'
import { randomNonce, signAuthorization } from './evm-helpers.ts'

const artifactPath = (name: string) => new URL(`../src/evm/contracts/${name}.json`, import.meta.url)

describe('committed contract artifacts', () => {
  it('match a fresh compile of the committed .sol sources', () => {
    const fresh = compileDevContracts()
    for (const name of DEV_CONTRACTS) {
      const committed = JSON.parse(readFileSync(artifactPath(name), 'utf8'))
      expect(committed.sourceSha256, `${name}.sol changed: run npm run compile:token`).toBe(contractSourceSha256(name))
      expect(committed.abi).toEqual(fresh[name].abi)
      expect(committed.bytecode).toBe(fresh[name].bytecode)
      expect(committed.deployedBytecode).toBe(fresh[name].deployedBytecode)
    }
  })
})

describe('AgoraUSD on the dev chain', () => {
  let chain: DevChain
  let token: TokenInfo
  let alice: DevChain['accounts'][number]
  let bob: Address
  const now = () => BigInt(Math.floor(Date.now() / 1000))

  beforeAll(async () => {
    chain = await startDevChain({ accounts: 4 })
    token = await deployAgoraUsd({ publicClient: chain.publicClient, deployer: chain.walletClients[0]! })
    alice = chain.accounts[1]!
    bob = chain.accounts[2]!.address
    const hash = await chain.walletClients[0]!.writeContract({
      address: token.address,
      abi: agoraUsdAbi,
      functionName: 'mint',
      args: [alice.address, 100_000_000n],
    })
    await chain.publicClient.waitForTransactionReceipt({ hash })
  })
  afterAll(() => chain?.close())

  const read = (functionName: string, args: unknown[] = []) =>
    chain.publicClient.readContract({ address: token.address, abi: agoraUsdAbi, functionName, args })

  it('has USDC metadata and the EIP-712 domain ("USD Coin", "2")', async () => {
    expect(token).toMatchObject({ name: 'USD Coin', version: '2', decimals: 6, symbol: 'USDC' })
    expect(await read('name')).toBe(AGORA_USD.name)
    expect(await read('symbol')).toBe('USDC')
    expect(await read('decimals')).toBe(6)
    expect(await read('version')).toBe('2')
    expect(await read('DOMAIN_SEPARATOR')).toBe(
      domainSeparator({ domain: { name: 'USD Coin', version: '2', chainId: chain.chainId, verifyingContract: token.address } }),
    )
  })

  it('lets only the deployer mint', async () => {
    await expect(
      chain.walletClients[1]!.writeContract({ address: token.address, abi: agoraUsdAbi, functionName: 'mint', args: [bob, 1n] }),
    ).rejects.toThrow(/caller is not the minter/)
  })

  const authorization = (value: bigint, overrides: { validAfter?: bigint; validBefore?: bigint } = {}) => ({
    from: alice.address,
    to: bob,
    value,
    validAfter: overrides.validAfter ?? now() - 60n,
    validBefore: overrides.validBefore ?? now() + 600n,
    nonce: randomNonce(),
  })
  const args = (a: ReturnType<typeof authorization>) => [a.from, a.to, a.value, a.validAfter, a.validBefore, a.nonce] as const
  const submit = (fnArgs: readonly unknown[]) =>
    chain.walletClients[3]!.writeContract({
      address: token.address,
      abi: agoraUsdAbi,
      functionName: 'transferWithAuthorization',
      args: fnArgs,
    })

  it('transferWithAuthorization (v, r, s) moves funds, marks the nonce used and refuses a replay', async () => {
    const auth = authorization(1_250_000n)
    const { v, r, s } = await signAuthorization(chain.chainId, token, alice, auth)
    const before = await tokenBalance(chain.publicClient, token.address, bob)
    const hash = await submit([...args(auth), v, r, s])
    const receipt = await chain.publicClient.waitForTransactionReceipt({ hash })
    expect(receipt.status).toBe('success')
    expect(await tokenBalance(chain.publicClient, token.address, bob)).toBe(before + 1_250_000n)
    expect(await read('authorizationState', [alice.address, auth.nonce])).toBe(true)
    const used = parseEventLogs({ abi: agoraUsdAbi, logs: receipt.logs, eventName: 'AuthorizationUsed' })
    expect(used).toHaveLength(1)
    await expect(submit([...args(auth), v, r, s])).rejects.toThrow(/authorization is used or canceled/)
  })

  it('transferWithAuthorization (bytes signature) moves funds too', async () => {
    const auth = authorization(10_000n)
    const { signature } = await signAuthorization(chain.chainId, token, alice, auth)
    const before = await tokenBalance(chain.publicClient, token.address, alice.address)
    await chain.publicClient.waitForTransactionReceipt({ hash: await submit([...args(auth), signature]) })
    expect(await tokenBalance(chain.publicClient, token.address, alice.address)).toBe(before - 10_000n)
    await expect(submit([...args(auth), signature])).rejects.toThrow(/authorization is used or canceled/)
  })

  it('refuses expired, not-yet-valid, tampered and foreign-signed authorizations', async () => {
    const expired = authorization(1n, { validAfter: 0n, validBefore: now() - 10n })
    const e = await signAuthorization(chain.chainId, token, alice, expired)
    await expect(submit([...args(expired), e.signature])).rejects.toThrow(/authorization is expired/)

    const early = authorization(1n, { validAfter: now() + 3600n, validBefore: now() + 7200n })
    const f = await signAuthorization(chain.chainId, token, alice, early)
    await expect(submit([...args(early), f.signature])).rejects.toThrow(/authorization is not yet valid/)

    const auth = authorization(5n)
    const sig = await signAuthorization(chain.chainId, token, alice, auth)
    await expect(submit([...args({ ...auth, value: 6n }), sig.v, sig.r, sig.s])).rejects.toThrow(/invalid signature/)

    const mallory = chain.accounts[3]!
    const forged = await signAuthorization(chain.chainId, token, mallory, auth)
    await expect(submit([...args(auth), forged.signature])).rejects.toThrow(/invalid signature/)
    expect(await read('authorizationState', [alice.address, auth.nonce])).toBe(false)
  })

  it('has Multicall3 at its usual address, so batched reads work', async () => {
    const [balance, decimals] = await chain.publicClient.multicall({
      contracts: [
        { address: token.address, abi: agoraUsdAbi, functionName: 'balanceOf', args: [alice.address] },
        { address: token.address, abi: agoraUsdAbi, functionName: 'decimals' },
      ],
      allowFailure: false,
    })
    expect(typeof balance).toBe('bigint')
    expect(decimals).toBe(6)
  })
})
