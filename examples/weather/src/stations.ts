/** A small, deterministic weather model so the example works offline and tests can assert on it. */
export interface Station {
  id: string
  city: string
  country: string
  lat: number
  lon: number
  /** Mean temperature in °C and daily swing, used to derive a stable forecast. */
  meanC: number
  swingC: number
}

export const STATIONS: readonly Station[] = [
  { id: 'osl', city: 'Oslo', country: 'NO', lat: 59.91, lon: 10.75, meanC: 6, swingC: 7 },
  { id: 'lis', city: 'Lisbon', country: 'PT', lat: 38.72, lon: -9.14, meanC: 17, swingC: 5 },
  { id: 'nbo', city: 'Nairobi', country: 'KE', lat: -1.29, lon: 36.82, meanC: 19, swingC: 6 },
  { id: 'syd', city: 'Sydney', country: 'AU', lat: -33.87, lon: 151.21, meanC: 18, swingC: 4 },
  { id: 'yvr', city: 'Vancouver', country: 'CA', lat: 49.28, lon: -123.12, meanC: 10, swingC: 5 },
]

const CONDITIONS = ['sunny', 'partly cloudy', 'cloudy', 'light rain', 'showers', 'windy'] as const

export function findStation(city: string): Station | undefined {
  const q = city.trim().toLowerCase()
  return STATIONS.find((s) => s.city.toLowerCase() === q || s.id === q)
}

/** A tiny deterministic hash → [0, 1). */
function noise(seed: string): number {
  let h = 2166136261
  for (let i = 0; i < seed.length; i++) h = Math.imul(h ^ seed.charCodeAt(i), 16777619)
  return ((h >>> 0) % 10_000) / 10_000
}

export interface DayForecast {
  day: number
  highC: number
  lowC: number
  condition: (typeof CONDITIONS)[number]
  precipitationMm: number
}

export function forecast(station: Station, days: number): DayForecast[] {
  return Array.from({ length: days }, (_, i) => {
    const n = noise(`${station.id}:${i}`)
    const mid = station.meanC + (n - 0.5) * 6
    const condition = CONDITIONS[Math.floor(n * CONDITIONS.length)] ?? 'sunny'
    return {
      day: i + 1,
      highC: Math.round(mid + station.swingC / 2),
      lowC: Math.round(mid - station.swingC / 2),
      condition,
      precipitationMm: condition.includes('rain') || condition === 'showers' ? Math.round(n * 120) / 10 : 0,
    }
  })
}

export function current(station: Station): { temperatureC: number; condition: string } {
  const [today] = forecast(station, 1)
  return { temperatureC: Math.round(((today?.highC ?? 0) + (today?.lowC ?? 0)) / 2), condition: today?.condition ?? 'sunny' }
}

export interface Alert {
  day: number
  kind: 'heavy rain' | 'strong wind' | 'frost'
  detail: string
}

/** Severe-weather alerts over the next `days` days, derived from the same model as the forecast. */
export function alerts(station: Station, days: number): Alert[] {
  const out: Alert[] = []
  for (const d of forecast(station, days)) {
    if (d.precipitationMm >= 5) out.push({ day: d.day, kind: 'heavy rain', detail: `${d.precipitationMm} mm expected` })
    if (d.condition === 'windy') out.push({ day: d.day, kind: 'strong wind', detail: 'gusts above 60 km/h' })
    if (d.lowC <= 0) out.push({ day: d.day, kind: 'frost', detail: `low of ${d.lowC} °C` })
  }
  return out
}
