import { existsSync } from 'node:fs'
import { AgoraError, isAgoraError } from '@agora/core/errors'
import {
  createWallet,
  defaultWalletPath,
  describeDevchain,
  loadWallet,
  balance as readBalance,
  requestFaucet,
} from '@agora/payments/wallet'
import type { WalletFlags } from '../commands/wallet.ts'
import { DEVCHAIN_URL } from '../defaults.ts'

const say = (line: string) => process.stderr.write(`agora: ${line}\n`)
const json = (value: unknown): void => {
  process.stdout.write(`${JSON.stringify(value)}\n`)
}

/** `agora wallet create`: a fresh key in a 0600 keystore. */
export async function create(flags: WalletFlags): Promise<void> {
  const path = defaultWalletPath()
  if (existsSync(path) && !flags.force) {
    const existing = await loadWallet(path).catch(() => undefined)
    throw new AgoraError(
      'CONFIG',
      `a wallet already exists at ${path}${existing ? ` (${existing.address})` : ''}; agora wallet create --force replaces it, and its key and funds are lost`,
    )
  }
  const wallet = await createWallet(path, { force: flags.force })
  if (flags.json) return json({ address: wallet.address, path, createdAt: wallet.createdAt })
  process.stdout.write(`${wallet.address}\n`)
  say(`created a wallet at ${path} (only you can read it: it holds the private key)`)
  say('fund it on the dev chain of agora dev with: agora wallet fund')
}

/** `agora wallet address`. */
export async function address(flags: WalletFlags): Promise<void> {
  const wallet = await loadWallet(defaultWalletPath())
  if (flags.json) return json({ address: wallet.address, path: wallet.path })
  process.stdout.write(`${wallet.address}\n`)
}

/** `agora wallet balance`: the token balance on a chain (the dev chain's token by default). */
export async function balance(flags: WalletFlags): Promise<void> {
  const wallet = await loadWallet(defaultWalletPath())
  const rpc = flags.rpc ?? DEVCHAIN_URL
  const token = flags.token ?? (await devchainToken(rpc))
  const held = await readBalance(rpc, token, wallet.address).catch((err: unknown) => {
    throw new AgoraError('CONNECTION', `cannot read the balance from ${rpc}: ${(err as Error).message}`, { cause: err })
  })
  if (flags.json) {
    const { amount, atomic, symbol, decimals } = held
    return json({
      address: wallet.address,
      token: held.address,
      symbol,
      decimals,
      balance: amount,
      atomic: atomic.toString(),
      rpcUrl: rpc,
    })
  }
  process.stdout.write(`${held.amount} ${held.symbol}\n`)
}

/** `agora wallet fund [amount]`: dev tokens (and gas) from the dev chain's faucet. */
export async function fund(amount: string | undefined, flags: WalletFlags): Promise<void> {
  const wallet = await loadWallet(defaultWalletPath())
  const faucet = flags.faucet ?? `${DEVCHAIN_URL}/faucet`
  const drip = await requestFaucet(faucet, wallet.address, amount ?? '10')
  if (flags.json) return json(drip)
  say(`funded ${wallet.address} with ${drip.amount} USDC (transaction ${drip.transaction}); balance ${drip.balance} USDC`)
}

async function devchainToken(rpc: string): Promise<string> {
  try {
    return (await describeDevchain(rpc)).token.address
  } catch (err) {
    if (isAgoraError(err) && err.code === 'CONFIG') {
      throw new AgoraError('CONFIG', `${err.message}: pass --token <address>`, { cause: err })
    }
    throw err
  }
}
