import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { finalizeEvent, generateSecretKey } from 'nostr-tools/pure'
import { afterAll, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { AGORA, agora, type Started, start } from './helpers.ts'

interface RelayReady {
  event: 'ready'
  url: string
  port: number
  db: string | null
}

/** Publishes one event and returns the relay's OK verdict, then queries it back by id. */
async function roundTrip(url: string, content: string) {
  const kind = 31316
  const event = finalizeEvent(
    { kind, tags: [['d', 'x']], content, created_at: Math.floor(Date.now() / 1000) },
    generateSecretKey(),
  )
  const ws = new WebSocket(url)
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject))
  const messages: unknown[][] = []
  const got = (pred: (m: unknown[]) => boolean) =>
    new Promise<unknown[]>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timeout; got ${JSON.stringify(messages)}`)), 3000)
      const check = () => {
        const m = messages.find(pred)
        if (m) {
          clearTimeout(timer)
          resolve(m)
        } else setTimeout(check, 20)
      }
      check()
    })
  ws.on('message', (d) => messages.push(JSON.parse(d.toString())))
  ws.send(JSON.stringify(['EVENT', event]))
  const ok = await got((m) => m[0] === 'OK')
  ws.send(JSON.stringify(['REQ', 's', { kinds: [kind] }]))
  await got((m) => m[0] === 'EOSE')
  const found = messages.filter((m) => m[0] === 'EVENT').map((m) => (m[2] as { content: string }).content)
  ws.close()
  return { accepted: ok[2], found }
}

describe('agora relay', () => {
  const dir = mkdtempSync(join(tmpdir(), 'agora-relay-cli-'))
  const running: Started<RelayReady>[] = []
  afterAll(async () => {
    await Promise.all(running.map((r) => r.stop()))
    rmSync(dir, { recursive: true, force: true })
  })

  it('prints a ready line and relays events; --db keeps them across restarts', async () => {
    const db = join(dir, 'nested', 'relay.db')
    const first = await start<RelayReady>('node', [AGORA, 'relay', '--port', '0', '--json', '--db', db])
    running.push(first)
    expect(first.ready).toMatchObject({ event: 'ready', db })
    expect(first.ready.url).toBe(`ws://127.0.0.1:${first.ready.port}`)
    expect(await roundTrip(first.ready.url, 'kept')).toEqual({ accepted: true, found: ['kept'] })
    expect(await first.stop()).toBe(0)

    const second = await start<RelayReady>('node', [AGORA, 'relay', '--port', '0', '--json', '--db', db])
    running.push(second)
    // Another author's announcement joins the one kept from the first run.
    const after = await roundTrip(second.ready.url, 'another')
    expect(after.found.sort()).toEqual(['another', 'kept'])
  })

  it('fails with one line when the port is taken', async () => {
    const holder = await start<RelayReady>('node', [AGORA, 'relay', '--port', '0', '--json'])
    running.push(holder)
    const clash = await agora(['relay', '--port', String(holder.ready.port)])
    expect(clash.code).toBe(1)
    expect(clash.stderr.trim().split('\n')).toHaveLength(1)
    expect(clash.stderr).toMatch(/port is taken.*--port 0/)
  })
})
