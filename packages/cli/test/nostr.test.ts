import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { AgoraClient } from '@agora/client'
import { connect, contentText } from '@agora/client'
import { nwcWallet } from '@agora/payments/lightning'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Started } from './helpers.ts'
import { AGORA, agora, repo, start } from './helpers.ts'

const WEATHER = repo('examples/weather/src/server.ts')
const EVERYTHING = repo('node_modules/@modelcontextprotocol/server-everything/dist/index.js')

interface NostrIdentity {
  pubkey: string
  serverId: string
  relays: string[]
}

interface DevReady {
  event: 'ready'
  servers: Array<{ name: string; http: string; nostr?: NostrIdentity }>
  nostr: {
    relay: string
    lightning: { network: string; userNwc: string; providerNwc: string; userBalanceSats: number; servers: string[] }
  }
}

interface ServeReady {
  event: 'ready'
  name: string
  nostr: NostrIdentity
  http?: string
}

interface BridgeReady extends ServeReady {
  announced: boolean
  tools: string[]
  lightning?: { network: string }
}

const target = (n: NostrIdentity) => `nostr:${n.pubkey}/${n.serverId}?${n.relays.map((r) => `relay=${r}`).join('&')}`

describe('MCP over Nostr from the command line: agora dev, serve --nostr, tools/call nostr:, gateway, bridge', () => {
  let dev: Started<DevReady>
  const dir = mkdtempSync(join(tmpdir(), 'agora-nostr-cli-'))
  const env = { AGORA_HOME: join(dir, 'home') }
  const running: Array<{ stop(): Promise<unknown> }> = []
  const clients: AgoraClient[] = []

  beforeAll(async () => {
    dev = await start<DevReady>('node', [AGORA, 'dev', '--port', '0', '--json', '--no-devchain', '--no-p2p'], {
      timeoutMs: 40_000,
    })
  }, 60_000)
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close()))
    for (const r of running.reverse()) await r.stop()
    expect(await dev?.stop()).toBe(0)
    rmSync(dir, { recursive: true, force: true })
  })

  it('agora dev announces the examples on its relay and funds a dev wallet reachable over NWC', () => {
    expect(dev.ready.nostr.relay).toMatch(/^ws:\/\/127\.0\.0\.1:\d+$/)
    const weather = dev.ready.servers.find((s) => s.name === 'weather')
    expect(weather?.nostr).toEqual({
      pubkey: expect.stringMatching(/^[0-9a-f]{64}$/),
      serverId: 'weather',
      relays: [expect.any(String)],
    })
    expect(dev.ready.nostr.lightning).toMatchObject({
      network: 'lightning:regtest',
      servers: ['weather'],
      userBalanceSats: 100_000,
    })
    expect(dev.ready.nostr.lightning.userNwc).toMatch(/^nostr\+walletconnect:\/\/[0-9a-f]{64}\?/)
  })

  it('agora discover --nostr finds the announced examples by tool, with prices and the target to call', async () => {
    const found = await agora(['discover', '--nostr', dev.ready.nostr.relay, '--tool', 'alerts', '--json'], { env })
    expect(found.code).toBe(0)
    const { servers } = JSON.parse(found.stdout) as {
      servers: Array<{ serverId: string; target: string; prices?: Record<string, unknown>; tools: Array<{ name: string }> }>
    }
    expect(servers.map((s) => s.serverId)).toEqual(['weather'])
    expect(servers[0]!.prices).toEqual({ forecast: { amount: '0.01', asset: 'USDC' }, alerts: { amount: '10', asset: 'sats' } })
    const listed = await agora(['tools', servers[0]!.target], { env })
    expect(listed.code).toBe(0)
    expect(listed.stdout).toContain('alerts')
    const none = await agora(['discover', '--nostr', dev.ready.nostr.relay, '--tool', 'no-such-tool'], { env })
    expect(none.code).toBe(1)
    expect(none.stderr).toMatch(/no servers found offering no-such-tool/)
  })

  it('agora tools and call reach an announced example through nostr: targets', async () => {
    const weather = dev.ready.servers.find((s) => s.name === 'weather')!.nostr!
    const tools = await agora(['tools', target(weather), '--json'], { env })
    expect(tools.code).toBe(0)
    const names = (JSON.parse(tools.stdout) as { tools: Array<{ name: string }> }).tools.map((t) => t.name)
    expect(names).toEqual(['current-weather', 'forecast', 'alerts'])
    const call = await agora(['call', target(weather), 'current-weather', '--args', '{"city":"Oslo"}', '--json'], { env })
    expect(call.code).toBe(0)
    expect(JSON.parse(call.stdout)).toMatchObject({ structuredContent: { city: 'Oslo' } })
  })

  it('agora call pays a held call from an NWC wallet with --nwc, and explains the invoice without it', async () => {
    const weather = dev.ready.servers.find((s) => s.name === 'weather')!.nostr!
    const args = ['call', target(weather), 'alerts', '--args', '{"city":"Lisbon"}']
    const unpaid = await agora(args, { env })
    expect(unpaid.code).toBe(1)
    expect(unpaid.stderr).toMatch(/lnbcrt/)
    const over = await agora([...args, '--nwc', dev.ready.nostr.lightning.userNwc, '--max-sats', '5'], { env })
    expect(over.code).toBe(1)
    expect(over.stderr).toMatch(/per-call limit of 5 sats/)
    const paid = await agora([...args, '--nwc', dev.ready.nostr.lightning.userNwc, '--max-sats', '20', '--json'], { env })
    expect(paid.code).toBe(0)
    expect(JSON.parse(paid.stdout)).toMatchObject({ structuredContent: { city: 'Lisbon' } })
    expect(paid.stderr).toContain('agora: paid 10 sats for alerts over Lightning')
  })

  it('agora serve --nostr prints its Nostr identity and answers over the relay', async () => {
    const keyFile = join(dir, 'nostr.key')
    const served = await start<ServeReady>('node', [
      AGORA,
      'serve',
      WEATHER,
      '--nostr',
      dev.ready.nostr.relay,
      '--nostr-key-file',
      keyFile,
      '--server-id',
      'weather-2',
      '--json',
    ])
    running.push(served)
    expect(served.ready).toMatchObject({
      event: 'ready',
      name: 'weather',
      nostr: { serverId: 'weather-2', relays: [expect.any(String)] },
    })
    expect(served.ready.http).toBeUndefined()
    const client = await connect(target(served.ready.nostr))
    clients.push(client)
    expect(contentText(await client.callTool('current-weather', { city: 'Lisbon' }))).toContain('Lisbon')
    expect(await served.stop()).toBe(0)
    // The key file keeps the pubkey across restarts.
    const again = await start<ServeReady>('node', [
      AGORA,
      'serve',
      WEATHER,
      '--nostr',
      dev.ready.nostr.relay,
      '--nostr-key-file',
      keyFile,
      '--json',
    ])
    running.push(again)
    expect(again.ready.nostr.pubkey).toBe(served.ready.nostr.pubkey)
    // Stopping withdraws the announcement: discovery no longer finds it.
    expect(await again.stop()).toBe(0)
    const { discoverNostr } = await import('@agora/transport-nostr')
    const found = await discoverNostr({ relays: [dev.ready.nostr.relay] })
    expect(found.map((s) => s.serverId).sort()).toEqual(['everything', 'weather'])
  })

  it('serves, discovers and calls with the ContextVM profile', async () => {
    const served = await start<ServeReady & { nostr: NostrIdentity & { profile?: string } }>('node', [
      AGORA,
      'serve',
      WEATHER,
      '--nostr',
      dev.ready.nostr.relay,
      '--nostr-profile',
      'contextvm',
      '--json',
    ])
    running.push(served)
    expect(served.ready.nostr.profile).toBe('contextvm')
    const found = await agora(['discover', '--nostr', dev.ready.nostr.relay, '--profile', 'contextvm', '--json'], { env })
    expect(found.code).toBe(0)
    const { servers } = JSON.parse(found.stdout) as { servers: Array<{ pubkey: string; target: string }> }
    const mine = servers.find((s) => s.pubkey === served.ready.nostr.pubkey)
    expect(mine?.target).toMatch(/&profile=contextvm$/)
    const call = await agora(['call', mine!.target, 'current-weather', '--args', '{"city":"Nairobi"}'], { env })
    expect(call.code).toBe(0)
    expect(call.stdout).toContain('Nairobi')
    // The gateway speaks the profile it is given to the servers it finds.
    const gateway = await connect(
      `stdio:${process.execPath} ${AGORA} gateway --nostr ${dev.ready.nostr.relay} --profile contextvm --rediscover 0`,
      { env, timeoutMs: 30_000 },
    )
    try {
      // Only the ContextVM server (the weather example's three tools), not the DVMCP ones agora dev runs.
      expect((await gateway.listTools()).map((t) => t.name).sort()).toEqual(['alerts', 'current-weather', 'forecast'])
      const result = await gateway.callTool('current-weather', { city: 'Lima' })
      expect(contentText(result)).toContain('Lima')
    } finally {
      await gateway.close()
    }
    expect(await served.stop()).toBe(0)
  })

  it('agora gateway exposes every announced server over stdio and pays a sats-priced tool from the NWC wallet', async () => {
    const wallet = await nwcWallet(dev.ready.nostr.lightning.userNwc)
    const before = (await wallet.getBalance()).balanceMsat
    const gateway = await connect(
      `stdio:${process.execPath} ${AGORA} gateway --nostr ${dev.ready.nostr.relay} --nwc '${dev.ready.nostr.lightning.userNwc}' --max-per-call 50`,
      { env, timeoutMs: 30_000 },
    )
    clients.push(gateway)
    const tools = (await gateway.listTools()).map((t) => t.name)
    expect(tools).toEqual(expect.arrayContaining(['current-weather', 'forecast', 'alerts', 'test_simple_text']))
    const paid = await gateway.callTool('alerts', { city: 'Oslo' }, { timeoutMs: 30_000 })
    expect(paid.isError).toBeFalsy()
    expect(paid.structuredContent).toMatchObject({ city: 'Oslo', alerts: expect.any(Array) })
    const receipt = paid._meta?.['agora/receipt'] as { paymentHash?: string; amount?: string } | undefined
    expect(receipt?.paymentHash).toMatch(/^[0-9a-f]{64}$/)
    const after = (await wallet.getBalance()).balanceMsat
    expect(Number(before) - Number(after)).toBe(10_000)
    await wallet.close()
  })

  it('agora gateway refuses to pay above its per-call budget', async () => {
    const gateway = await connect(
      `stdio:${process.execPath} ${AGORA} gateway --nostr ${dev.ready.nostr.relay} --tool alerts --nwc '${dev.ready.nostr.lightning.userNwc}' --max-per-call 5`,
      { env, timeoutMs: 30_000 },
    )
    clients.push(gateway)
    expect((await gateway.listTools()).map((t) => t.name)).toContain('alerts')
    const refused = await gateway.callTool('alerts', { city: 'Oslo' }, { timeoutMs: 30_000 }).catch((e: unknown) => e)
    const text = refused instanceof Error ? refused.message : contentText(refused as never)
    expect(text).toMatch(/per-call limit of 5 sats/)
  })

  it('agora bridge puts an npm stdio MCP server on Nostr with a price in front, paid over Lightning', async () => {
    const config = join(dir, 'prices.json')
    writeFileSync(config, JSON.stringify({ name: 'everything-paid', prices: { 'get-sum': '2 sats' } }))
    const bridge = await start<BridgeReady>(
      'node',
      [
        AGORA,
        'bridge',
        '--nostr',
        dev.ready.nostr.relay,
        '--config',
        config,
        '--nwc',
        dev.ready.nostr.lightning.providerNwc,
        '--ledger',
        `sqlite:${join(dir, 'bridge-charges.db')}`,
        '--json',
        '--',
        process.execPath,
        EVERYTHING,
        'stdio',
      ],
      { timeoutMs: 30_000 },
    )
    running.push(bridge)
    expect(bridge.ready).toMatchObject({ name: 'everything-paid', announced: true, lightning: { network: 'lightning:regtest' } })
    expect(bridge.ready.tools).toEqual(expect.arrayContaining(['echo', 'get-sum']))
    const gateway = await connect(
      `stdio:${process.execPath} ${AGORA} gateway --nostr ${dev.ready.nostr.relay} --server everything-paid --nwc '${dev.ready.nostr.lightning.userNwc}'`,
      { env, timeoutMs: 30_000 },
    )
    clients.push(gateway)
    expect(contentText(await gateway.callTool('echo', { message: 'over nostr' }))).toContain('over nostr')
    const sum = await gateway.callTool('get-sum', { a: 20, b: 22 }, { timeoutMs: 30_000 })
    expect(contentText(sum)).toContain('42')
    expect(sum._meta?.['agora/receipt']).toMatchObject({ paymentHash: expect.stringMatching(/^[0-9a-f]{64}$/) })
  })

  it('agora bridge refuses prices without a wallet, and a bad config, with one line', async () => {
    const config = join(dir, 'bad.json')
    writeFileSync(config, JSON.stringify({ prices: { echo: '1 sats' } }))
    const noWallet = await agora(['bridge', '--nostr', dev.ready.nostr.relay, '--config', config, '--', 'true'])
    expect(noWallet.code).toBe(2)
    expect(noWallet.stderr).toMatch(/needs --nwc/)
    writeFileSync(config, '{"pricez": {}}')
    const typo = await agora(['bridge', '--nostr', dev.ready.nostr.relay, '--config', config, '--', 'true'])
    expect(typo.code).toBe(2)
    expect(typo.stderr.trim().split('\n')).toHaveLength(1)
  })
})
