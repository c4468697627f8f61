import type { PaymentGateway } from '@agora/core'
import { describe, expect, it } from 'vitest'
import { lightningRoute } from '../../src/lightning/index.ts'

describe('lightningRoute', () => {
  it('takes prices in sats, msat and BTC (any case) and nothing else', () => {
    const gateway = {} as PaymentGateway
    const route = lightningRoute(gateway)
    expect(route.gateway).toBe(gateway)
    const takes = (asset: string) => route.accepts?.({ amount: '1', asset }, {} as never)
    expect(['sats', 'SAT', 'msat', 'BTC'].map(takes)).toEqual([true, true, true, true])
    expect(['USDC', 'eth'].map(takes)).toEqual([false, false])
  })
})
