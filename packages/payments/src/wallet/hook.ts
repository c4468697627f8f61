import { AgoraError } from '@agora/core/errors'
import { x402Client } from '@x402/core/client'
import { toClientEvmSigner } from '@x402/evm'
import { ExactEvmScheme } from '@x402/evm/exact/client'
import type { LocalAccount } from 'viem'
import { getAddress, isAddress, parseAbi } from 'viem'
import { fromAtomicUnits } from '../amount.ts'
import type { PaymentPayload, PaymentRequirements } from '../rail.ts'
import type { AssetInfo, ChainReader } from './asset.ts'
import { assetInfo, chainReader } from './asset.ts'
import type { BudgetPolicy } from './budget.ts'
import { budgetRefusal, checkBudgetPolicy } from './budget.ts'
import type { PaymentEntry, PaymentRecord } from './record.ts'
import { openPaymentRecord } from './record.ts'

/**
 * A payment challenge as `@agora/client` hands it to its `payments` hook (the same shape, kept
 * here so this package does not depend on the client).
 */
export interface PaymentChallengeLike {
  paymentRequired: {
    x402Version: number
    error?: string
    resource: { url: string; description?: string; mimeType?: string }
    accepts: PaymentRequirements[]
    extensions?: Record<string, unknown>
  }
  form: string
  tool: string
  target: string
}

/** How a paid call ended, as `@agora/client` reports it. */
export interface PaymentOutcomeLike {
  challenge: PaymentChallengeLike
  proof: unknown
  status: 'settled' | 'refused' | 'unpaid' | 'error'
  settlement?: Record<string, unknown>
  reason?: string
}

/** `@agora/client`'s `PaymentHook`, implemented by {@link evmPaymentHook}. */
export interface EvmPaymentHook {
  onPaymentRequired(
    challenge: PaymentChallengeLike,
    options?: { signal?: AbortSignal | undefined },
  ): Promise<{ proof: PaymentPayload } | { decline: string }>
  onPaymentResult(outcome: PaymentOutcomeLike): Promise<void>
}

export interface EvmPaymentHookOptions {
  /** Who pays: a loaded wallet, or any viem local account. */
  wallet: { readonly account: LocalAccount }
  /** JSON-RPC of the chain the wallet pays on (reads its id, token decimals and the balance). */
  rpcUrl?: string | undefined
  /** Or a client for it (takes precedence over `rpcUrl`). */
  publicClient?: ChainReader | undefined
  /** Limits checked before anything is signed. Default: none. */
  budget?: BudgetPolicy | undefined
  /** Where payments are recorded (and budgets computed from). Default `$AGORA_HOME/payments.jsonl`. */
  record?: PaymentRecord | undefined
  /** CAIP-2 networks the wallet pays on. Default: the chain `rpcUrl` / `publicClient` is on. */
  networks?: readonly string[] | undefined
  /** Known tokens by address (symbol, decimals), so they need not be read from the chain. */
  assets?: Readonly<Record<string, Omit<AssetInfo, 'address'>>> | undefined
  /** Decline when the wallet's token balance is below the price (read from the chain). Default true. */
  checkBalance?: boolean | undefined
  /** Hears every payment recorded: once when signed, again with its outcome. */
  onPayment?: ((entry: PaymentEntry) => void) | undefined
}

const balanceOfAbi = parseAbi(['function balanceOf(address owner) view returns (uint256)'])
const DAY_MS = 24 * 60 * 60 * 1000

/** An offer this wallet could pay, with what it takes to show and budget it. */
interface Candidate {
  offer: PaymentRequirements
  asset: AssetInfo
  price: bigint
}

/**
 * A `PaymentHook` for `@agora/client` that pays x402 `exact` offers on EVM from a local wallet,
 * within a budget: it picks the first offer it can pay (scheme `exact`, a network it pays on, an
 * EIP-3009 token), declines — before signing anything — when the price breaks a limit of the
 * budget or the wallet's balance, records the payment when it signs, and signs with the x402
 * client (an EIP-3009 `transferWithAuthorization` for exactly the price).
 *
 * @example
 * ```ts
 * import { connect } from '@agora/client'
 * import { evmPaymentHook, loadWallet, openPaymentRecord } from '@agora/payments/wallet'
 *
 * const payments = evmPaymentHook({
 *   wallet: await loadWallet(),
 *   rpcUrl: 'http://127.0.0.1:8545',
 *   budget: { maxPerCall: '0.05', maxPerServerPerDay: '1', maxTotal: '10' },
 *   record: openPaymentRecord(),
 * })
 * const client = await connect('http://127.0.0.1:3000/mcp', { payments })
 * const result = await client.callTool('forecast', { city: 'Oslo' })
 * console.log(result._meta?.['agora/receipt'])
 * ```
 */
export function evmPaymentHook(options: EvmPaymentHookOptions): EvmPaymentHook {
  const { account } = options.wallet
  const budget = options.budget ?? {}
  checkBudgetPolicy(budget)
  const record = options.record ?? openPaymentRecord()
  const reader = options.publicClient ?? (options.rpcUrl ? chainReader(options.rpcUrl) : undefined)
  if (!reader && !options.networks?.length) {
    throw new AgoraError(
      'CONFIG',
      'evmPaymentHook needs rpcUrl or publicClient (or networks and assets to pay without reading the chain)',
    )
  }
  const where = options.rpcUrl ?? 'the chain'
  let networks: Promise<readonly string[]> | undefined
  const payableNetworks = () => {
    networks ??= options.networks
      ? Promise.resolve(options.networks)
      : reader!.getChainId().then(
          (id) => [`eip155:${id}`],
          (err: unknown) => {
            networks = undefined
            throw new AgoraError('CONNECTION', `cannot reach ${where} to learn its chain id: ${shortMessage(err)}`, {
              cause: err,
            })
          },
        )
    return networks
  }
  const known = new Map(Object.entries(options.assets ?? {}).map(([a, info]) => [a.toLowerCase(), info]))
  const assets = new Map<string, Promise<AssetInfo>>()
  const describeAsset = (token: string): Promise<AssetInfo> => {
    const key = token.toLowerCase()
    const hit = known.get(key)
    if (hit) return Promise.resolve({ ...hit, address: getAddress(token) })
    if (!reader) return Promise.reject(new AgoraError('CONFIG', `unknown token ${token}: give its symbol and decimals in assets`))
    let pending = assets.get(key)
    if (!pending) {
      pending = assetInfo(reader, token)
      pending.catch(() => assets.delete(key))
      assets.set(key, pending)
    }
    return pending
  }
  const signers = new Map<string, x402Client>()
  const signerFor = (network: string) => {
    let client = signers.get(network)
    if (!client) {
      const scheme = new ExactEvmScheme(toClientEvmSigner(account, reader as never))
      client = new x402Client().register(network as `${string}:${string}`, scheme)
      signers.set(network, client)
    }
    return client
  }
  const notify = (entry: PaymentEntry) => {
    try {
      options.onPayment?.(entry)
    } catch {}
  }

  async function candidates(challenge: PaymentChallengeLike): Promise<Candidate[] | string> {
    const { paymentRequired } = challenge
    if (paymentRequired.x402Version !== 2) {
      return `${challenge.tool}: the server asks for x402 version ${paymentRequired.x402Version}; this wallet pays x402 v2`
    }
    const payable = await payableNetworks()
    const fit = paymentRequired.accepts.filter(
      (o) =>
        o.scheme === 'exact' &&
        payable.includes(o.network) &&
        isAddress(o.asset, { strict: false }) &&
        isAddress(o.payTo, { strict: false }) &&
        /^\d+$/.test(o.amount) &&
        typeof o.extra?.name === 'string' &&
        typeof o.extra?.version === 'string',
    )
    if (fit.length === 0) {
      const offered = paymentRequired.accepts.map((o) => `${o.scheme} on ${o.network}`).join(', ') || 'nothing'
      return `${challenge.tool}: no payment option this wallet can pay (it pays x402 exact on ${payable.join(', ')}; the server offers ${offered})`
    }
    return Promise.all(
      fit.map(async (offer) => ({ offer, asset: await describeAsset(offer.asset), price: BigInt(offer.amount) })),
    )
  }

  async function onPaymentRequired(
    challenge: PaymentChallengeLike,
    callOptions: { signal?: AbortSignal | undefined } = {},
  ): Promise<{ proof: PaymentPayload } | { decline: string }> {
    callOptions.signal?.throwIfAborted()
    const found = await candidates(challenge)
    if (typeof found === 'string') return { decline: found }
    return record.locked(async () => {
      let refusal: string | undefined
      let chosen: Candidate | undefined
      const since = new Date(Date.now() - DAY_MS)
      for (const c of found) {
        const query = { network: c.offer.network, asset: c.offer.asset }
        const why = budgetRefusal(budget, {
          tool: challenge.tool,
          target: challenge.target,
          price: c.price,
          decimals: c.asset.decimals,
          symbol: c.asset.symbol,
          spentOnServerToday: budget.maxPerServerPerDay ? await record.spent({ ...query, target: challenge.target, since }) : 0n,
          spentTotal: budget.maxTotal ? await record.spent(query) : 0n,
        })
        if (!why) {
          chosen = c
          break
        }
        refusal ??= why
      }
      if (!chosen) return { decline: refusal ?? `${challenge.tool}: over budget` }
      const { offer, asset, price } = chosen
      const shown = `${fromAtomicUnits(price, asset.decimals)} ${asset.symbol}`
      if (options.checkBalance !== false && reader) {
        const held = await reader
          .readContract({ address: asset.address, abi: balanceOfAbi, functionName: 'balanceOf', args: [account.address] })
          .catch(() => undefined)
        if (typeof held === 'bigint' && held < price) {
          return {
            decline: `${challenge.tool} costs ${shown}, but the wallet ${account.address} holds ${fromAtomicUnits(held, asset.decimals)} ${asset.symbol} on ${offer.network}`,
          }
        }
      }
      callOptions.signal?.throwIfAborted()
      const signer = signerFor(offer.network).setSpendControls({
        maxAmountPerPayment: false,
        allowedAssets: [
          { network: offer.network as `${string}:${string}`, asset: offer.asset, maxAmountPerPayment: offer.amount },
        ],
      })
      const proof = (await signer.createPaymentPayload({
        ...challenge.paymentRequired,
        x402Version: 2,
        accepts: [offer],
      } as never)) as unknown as PaymentPayload
      const auth = (proof.payload as { authorization?: { nonce?: string; value?: string; validBefore?: string } }).authorization
      if (!auth?.nonce || auth.value !== offer.amount) {
        throw new AgoraError('INTERNAL', 'the x402 client signed something other than the chosen offer; nothing was sent')
      }
      const entry: PaymentEntry = {
        id: auth.nonce,
        time: new Date().toISOString(),
        target: challenge.target,
        tool: challenge.tool,
        resource: challenge.paymentRequired.resource?.url,
        amount: fromAtomicUnits(price, asset.decimals),
        atomic: price.toString(),
        asset: asset.address,
        symbol: asset.symbol,
        network: offer.network,
        payTo: getAddress(offer.payTo),
        payer: account.address,
        nonce: auth.nonce,
        validBefore: auth.validBefore,
      }
      await record.append(entry) // before the proof leaves: the budget always sees it
      notify(entry)
      return { proof }
    })
  }

  async function onPaymentResult(outcome: PaymentOutcomeLike): Promise<void> {
    const nonce = (outcome.proof as { payload?: { authorization?: { nonce?: unknown } } } | undefined)?.payload?.authorization
      ?.nonce
    if (typeof nonce !== 'string') return
    const transaction = outcome.settlement?.transaction
    const result = {
      status: outcome.status,
      time: new Date().toISOString(),
      ...(typeof transaction === 'string' && transaction ? { transaction } : {}),
      ...(outcome.reason ? { reason: outcome.reason } : {}),
    }
    await record.settle(nonce, result)
    const entry = (await record.list()).find((p) => p.id === nonce)
    if (entry) notify(entry)
  }

  return { onPaymentRequired, onPaymentResult }
}

function shortMessage(err: unknown): string {
  const e = err as { shortMessage?: string; message?: string }
  return (e.shortMessage ?? e.message ?? String(err)).split('\n')[0] ?? ''
}
