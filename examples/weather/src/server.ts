/**
 * The weather example: a free tool, a tool priced in USDC (x402), a tool priced in sats (Lightning),
 * a resource, a resource template and a prompt.
 * Serve it with `agora serve examples/weather/src/server.ts --http 127.0.0.1:3000`.
 */
import { createServer, ToolError } from '@agora/core'
import { z } from 'zod'
import { alerts, current, findStation, forecast, STATIONS } from './stations.ts'

const city = z.string().min(1).describe('City name or station id, e.g. "Oslo" or "osl"')

function station(name: string) {
  const s = findStation(name)
  if (!s) throw new ToolError(`Unknown city "${name}". Known: ${STATIONS.map((x) => x.city).join(', ')}`)
  return s
}

export default createServer({
  name: 'weather',
  version: '1.0.0',
  title: 'Weather',
  description: 'Current conditions for free, multi-day forecasts and severe-weather alerts for a small fee.',
  instructions: 'Use current-weather for now; forecast costs 0.01 USDC per call, alerts 10 sats.',
})
  .tool(
    'current-weather',
    {
      title: 'Current weather',
      description: 'Current temperature and conditions in a city.',
      input: z.object({ city }),
      output: z.object({ city: z.string(), temperatureC: z.number(), condition: z.string() }),
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    ({ city: name }) => {
      const s = station(name)
      return { city: s.city, ...current(s) }
    },
  )
  .tool(
    'forecast',
    {
      title: 'Forecast',
      description: 'Daily forecast for up to 7 days. Costs 0.01 USDC per call.',
      input: z.object({ city, days: z.number().int().min(1).max(7).default(3).describe('Number of days (1-7)') }),
      annotations: { readOnlyHint: true },
      price: '0.01 USDC',
    },
    async ({ city: name, days }, ctx) => {
      const s = station(name)
      await ctx.progress(1, 2, `looking up ${s.city}`)
      const days_ = forecast(s, days)
      await ctx.progress(2, 2, 'done')
      return { city: s.city, days: days_ }
    },
  )
  .tool(
    'alerts',
    {
      title: 'Severe-weather alerts',
      description: 'Heavy rain, strong wind and frost alerts for the next 7 days. Costs 10 sats per call (Lightning).',
      input: z.object({ city }),
      annotations: { readOnlyHint: true },
      price: '10 sats',
    },
    ({ city: name }) => {
      const s = station(name)
      return { city: s.city, alerts: alerts(s, 7) }
    },
  )
  .resource('weather://stations', { name: 'stations', description: 'All weather stations', mimeType: 'application/json' }, () =>
    JSON.stringify(STATIONS.map(({ id, city: c, country, lat, lon }) => ({ id, city: c, country, lat, lon }))),
  )
  .resourceTemplate(
    'weather://station/{id}',
    {
      name: 'station',
      description: 'One station by id',
      mimeType: 'application/json',
      list: () => STATIONS.map((s) => ({ uri: `weather://station/${s.id}`, name: s.city, mimeType: 'application/json' })),
      complete: { id: (v) => STATIONS.map((s) => s.id).filter((id) => id.startsWith(v)) },
    },
    (_uri, { id }) => JSON.stringify(station(String(id))),
  )
  .prompt(
    'plan-trip',
    {
      description: 'Plan what to pack for a trip, using the forecast',
      args: z.object({ city: z.string().describe('Destination'), days: z.string().optional().describe('Trip length in days') }),
      complete: { city: (v) => STATIONS.map((s) => s.city).filter((c) => c.toLowerCase().startsWith(v.toLowerCase())) },
    },
    ({ city: c, days }) =>
      `I am travelling to ${c} for ${days ?? '3'} days. Call the forecast tool for ${c}, then tell me what to pack and which day is best for being outdoors.`,
  )
