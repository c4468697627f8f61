import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { finalizeEvent, generateSecretKey, type NostrEvent } from 'nostr-tools/pure'
import { afterEach, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { type RelayHandle, retentionOf, startRelay } from '../src/relay/index.ts'

/** A raw relay client, so the relay is tested on the wire and not through a library's retries. */
async function rawClient(url: string) {
  const ws = new WebSocket(url)
  const inbox: unknown[][] = []
  const waiters: (() => void)[] = []
  ws.on('message', (data) => {
    inbox.push(JSON.parse(data.toString()) as unknown[])
    for (const w of waiters.splice(0)) w()
  })
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve())
    ws.once('error', reject)
  })
  const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)))
  async function next(match: (m: unknown[]) => boolean, timeoutMs = 2000): Promise<unknown[]> {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const i = inbox.findIndex(match)
      if (i >= 0) return inbox.splice(i, 1)[0] as unknown[]
      if (Date.now() > deadline) throw new Error(`no matching message; inbox: ${JSON.stringify(inbox)}`)
      await new Promise<void>((resolve) => {
        waiters.push(resolve)
        setTimeout(resolve, 50)
      })
    }
  }
  return {
    ws,
    closed,
    send: (m: unknown) => ws.send(typeof m === 'string' ? m : JSON.stringify(m)),
    next,
    async publish(event: NostrEvent) {
      ws.send(JSON.stringify(['EVENT', event]))
      return (await next((m) => m[0] === 'OK' && m[1] === event.id)) as ['OK', string, boolean, string]
    },
    async query(filter: Record<string, unknown>) {
      const sub = Math.random().toString(36).slice(2)
      ws.send(JSON.stringify(['REQ', sub, filter]))
      const events: NostrEvent[] = []
      for (;;) {
        const m = await next((x) => x[1] === sub)
        if (m[0] === 'EOSE') break
        events.push(m[2] as NostrEvent)
      }
      ws.send(JSON.stringify(['CLOSE', sub]))
      return events
    },
    close: () => ws.close(),
  }
}

const sk = generateSecretKey()
const sign = (kind: number, tags: string[][] = [], content = '', created_at = Math.floor(Date.now() / 1000)) =>
  finalizeEvent({ kind, tags, content, created_at }, sk)

let relays: RelayHandle[] = []
const dirs: string[] = []
afterEach(async () => {
  await Promise.all(relays.map((r) => r.close()))
  relays = []
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
})
async function relay(options: Parameters<typeof startRelay>[0] = {}) {
  const r = await startRelay({ port: 0, ...options })
  relays.push(r)
  return r
}

describe('embedded relay', () => {
  it('classifies kinds as NIP-01 does', () => {
    expect(retentionOf(5910)).toBe('regular')
    expect(retentionOf(6910)).toBe('regular')
    expect(retentionOf(21316)).toBe('ephemeral')
    expect(retentionOf(25910)).toBe('ephemeral')
    expect(retentionOf(31316)).toBe('addressable')
    expect(retentionOf(11316)).toBe('replaceable')
  })

  it('listens on loopback and stores regular events, answering REQ with them then EOSE', async () => {
    const r = await relay()
    expect(r.url).toMatch(/^ws:\/\/127\.0\.0\.1:\d+$/)
    const c = await rawClient(r.url)
    const event = sign(5910, [['method', 'tools/list']], '{"jsonrpc":"2.0","id":1,"method":"tools/list"}')
    const ok = await c.publish(event)
    expect(ok[2]).toBe(true)
    const found = await c.query({ kinds: [5910], '#method': ['tools/list'] })
    expect(found.map((e) => e.id)).toEqual([event.id])
    expect(await c.query({ kinds: [5910], '#method': ['tools/call'] })).toEqual([])
    c.close()
  })

  it('forwards ephemeral events to live subscriptions without storing them', async () => {
    const r = await relay()
    const sub = await rawClient(r.url)
    sub.send(['REQ', 'live', { kinds: [21316] }])
    await sub.next((m) => m[0] === 'EOSE')
    const pub = await rawClient(r.url)
    const event = sign(21316, [['method', 'notifications/progress']])
    expect((await pub.publish(event))[2]).toBe(true)
    const got = await sub.next((m) => m[0] === 'EVENT' && m[1] === 'live')
    expect((got[2] as NostrEvent).id).toBe(event.id)
    expect(await pub.query({ kinds: [21316] })).toEqual([])
    sub.close()
    pub.close()
  })

  it('keeps only the newest addressable event per author, kind and d tag', async () => {
    const r = await relay()
    const c = await rawClient(r.url)
    const now = Math.floor(Date.now() / 1000)
    const older = sign(31316, [['d', 'weather']], 'v1', now - 10)
    const newer = sign(31316, [['d', 'weather']], 'v2', now)
    const other = sign(31316, [['d', 'other']], 'x', now - 20)
    await c.publish(older)
    await c.publish(newer)
    await c.publish(other)
    const stale = await c.publish(sign(31316, [['d', 'weather']], 'v0', now - 100))
    expect(stale[2]).toBe(true) // accepted, but it does not replace the newer one
    const found = await c.query({ kinds: [31316] })
    expect(found.map((e) => e.content).sort()).toEqual(['v2', 'x'])
    c.close()
  })

  it('rejects a forged signature and a tampered id', async () => {
    const r = await relay()
    const c = await rawClient(r.url)
    const good = sign(5910, [], 'hello')
    const forged = { ...good, sig: good.sig.replace(/^./, good.sig[0] === 'a' ? 'b' : 'a') }
    const forgedOk = await c.publish(forged)
    expect(forgedOk[2]).toBe(false)
    const tampered = { ...good, content: 'changed' }
    const tamperedOk = await c.publish(tampered)
    expect(tamperedOk[2]).toBe(false)
    expect(await c.query({ kinds: [5910] })).toEqual([])
    c.close()
  })

  it('answers malformed messages with a NOTICE and keeps the connection', async () => {
    const r = await relay()
    const c = await rawClient(r.url)
    c.send('this is not json')
    expect((await c.next((m) => m[0] === 'NOTICE'))[1]).toMatch(/not JSON/)
    c.send({ not: 'an array' })
    expect((await c.next((m) => m[0] === 'NOTICE'))[1]).toMatch(/JSON array/)
    const ok = await c.publish(sign(1, [], 'still here'))
    expect(ok[2]).toBe(true)
    c.close()
  })

  it('closes a connection that sends a message above the size limit, and serves others', async () => {
    const r = await relay({ maxMessageBytes: 4096 })
    const big = await rawClient(r.url)
    const small = await rawClient(r.url)
    big.send(['EVENT', sign(1, [], 'x'.repeat(8192))])
    expect(await big.closed).toBe(1009)
    expect((await small.publish(sign(1, [], 'fine')))[2]).toBe(true)
    small.close()
  })

  it('applies NIP-09 deletions of the author’s own events', async () => {
    const r = await relay()
    const c = await rawClient(r.url)
    const ann = sign(31317, [['d', 'weather/tools']], '{}')
    const req = sign(5910, [], 'r')
    await c.publish(ann)
    await c.publish(req)
    await c.publish(
      sign(
        5,
        [
          ['e', req.id],
          ['a', `31317:${ann.pubkey}:weather/tools`],
        ],
        'gone',
      ),
    )
    expect(await c.query({ kinds: [5910, 31317] })).toEqual([])
    c.close()
  })

  it('keeps events across restarts with a SQLite file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'agora-relay-'))
    dirs.push(dir)
    const db = join(dir, 'relay.db')
    const first = await startRelay({ port: 0, db })
    const c1 = await rawClient(first.url)
    const now = Math.floor(Date.now() / 1000)
    await c1.publish(sign(31316, [['d', 's']], 'old', now - 5))
    await c1.publish(sign(31316, [['d', 's']], 'new', now))
    const req = sign(5910, [['p', 'ab']], 'stored')
    await c1.publish(req)
    c1.close()
    await first.close()
    const second = await relay({ db })
    expect(second.persistent).toBe(true)
    const c2 = await rawClient(second.url)
    expect((await c2.query({ kinds: [31316] })).map((e) => e.content)).toEqual(['new'])
    expect((await c2.query({ '#p': ['ab'] })).map((e) => e.id)).toEqual([req.id])
    expect(await c2.query({ kinds: [5910], since: now + 60 })).toEqual([])
    c2.close()
  })

  it('drops client connections on demand and accepts new ones', async () => {
    const r = await relay()
    const c = await rawClient(r.url)
    expect(r.connections).toBe(1)
    r.dropConnections()
    await c.closed
    const again = await rawClient(r.url)
    expect((await again.publish(sign(1, [], 'back')))[2]).toBe(true)
    again.close()
  })

  it('reports a file that is not a database clearly', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'agora-relay-'))
    dirs.push(dir)
    const notDb = join(dir, 'notes.txt')
    writeFileSync(notDb, 'just some text, long enough to be read as a header by SQLite\n'.repeat(20))
    await expect(startRelay({ port: 0, db: notDb })).rejects.toMatchObject({
      code: 'CONFIG',
      message: expect.stringContaining(`cannot open the relay database ${notDb}`),
    })
    await expect(startRelay({ port: 0, db: join(notDb, 'relay.db') })).rejects.toMatchObject({ code: 'CONFIG' })
  })

  it('reports a taken port clearly', async () => {
    const r = await relay()
    await expect(startRelay({ port: r.port })).rejects.toThrow(/port is taken/)
  })
})
