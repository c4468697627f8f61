import { createSdkServer, silentLogger } from '@agora/core'
import { Client, InMemoryTransport } from '@modelcontextprotocol/client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import weather from '../src/server.ts'
import { alerts, findStation, forecast } from '../src/stations.ts'

let client: Client
beforeAll(async () => {
  const [a, b] = InMemoryTransport.createLinkedPair()
  await createSdkServer(weather, { logger: silentLogger }).connect(a)
  client = new Client({ name: 'weather-test', version: '1.0.0' })
  await client.connect(b)
})
afterAll(() => client.close())

describe('examples/weather', () => {
  it('lists a free tool, one priced in USDC and one in sats', async () => {
    const { tools } = await client.listTools()
    expect(tools.map((t) => [t.name, t._meta?.['agora/price'] ?? null])).toEqual([
      ['current-weather', null],
      ['forecast', { amount: '0.01', asset: 'USDC' }],
      ['alerts', { amount: '10', asset: 'sats' }],
    ])
  })

  it('answers current-weather with structured content', async () => {
    const r = await client.callTool({ name: 'current-weather', arguments: { city: 'Oslo' } })
    expect(r.structuredContent).toMatchObject({ city: 'Oslo', condition: expect.any(String), temperatureC: expect.any(Number) })
  })

  it('reports an unknown city as a tool error listing the known ones', async () => {
    const r = await client.callTool({ name: 'current-weather', arguments: { city: 'Atlantis' } })
    expect(r.isError).toBe(true)
    expect(JSON.stringify(r.content)).toContain('Unknown city \\"Atlantis\\". Known: Oslo, Lisbon')
  })

  it('does not run the priced forecast without a payment rail', async () => {
    await expect(client.callTool({ name: 'forecast', arguments: { city: 'Oslo' } })).rejects.toMatchObject({ code: -31402 })
  })

  it('serves the stations resource, the station template and its completions', async () => {
    const stations = await client.readResource({ uri: 'weather://stations' })
    expect(JSON.parse((stations.contents[0] as { text: string }).text)).toHaveLength(5)
    const one = await client.readResource({ uri: 'weather://station/lis' })
    expect(JSON.parse((one.contents[0] as { text: string }).text)).toMatchObject({ city: 'Lisbon' })
    const listed = await client.listResources()
    expect(listed.resources.map((r) => r.uri)).toContain('weather://station/nbo')
    const done = await client.complete({
      ref: { type: 'ref/resource', uri: 'weather://station/{id}' },
      argument: { name: 'id', value: 's' },
    })
    expect(done.completion.values).toEqual(['syd'])
  })

  it('renders the plan-trip prompt', async () => {
    const p = await client.getPrompt({ name: 'plan-trip', arguments: { city: 'Nairobi', days: '5' } })
    expect(p.messages[0]?.content).toMatchObject({ type: 'text', text: expect.stringContaining('Nairobi for 5 days') })
    await expect(client.getPrompt({ name: 'plan-trip', arguments: {} })).rejects.toMatchObject({ code: -32602 })
  })

  it('derives alerts from the same model as the forecast', () => {
    const oslo = findStation('Oslo')!
    const days = forecast(oslo, 7)
    const found = alerts(oslo, 7)
    expect(found.length).toBeGreaterThan(0)
    for (const a of found) {
      const day = days[a.day - 1]!
      if (a.kind === 'heavy rain') expect(day.precipitationMm).toBeGreaterThanOrEqual(5)
      if (a.kind === 'strong wind') expect(day.condition).toBe('windy')
      if (a.kind === 'frost') expect(day.lowC).toBeLessThanOrEqual(0)
    }
    const expected = days.filter((d) => d.precipitationMm >= 5 || d.condition === 'windy' || d.lowC <= 0).length
    expect(new Set(found.map((a) => a.day)).size).toBe(expected)
  })

  it('refuses the sats-priced alerts tool without a payment rail', async () => {
    await expect(client.callTool({ name: 'alerts', arguments: { city: 'Oslo' } })).rejects.toThrow(/no payment rail/)
  })
})
