import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Started } from './helpers.ts'
import { AGORA, agora, repo, start } from './helpers.ts'

const ECHO = repo('packages/cli/test/fixtures/echo-server.ts')
const WEATHER = repo('examples/weather/src/server.ts')

interface P2pReady {
  event: string
  name: string
  http?: string
  p2p: { peerId: string; addrs: string[] }
  pid: number
}

interface Discovered {
  servers: Array<{
    peerId: string
    addrs: string[]
    descriptor: { name: string; version: string; tools: Array<{ name: string; price?: unknown }>; endpoints: unknown[] }
  }>
  skipped: unknown[]
}

const PEER_ADDR = /^\/ip4\/127\.0\.0\.1\/tcp\/\d+\/p2p\/12D3KooW\w+$/

describe('agora serve --p2p, discover and call over libp2p', () => {
  let echo: Started<P2pReady>
  let weather: Started<P2pReady>
  beforeAll(async () => {
    echo = await start<P2pReady>('node', [AGORA, 'serve', ECHO, '--p2p', '/ip4/127.0.0.1/tcp/0', '--json'])
    weather = await start<P2pReady>('node', [
      AGORA,
      'serve',
      WEATHER,
      '--p2p',
      '/ip4/127.0.0.1/tcp/0',
      '--bootstrap',
      echo.ready.p2p.addrs[0]!,
      '--http',
      '127.0.0.1:0',
      '--json',
    ])
  })
  afterAll(async () => {
    expect(await weather?.stop()).toBe(0)
    expect(await echo?.stop()).toBe(0)
  })

  it('prints the libp2p identity in the ready line (and serves HTTP only when asked)', () => {
    expect(echo.ready).toEqual({
      event: 'ready',
      p2p: { peerId: expect.stringMatching(/^12D3KooW/), addrs: [expect.stringMatching(PEER_ADDR)] },
      name: 'echo',
      version: '1.2.3',
      pid: expect.any(Number),
    })
    expect(echo.ready.p2p.addrs[0]).toContain(echo.ready.p2p.peerId)
    expect(weather.ready).toMatchObject({ http: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+\/mcp$/), name: 'weather' })
  })

  it('discovers each server by name through the other, then calls it by the address found', async () => {
    const found = await agora(['discover', '--p2p', '--bootstrap', echo.ready.p2p.addrs[0]!, '--service', 'weather', '--json'])
    expect(found.code).toBe(0)
    const { servers, skipped } = JSON.parse(found.stdout) as Discovered
    expect(skipped).toEqual([])
    expect(servers).toHaveLength(1)
    expect(servers[0]).toMatchObject({
      peerId: weather.ready.p2p.peerId,
      descriptor: {
        name: 'weather',
        tools: [
          { name: 'current-weather' },
          { name: 'forecast', price: { amount: '0.01', asset: 'USDC' } },
          { name: 'alerts', price: { amount: '10', asset: 'sats' } },
        ],
        endpoints: [
          { transport: 'libp2p', peerId: weather.ready.p2p.peerId },
          { transport: 'streamable-http', url: weather.ready.http },
        ],
      },
    })
    const call = await agora(['call', `p2p:${servers[0]!.addrs[0]}`, 'current-weather', '--args', '{"city":"Oslo"}', '--json'])
    expect(call.code).toBe(0)
    expect(JSON.parse(call.stdout).structuredContent).toMatchObject({ city: 'Oslo', temperatureC: expect.any(Number) })

    // The other way round, for people: a table with prices, and a hint to try.
    const human = await agora(['discover', '--p2p', '--bootstrap', weather.ready.p2p.addrs[0]!, '--service', 'echo'])
    expect(human.code).toBe(0)
    expect(human.stdout).toMatch(/^Found 1 server:\n\necho 1\.2\.3 — CLI test fixture\n/)
    expect(human.stdout).toContain(`  peer   ${echo.ready.p2p.peerId}`)
    expect(human.stdout).toMatch(/premium\(\)\s+\[0\.5 USDC\] Costs money/)
    expect(human.stdout).toContain(`Try:  agora tools p2p:${echo.ready.p2p.addrs[0]}`)
    const echoed = await agora(['call', `p2p:${echo.ready.p2p.addrs[0]}`, 'echo', '--args', '{"text":"over libp2p"}'])
    expect(echoed).toMatchObject({ code: 0, stdout: 'over libp2p\n' })
  })

  it('finds servers by capability and lists tools over p2p:', async () => {
    const tools = await agora(['discover', '--p2p', '--bootstrap', echo.ready.p2p.addrs[0]!, '--capability', 'tools', '--json'])
    const names = (JSON.parse(tools.stdout) as Discovered).servers.map((s) => s.descriptor.name).sort()
    expect(names).toEqual(['echo', 'weather'])
    const prompts = await agora([
      'discover',
      '--p2p',
      '--bootstrap',
      echo.ready.p2p.addrs[0]!,
      '--capability',
      'prompts',
      '--json',
    ])
    expect((JSON.parse(prompts.stdout) as Discovered).servers.map((s) => s.descriptor.name)).toEqual(['weather'])
    const listed = await agora(['tools', `p2p:${weather.ready.p2p.addrs[0]}`])
    expect(listed.code).toBe(0)
    expect(listed.stdout).toMatch(/^weather 1\.0\.0: 3 tools\n/)
    const missing = await agora(['discover', '--p2p', '--bootstrap', echo.ready.p2p.addrs[0]!, '--service', 'nope'])
    expect(missing.code).toBe(1)
    expect(missing.stderr).toMatch(/^agora: no servers found named nope via \/ip4\//)
  })
})

describe('agora p2p usage and failures', () => {
  it('documents discover and the p2p flags', async () => {
    const [discover, serve] = await Promise.all([agora(['discover', '--help']), agora(['serve', '--help'])])
    expect(discover).toMatchObject({ code: 0, stdout: expect.stringContaining('Usage: agora discover') })
    expect(serve.stdout).toMatch(/--p2p <multiaddr>[\s\S]*--bootstrap <multiaddr>[\s\S]*--key-file <path>/)
  })

  it('refuses bad flags with exit 2', async () => {
    const results = await Promise.all([
      agora(['discover', '--service', 'weather']),
      agora(['discover', '--p2p', '--bootstrap', '/ip4/127.0.0.1/tcp/4001']),
      agora(['discover', '--p2p', '--capability', 'sampling']),
      agora(['serve', ECHO, '--p2p', 'localhost:4001']),
      agora(['serve', ECHO, '--bootstrap', '/ip4/127.0.0.1/tcp/4001/p2p/12D3KooWFNcyTt7hYdJXNDMiT1ufReu8vafD9mKjUgKHSq9CSmZD']),
    ])
    expect(results.map((r) => r.code)).toEqual([2, 2, 2, 2, 2])
    expect(results[0]!.stderr).toMatch(/--p2p searches the libp2p DHT/)
    expect(results[1]!.stderr).toMatch(/--bootstrap expects a multiaddr ending in \/p2p\/<PeerId>/)
    expect(results[2]!.stderr).toMatch(/--capability expects one of tools, resources, prompts/)
    expect(results[3]!.stderr).toMatch(/--p2p expects a multiaddr/)
    expect(results[4]!.stderr).toMatch(/go with --p2p/)
  })

  it('fails in one line when the bootstrap peer or the target is unreachable', async () => {
    const peer = '12D3KooWFNcyTt7hYdJXNDMiT1ufReu8vafD9mKjUgKHSq9CSmZD'
    const discover = await agora(['discover', '--p2p', '--bootstrap', `/ip4/127.0.0.1/tcp/1/p2p/${peer}`])
    expect(discover.code).toBe(1)
    expect(discover.stderr).toMatch(/^agora: cannot reach bootstrap peer \/ip4\/127\.0\.0\.1\/tcp\/1\/p2p\/12D3KooW\w+: .*\n$/)
    const call = await agora(['tools', `p2p:/ip4/127.0.0.1/tcp/1/p2p/${peer}`])
    expect(call.code).toBe(1)
    expect(call.stderr.trim().split('\n')).toHaveLength(1)
    const bad = await agora(['tools', 'p2p:/ip4/127.0.0.1/tcp/1'])
    expect(bad).toMatchObject({ code: 1, stderr: expect.stringMatching(/expected p2p:<multiaddr>\/p2p\/<PeerId>/) })
  })

  it('--key-file keeps the PeerId across restarts', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'agora-p2p-'))
    try {
      const args = [AGORA, 'serve', ECHO, '--p2p', '/ip4/127.0.0.1/tcp/0', '--key-file', join(dir, 'node.key'), '--json']
      const first = await start<P2pReady>('node', args)
      expect(await first.stop()).toBe(0)
      const second = await start<P2pReady>('node', args)
      expect(await second.stop()).toBe(0)
      expect(second.ready.p2p.peerId).toBe(first.ready.p2p.peerId)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})

describe('agora dev on libp2p', () => {
  it('runs a DHT bootstrap node and announces the examples there', async () => {
    const dev = await start<{
      servers: Array<{ name: string; http: string; p2p?: { peerId: string; addrs: string[] } }>
      p2p: { bootstrap: string }
    }>('node', [AGORA, 'dev', '--port', '0', '--json', '--no-devchain'])
    try {
      expect(dev.ready.p2p.bootstrap).toMatch(PEER_ADDR)
      const weather = dev.ready.servers.find((s) => s.name === 'weather')
      expect(weather?.p2p?.addrs[0]).toMatch(PEER_ADDR)
      const found = await agora(['discover', '--p2p', '--bootstrap', dev.ready.p2p.bootstrap, '--service', 'weather', '--json'])
      const { servers } = JSON.parse(found.stdout) as Discovered
      expect(servers.map((s) => s.peerId)).toEqual([weather!.p2p!.peerId])
      const call = await agora(['call', `p2p:${servers[0]!.addrs[0]}`, 'current-weather', '--args', '{"city":"Oslo"}'])
      expect(call.code).toBe(0)
      expect(JSON.parse(call.stdout)).toMatchObject({ city: 'Oslo' })
    } finally {
      expect(await dev.stop()).toBe(0)
    }
  })
})
